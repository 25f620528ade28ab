// CHAP secrets never appear in anything the CLI prints or writes: every command (discover, inquiry, read, write,
// bench --json --svg, netstat, target) runs with known secrets against a target that requires CHAP, given the
// secret each way the CLI takes it (URL, file, $ISCSI_MPIO_CHAP_SECRET, $LIBISCSI_CHAP_PASSWORD), plus failures
// that quote the URL (wrong secret, bad URL, nothing listening). Files holding data are created 0600.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Target } from '../lib/target/target';
import { runCli, startCli, type CliRun } from './support/cli';

const NET = '127.44.2';
const SECRET = 'S3cr3t-never-printed-4711';
const WRONG = 'Wr0ng-also-never-printed-0815';
const TARGET_SECRET = 'T4rget-cli-secret-never-printed';

describe('CLI: CHAP secrets are never printed or written', function () {
  this.timeout(120_000);
  let target: Target;
  let dir: string;
  const seen: Array<{ what: string; text: string }> = [];
  const record = (what: string, r: CliRun) => {
    seen.push({ what: `${what} stdout`, text: r.stdout.toString('latin1') }, { what: `${what} stderr`, text: r.stderr });
    return r;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'iscsi-mpio-secrets-'));
    target = await Target.start({ portals: [`${NET}.11:0`], luns: ['4M'], chap: { user: 'alice', secret: SECRET }, discoveryChap: true, nopInterval: 0 });
  });
  after(async () => {
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const portal = () => `${target.portals[0].address}:${target.portals[0].port}`;
  const url = (credentials: string) => `iscsi://${credentials}@${portal()}/${target.iqn}/1`;

  it('every command with the secret from the URL, a file or the environment', async () => {
    const secretFile = path.join(dir, 'secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const data = randomBytes(8192);

    const discover = record('discover', await runCli(['discover', portal(), '--chap-user', 'alice', '--json'], { env: { ISCSI_MPIO_CHAP_SECRET: SECRET } }));
    assert.equal(discover.code, 0, discover.stderr);
    assert.equal(JSON.parse(discover.stdout.toString())[0].name, target.iqn);

    const inquiry = record('inquiry', await runCli(['inquiry', url(`alice%${SECRET}`), '--json']));
    assert.equal(inquiry.code, 0, inquiry.stderr);

    const write = record('write', await runCli(['write', url('alice'), '--offset', '4k', '--chap-secret-file', secretFile], { input: data }));
    assert.equal(write.code, 0, write.stderr);

    const read = record('read', await runCli(['read', url('alice'), '--offset', '4k', '--length', '8k'], { env: { LIBISCSI_CHAP_PASSWORD: SECRET } }));
    assert.equal(read.code, 0, read.stderr);
    assert.ok(read.stdout.equals(data), 'the bytes read are the bytes written');

    const svg = path.join(dir, 'chart.svg');
    const bench = record('bench', await runCli(['bench', url(`alice%${SECRET}`), '--json', '--svg', svg, '--time', '0.3', '--qd', '2', '--bs', '4k']));
    assert.equal(bench.code, 0, bench.stderr);
    assert.ok(JSON.parse(bench.stdout.toString()).runs.length >= 1);
    const chart = readFileSync(svg, 'utf8');
    seen.push({ what: 'bench SVG', text: chart });
    assert.match(chart, /iscsi-mpio bench iscsi:\/\/alice%\*\*\*@/, 'the chart names the URL with the secret redacted');

    const netstat = record('netstat', await runCli(['netstat', '--iscsi', '--json']));
    assert.equal(netstat.code, 0, netstat.stderr);
  });

  it('failures that quote the URL or the user: wrong secret, malformed URL, nothing listening, no secret at all', async () => {
    const wrong = record('wrong secret', await runCli(['inquiry', url(`alice%${WRONG}`), '--timeout', '5s']));
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /alice/);
    const malformed = record('malformed', await runCli(['inquiry', `iscsi://alice%${SECRET}@${portal()}:99999/${target.iqn}/1`]));
    assert.equal(malformed.code, 2, malformed.stderr);
    assert.match(malformed.stderr, /alice%\*\*\*@/);
    const nobody = record('nothing listening', await runCli(['read', `iscsi://alice%${SECRET}@${NET}.99:3260/${target.iqn}/1`, '--offset', '0', '--length', '1k', '--timeout', '3s']));
    assert.notEqual(nobody.code, 0);
    const missing = record('no secret', await runCli(['inquiry', url('alice')], { env: { ISCSI_MPIO_CHAP_SECRET: '', LIBISCSI_CHAP_PASSWORD: '' } }));
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /no CHAP secret for user "alice"/);
  });

  it('target: the CHAP account as USER:SECRET, from the environment or from a file; a refused login; the LU file 0600', async () => {
    const lunFile = path.join(dir, 'lun.img');
    const secretFile = path.join(dir, 'target-secret');
    writeFileSync(secretFile, `${TARGET_SECRET}\n`, { mode: 0o600 });
    const iqnUser = 'iqn.2024-01.org.example:bob';
    for (const [user, args, env] of [
      ['bob', ['--chap', `bob:${TARGET_SECRET}`], {}],
      ['bob', ['--chap', 'bob'], { ISCSI_MPIO_CHAP_SECRET: TARGET_SECRET }],
      [iqnUser, ['--chap', iqnUser, '--chap-secret-file', secretFile], {}],
    ] as Array<[string, string[], NodeJS.ProcessEnv]>) {
      const cli = startCli(['target', '--portal', `${NET}.20:0`, '--lun', `2M:${lunFile}`, '--json', ...args], env);
      const first = args[1] === `bob:${TARGET_SECRET}`;
      try {
        const summary = await cli.json<{ iqn: string; portals: Array<{ address: string; port: number }> }>();
        const at = `${summary.portals[0].address}:${summary.portals[0].port}/${summary.iqn}/1`;
        if (first) {
          const refused = record('against target, wrong secret', await runCli(['inquiry', `iscsi://bob%${WRONG}@${at}`, '--timeout', '5s']));
          assert.notEqual(refused.code, 0);
        }
        const ok = record(`against target ${args.join(' ')}`, await runCli(['inquiry', `iscsi://${user}@${at}`, '--json'], { env: { ISCSI_MPIO_CHAP_SECRET: TARGET_SECRET } }));
        assert.equal(ok.code, 0, ok.stderr);
      } finally {
        cli.child.kill('SIGTERM');
        assert.equal(await cli.exited, 0, cli.stderr);
      }
      seen.push({ what: `target ${args.join(' ')} stdout`, text: cli.stdout }, { what: `target ${args.join(' ')} stderr`, text: cli.stderr });
      if (first) assert.match(cli.stderr, /login refused/, 'the refused login is reported');
    }
    assert.equal(statSync(lunFile).mode & 0o777, 0o600, 'the LU file holds data: owner only');
  });

  it('nothing any command printed or wrote holds a secret', () => {
    // Runs last (mocha keeps the order), over everything the tests above collected.
    assert.ok(seen.length >= 20, `only ${seen.length} outputs collected`);
    for (const { what, text } of seen) {
      for (const secret of [SECRET, WRONG, TARGET_SECRET]) assert.ok(!text.includes(secret), `${what} prints a CHAP secret:\n${text}`);
    }
  });
});
