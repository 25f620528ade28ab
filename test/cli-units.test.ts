// Sizes and durations on the command line, through the real CLI against the embedded target: every command takes
// the same sizes (4k, 64KiB, 1.5M, plain bytes) and --timeout takes a duration above zero; anything else is a
// usage error (exit 2) before any I/O.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { Target } from '../lib/target/target';
import { runCli } from './support/cli';

const NET = '127.44.1';

describe('CLI: sizes and durations', function () {
  this.timeout(60_000);
  let target: Target;
  let url: string;

  before(async () => {
    target = await Target.start({ portals: [`${NET}.11:0`], luns: ['4M'], nopInterval: 0 });
    url = target.url(0);
  });
  after(async () => { await target?.stop(); });

  it('read and write take --offset and --length with units (1k, 1.5KiB, 2k)', async () => {
    const data = randomBytes(2048);
    const w = await runCli(['write', url, '--offset', '1k'], { input: data });
    assert.equal(w.code, 0, w.stderr);
    const r = await runCli(['read', url, '--offset', '1.5KiB', '--length', '1k']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout, data.subarray(512, 1536));
    const whole = await runCli(['read', url, '--offset', '1024', '--length', '2k', '--timeout', '5s']);
    assert.equal(whole.code, 0, whole.stderr);
    assert.deepEqual(whole.stdout, data);
  });

  for (const [args, message] of [
    [['read', '--offset', '0', '--length', 'lots'], /--length "lots"/],
    [['read', '--offset', '0.5', '--length', '1k'], /--offset "0.5": not a whole number/],
    [['bench', '--bs', '1.5x', '--time', '1'], /--bs "1.5x"/],
    [['inquiry', '--timeout', 'abc'], /--timeout "abc"/],
    [['inquiry', '--timeout', '0'], /--timeout "0": must be at least 1 ms/],
    [['inquiry', '--timeout=-5'], /--timeout "-5"/],
    [['inquiry', '--login-timeout', '0'], /--login-timeout "0": must be at least 1 ms/],
    [['read', '--length', '1k'], /required option '--offset <size>' not specified/],
  ] as Array<[string[], RegExp]>) {
    it(`${args.join(' ')}: usage error, exit 2, no login`, async () => {
      const before = target.sessions().length;
      const [command, ...rest] = args;
      const r = await runCli([command, url, ...rest]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      // Our errors are one line; commander's own (error: ...) come with the usage text after them.
      if (!r.stderr.startsWith('error:')) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(target.sessions().length, before);
    });
  }

  it('--timeout takes ms and m (s above); inquiry works with each', async () => {
    for (const timeout of ['1500ms', '1m']) {
      const r = await runCli(['inquiry', url, '--timeout', timeout, '--json']);
      assert.equal(r.code, 0, `${timeout}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout.toString()).blocks * 512, 4 << 20);
    }
  });

  it('target --lun takes the same sizes, and refuses a bad one with exit 2', async () => {
    const bad = await runCli(['target', '--portal', `${NET}.12:0`, '--lun', '4 mega']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /size "4 mega"/);
  });
});
