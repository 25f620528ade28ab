// A hard or silent cut leaves the target's end of a dead connection open, with whatever bytes it received but has
// not parsed yet. Session.reinstateOver() logs the dead session in again (its ISID, TSIH 0) over a working path's
// route, and the target must close the old connection before it answers (RFC 7143 §6.3.5). Checked on tgtd, whose
// portals all share portal group 1: the old connection stays ESTABLISHED at tgtd after our end gave up, and is gone
// once the dead session was reinstated over the other path.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Initiator } from '../lib/initiator';
import { PathError } from '../lib/session/errors';
import type { Session } from '../lib/session/session';
import { writeCommand } from '../lib/scsi/commands';
import { LoopbackCuts } from './support/loopback-cut';
import { requireRoot, requireTools } from './support/tools';
import { Tgtd } from './support/tgtd';

const TARGET = 'iqn.2024-01.io.iscsi-mpio.test:reinstate-over';
const PORTALS = ['127.70.0.1', '127.70.0.2'];
const LOCALS = ['127.70.1.1', '127.70.1.2'];

/** tgtd's ESTABLISHED connections from `local` to `portal` (its end of what our dead session left). */
function establishedAtTarget(portal: string, port: number, local: string): number {
  const out = execFileSync('ss', ['-tnH', 'state', 'established', 'src', `${portal}:${port}`, 'dst', local], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

describe('session: reinstating a dead session over another path closes its connection at the target (tgtd)', function () {
  this.timeout(30_000);
  const port = 15200 + (process.pid % 300);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:reinstate-over' });
  let tgtd: Tgtd | undefined;
  let cuts: LoopbackCuts | undefined;
  const sessions: Session[] = [];

  before(function () {
    requireRoot(this, 'cutting a loopback path with nft');
    requireTools(this, 'tgtd', 'tgtadm', 'nft', 'ss');
  });
  after(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    cuts?.destroy();
    await tgtd?.stop();
  });

  it('the old connection stays open at tgtd after a silent cut, and closes when the session is reinstated over the working path', async () => {
    tgtd = await Tgtd.start(PORTALS.map((p) => `${p}:${port}`), [{ name: TARGET, luns: [{ sizeBytes: 16 << 20 }] }]);
    const open = (i: number) => initiator.openSession({
      target: TARGET, portal: `${PORTALS[i]}:${port}`, path: { sourceAddress: LOCALS[i] }, pathId: i, reconnect: false,
      commandTimeoutMs: 10_000, busyNopIntervalMs: 300, busyNopTimeoutMs: 300,
    });
    const [dead, working] = [await open(0), await open(1)];
    sessions.push(dead, working);
    assert.equal(establishedAtTarget(PORTALS[0], port, LOCALS[0]), 1);

    cuts = new LoopbackCuts();
    cuts.cut(LOCALS[0]);
    // A write on the cut path: the busy keepalive gives up on it, and our end is reset (the RST is dropped too).
    const write = dead.execute(1, writeCommand(0, 128, 512), Buffer.alloc(64 * 1024, 0x5a)).then(() => undefined, (e: unknown) => e);
    const error = await write;
    assert.ok(error instanceof PathError && error.code === 'ECONNLOST', `the write failed with the path: ${String(error)}`);
    assert.equal(dead.isFenced(error.indeterminate!.generation), false, 'nothing fenced it yet');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(establishedAtTarget(PORTALS[0], port, LOCALS[0]), 1, 'tgtd still holds the dead connection open');

    assert.equal(await dead.reinstateOver(working.info()), true, 'the login over the working path landed in portal group 1');
    const deadline = Date.now() + 3000;
    while (establishedAtTarget(PORTALS[0], port, LOCALS[0]) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(establishedAtTarget(PORTALS[0], port, LOCALS[0]), 0, 'tgtd closed the dead connection');
    // The working path is untouched.
    await working.execute(1, writeCommand(0, 128, 512), Buffer.alloc(64 * 1024, 0xa5));
  });
});
