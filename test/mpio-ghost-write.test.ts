// The ghost write, the worst thing a block device can do: writes of pattern A reach the array over one path and are
// held there unexecuted by a stalled controller (Target.holdCommands: it queues the member's SCSI commands and
// answers nothing). The path is declared dead and the writes are re-driven on the other path; the application then
// writes pattern B to the same blocks; the controller resumes (releaseCommands). Every block must read back B: the
// initiator may re-drive a write only once the original can no longer execute (lib/mpio/write-fence.ts), which here
// takes a LOGICAL UNIT RESET through the working path, confirmed by the array, that ends the held commands. The same
// holds for UNMAP, which changes the LU as a write does: a held UNMAP run after B would turn B into zeros.
import assert from 'node:assert/strict';
import { Initiator } from '../lib/initiator';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import { Target } from '../lib/target/target';

const NET = `127.48.${process.pid % 250}`;
const IQN = 'iqn.2025-01.dev.iscsi-mpio:ghost';
const BLOCK = 512;
const WRITES = 64;

function pattern(tag: string, lba: number): Buffer {
  const b = Buffer.alloc(BLOCK, tag);
  b.writeUInt32BE(lba, 0);
  return b;
}

describe('mpio: no ghost writes (a stalled controller resumes after the re-drive)', function () {
  this.timeout(60_000);
  let target: Target | undefined;
  let device: MultipathDevice | undefined;

  afterEach(async () => {
    if (target) for (const m of [0, 1]) target.releaseCommands(m);
    await device?.close();
    await target?.stop();
    device = undefined;
    target = undefined;
  });

  /** The target, a device on two paths to its two members, both paths used; returns the member to stall. */
  async function twoPaths(): Promise<number> {
    target = await Target.start({ iqn: IQN, group: `${NET}.10:3260`, portals: [`${NET}.11:3260`, `${NET}.12:3260`], luns: ['16M'] });
    device = await new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:ghost' }).connect({
      target: IQN, portal: `${NET}.10:3260`, lun: 1, policy: 'round-robin',
      paths: [{ sourceAddress: `${NET}.1` }, { sourceAddress: `${NET}.2` }],
    });
    const members = new Set(device.paths.map((p) => p.info().remote.address));
    assert.equal(members.size, 2, 'the two paths landed on the two members');
    const stalled = device.paths[1].info().remote.address === `${NET}.12` ? 1 : 0;

    // Both paths carry I/O before the stall (so what the stalled member holds are the writes themselves).
    await Promise.all(Array.from({ length: 16 }, (_, i) => device!.write(i, pattern('W', i))));
    assert.ok(device.paths.every((p) => p.stats.snapshot().ios > 0), 'both paths carried I/O');
    return stalled;
  }

  it('writes held by a stalled member are fenced before they are re-driven: every block reads back the later pattern', async () => {
    const stalled = await twoPaths();
    target!.holdCommands(stalled);
    const lbas = Array.from({ length: WRITES }, (_, i) => 1000 + i * 8);
    const first = await Promise.allSettled(lbas.map((lba) => device!.write(lba, pattern('A', lba))));
    assert.deepEqual(first.filter((r) => r.status === 'rejected'), [], 'every write of A was acknowledged (re-driven where its path stalled)');
    assert.ok(device!.fenceStats.held > 0, 'some writes of A were held by the stalled member and waited for the fence');

    const second = await Promise.allSettled(lbas.map((lba) => device!.write(lba, pattern('B', lba))));
    assert.deepEqual(second.filter((r) => r.status === 'rejected'), [], 'every write of B was acknowledged');

    const stillHeld = target!.heldCommands(stalled);
    target!.releaseCommands(stalled);
    await new Promise((r) => setTimeout(r, 300)); // whatever the controller still had would run now

    for (const lba of lbas) {
      const back = await device!.read(lba, 1);
      assert.equal(back.subarray(4).toString('latin1'), pattern('B', lba).subarray(4).toString('latin1'), `block ${lba} holds B (held at release: ${stillHeld})`);
    }
  });

  it('UNMAPs held by a stalled member are fenced before they are re-driven: every block reads back the later pattern', async () => {
    const stalled = await twoPaths();
    const lbas = Array.from({ length: WRITES }, (_, i) => 1000 + i * 8);
    await Promise.all(lbas.map((lba) => device!.write(lba, pattern('A', lba))));
    const counted = () => device!.paths.reduce((sum, p) => {
      const s = p.stats.snapshot();
      return { writes: sum.writes + s.writes, others: sum.others + s.others };
    }, { writes: 0, others: 0 });
    const before = counted();
    target!.holdCommands(stalled);
    const unmaps = await Promise.allSettled(lbas.map((lba) => device!.unmap(lba, 1)));
    assert.deepEqual(unmaps.filter((r) => r.status === 'rejected'), [], 'every UNMAP was acknowledged (re-driven where its path stalled)');
    const after = counted();
    assert.equal(after.writes, before.writes, 'an UNMAP is not counted as a write');
    assert.ok(after.others - before.others >= lbas.length, `each UNMAP is counted with the other commands (${after.others - before.others})`);
    assert.ok(device!.fenceStats.held > 0, 'some UNMAPs were held by the stalled member and waited for the fence');
    for (const lba of lbas) assert.ok((await device!.read(lba, 1)).every((b) => b === 0), `block ${lba} reads zeros after its UNMAP`);

    await Promise.all(lbas.map((lba) => device!.write(lba, pattern('B', lba))));
    const stillHeld = target!.heldCommands(stalled);
    target!.releaseCommands(stalled);
    await new Promise((r) => setTimeout(r, 300));
    for (const lba of lbas) {
      const back = await device!.read(lba, 1);
      assert.equal(back.subarray(4).toString('latin1'), pattern('B', lba).subarray(4).toString('latin1'), `block ${lba} holds B (held at release: ${stillHeld})`);
    }
  });
});
