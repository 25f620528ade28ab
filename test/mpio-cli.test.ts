// The CLI over the multipath device: `inquiry` with two --path flags through the group portal prints one device
// with two paths on different member ports (DESIGN.md JSON); `write`/`read` move the same bytes over both paths.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Target } from '../lib/target/target';
import { runCli } from './support/cli';

const NET = `127.${150 + (process.pid % 40)}.${((process.pid >> 3) + 1) % 250}`;
/** The CLI from sources in a child process (test/support/cli.ts). */
const cli = (args: string[], input?: Buffer) => runCli(args, { input });

describe('mpio: CLI inquiry/read/write over several paths', function () {
  this.timeout(60_000);
  let target: Target;

  before(async () => {
    target = await Target.start({ group: `${NET}.10:0`, portals: [`${NET}.11:0`, `${NET}.12:0`], luns: ['8M'], nopInterval: 0 });
  });
  after(async () => { await target?.stop(); });

  it('inquiry --json prints one device with two paths on different member ports, and logs them out', async () => {
    const { stdout, stderr, code } = await cli(['inquiry', target.url('group'), '--path', `${NET}.21`, '--path', `${NET}.22`, '--policy', 'round-robin', '--json']);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout.toString());
    assert.deepEqual(Object.keys(result).filter((k) => k !== 'revision').sort(), ['blockSize', 'blocks', 'id', 'paths', 'policy', 'product', 'serial', 'vendor']);
    assert.equal(result.id, `3${target.luns[0].naa}`);
    assert.equal(result.serial, target.luns[0].serial);
    assert.equal(result.blocks * result.blockSize, 8 << 20);
    assert.equal(result.policy, 'round-robin');
    assert.equal(result.paths.length, 2);
    const group = `${target.group!.address}:${target.group!.port}`;
    for (const [i, p] of result.paths.entries()) {
      // The DESIGN.md keys and the portal the path was sent to, plus the ALUA state where the target reports one.
      assert.deepEqual(Object.keys(p).filter((k) => k !== 'alua').sort(), ['id', 'local', 'portal', 'redirectedFrom', 'remote', 'state']);
      assert.equal(p.portal, group, 'each path was sent to the group portal');
      if ('alua' in p) assert.equal(p.alua, 'active/optimized');
      assert.equal(p.id, i);
      assert.equal(p.local.address, `${NET}.${21 + i}`);
      assert.equal(typeof p.local.port, 'number');
      assert.equal(p.local.device, null);
      assert.equal(p.redirectedFrom, group);
      assert.equal(p.state, 'active');
    }
    assert.notEqual(`${result.paths[0].remote.address}:${result.paths[0].remote.port}`, `${result.paths[1].remote.address}:${result.paths[1].remote.port}`);
    for (let i = 0; i < 50 && target.sessions().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(target.sessions().length, 0, 'both sessions logged out');
  });

  it('inquiry refuses an unknown policy with a clear error and a non-zero exit', async () => {
    const { stderr, code } = await cli(['inquiry', target.url('group'), '--policy', 'fastest']);
    assert.notEqual(code, 0);
    assert.match(stderr, /unknown policy "fastest".*EPOLICY/);
  });

  it('write then read a byte range over two paths round-robin returns the same bytes', async () => {
    const data = randomBytes(3 << 20);
    const paths = ['--path', `${NET}.21`, '--path', `${NET}.22`];
    const w = await cli(['write', target.url('group'), '--offset', '1048576', ...paths], data);
    assert.equal(w.code, 0, w.stderr);
    const r = await cli(['read', target.url('group'), '--offset', String((1 << 20) + 100), '--length', String(data.length - 200), ...paths, '--policy', 'least-queue-depth']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.equals(data.subarray(100, data.length - 100)), 'the bytes read are the bytes written');
  });

  it('writes a range that starts and ends inside blocks without touching the bytes around it', async () => {
    const paths = ['--path', `${NET}.21`, '--path', `${NET}.22`];
    const base = 6 << 20;
    const around = randomBytes(4096);
    assert.equal((await cli(['write', target.url('group'), '--offset', String(base), ...paths], around)).code, 0);
    const data = randomBytes(1000); // bytes 700..1699 of the range: inside block 1, across into block 3
    const w = await cli(['write', target.url('group'), '--offset', String(base + 700), ...paths], data);
    assert.equal(w.code, 0, w.stderr);
    const r = await cli(['read', target.url('group'), '--offset', String(base), '--length', '4096', ...paths]);
    const expected = Buffer.from(around);
    data.copy(expected, 700);
    assert.ok(r.stdout.equals(expected), 'the merged blocks hold the new bytes and keep the old ones around them');
  });
});
