// Host-wide ISID claims (lib/protocol/isid-registry.ts): two sessions of one path, in one process or in two, get
// distinct ISIDs; a released or dead claim frees its ISID for the path's next session, which gets the same one as
// before. Then two `iscsi-mpio bench` processes at once against the embedded target and against tgtd: each logs in
// once with its own ISID, neither is reinstated by the other, and both finish without an error.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { deriveIsid, formatIsid, type IsidPathKey } from '../lib/protocol/isid';
import { claimIsid } from '../lib/protocol/isid-registry';
import { Target } from '../lib/target/target';
import { runCli } from './support/cli';
import { requireTools, Tgtd } from './support/tgtd';

const NET = '127.49.0';
const KEY: IsidPathKey = { initiatorName: `iqn.2024-01.test:isid-${process.pid}`, targetName: 'iqn.test:isid', portal: `${NET}.1:3260` };

/** Another process holding `key`'s next claim; resolves with its ISID once claimed. */
function holder(key: IsidPathKey): Promise<{ child: ChildProcess; isid: string }> {
  const registry = path.join(__dirname, '..', 'lib', 'protocol', 'isid-registry.ts');
  const script = `require(${JSON.stringify(registry)}).claimIsid(${JSON.stringify(key)}).then((c) => { process.stdout.write(c.isid.toString('hex') + '\\n'); process.stdin.resume(); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`holder exited with ${code} before claiming`)));
    child.stdout!.once('data', (d: Buffer) => resolve({ child, isid: d.toString().trim() }));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => { child.once('exit', () => resolve()); child.kill('SIGKILL'); });
}

describe('ISID claims: unique on this host, stable per path', function () {
  this.timeout(60_000);

  it('two sessions of one path in one process get distinct ISIDs; a released one comes back to the next session', async () => {
    const a = await claimIsid(KEY);
    const b = await claimIsid(KEY);
    assert.equal(a.qualifier, 0);
    assert.equal(b.qualifier, 1);
    assert.ok(a.isid.equals(deriveIsid(KEY, 0)), 'the first claim is the derived ISID: stable across restarts');
    assert.ok(!a.isid.equals(b.isid));
    a.release();
    const c = await claimIsid(KEY);
    assert.ok(c.isid.equals(a.isid), 'the path gets its ISID back once it is free');
    b.release();
    c.release();
  });

  it('another live process holds the first ISID: we take the next; once it dies (SIGKILL), the first is ours again', async () => {
    const other = await holder(KEY);
    try {
      assert.equal(other.isid, formatIsid(deriveIsid(KEY, 0)));
      const ours = await claimIsid(KEY);
      assert.equal(ours.qualifier, 1);
      ours.release();
    } finally {
      await killed(other.child);
    }
    const after = await claimIsid(KEY);
    assert.equal(after.qualifier, 0, 'the kernel dropped the dead process\'s claim: nothing stale to reclaim');
    after.release();
  });

  /** Runs two bench processes at once through `url`; returns their outcomes. */
  async function twoBenches(url: string) {
    const args = ['bench', url, '--time', '3', '--qd', '4', '--bs', '4k', '--rw', 'write', '--json'];
    return Promise.all([runCli(args), runCli(args)]);
  }

  it('two bench processes against the embedded target: two logins, distinct ISIDs, no reinstatement', async () => {
    const target = await Target.start({ portals: [`${NET}.1:0`], luns: ['8M'], nopInterval: 0 });
    const logins: Array<{ isid: string; tsih: number }> = [];
    const closed: string[] = [];
    target.on('login', (l: { isid: string; tsih: number }) => logins.push(l));
    target.on('session-closed', (s: { isid: string }) => closed.push(s.isid));
    try {
      const p = target.portals[0];
      const runs = await twoBenches(`iscsi://${p.address}:${p.port}/${target.iqn}/1`);
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      assert.equal(logins.length, 2, `one login per process, none again: ${JSON.stringify(logins)}`);
      assert.notEqual(logins[0].isid, logins[1].isid);
      assert.equal(new Set(closed).size, 2, 'each session ended once, at its own logout');
    } finally {
      await target.stop();
    }
  });

  it('two bench processes against tgtd: both sessions stay, neither is reinstated', async function () {
    requireTools(this, 'tgtd', 'tgtadm');
    const iqn = 'iqn.2024-01.test:isid-two-processes';
    const portal = `${NET}.2:3260`;
    const tgtd = await Tgtd.start([portal], [{ name: iqn, luns: [{ sizeBytes: 8 << 20 }] }]);
    try {
      const args = ['bench', `iscsi://${portal}/${iqn}/1`, '--time', '3', '--qd', '4', '--bs', '4k', '--rw', 'write', '--json'];
      let finished = 0;
      const runs = [runCli(args), runCli(args)].map((r) => r.finally(() => { finished++; }));
      // Every I_T nexus tgtd ever lists while they run: a reinstatement ends one and starts a new one.
      const nexuses = new Set<string>();
      let most = 0;
      while (finished === 0) {
        const { stdout } = await tgtd.tgtadm('--lld', 'iscsi', '--op', 'show', '--mode', 'target');
        const now = [...stdout.matchAll(/I_T nexus: (\d+)/g)].map((m) => m[1]);
        for (const n of now) nexuses.add(n);
        most = Math.max(most, now.length);
        await new Promise((r) => setTimeout(r, 50));
      }
      const done = await Promise.all(runs);
      for (const r of done) assert.equal(r.code, 0, r.stderr);
      assert.equal(most, 2, 'both sessions were open at once');
      assert.equal(nexuses.size, 2, `two sessions over the whole run, none replaced: ${[...nexuses].join(', ')}`);
    } finally {
      await tgtd.stop();
    }
  });
});
