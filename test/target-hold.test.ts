// The stalled-controller fault (Target.holdCommands / releaseCommands) over real TCP with raw sessions: a held
// member executes and answers nothing; its commands run at release, survive their connection closing, and are
// aborted for good by a LOGICAL UNIT RESET or CLEAR TASK SET from another member, or by a reinstatement of their
// session (same initiator name and ISID) on another member. What landed on the LU is read from the LU itself.
import { strict as assert } from 'node:assert';
import { Opcode } from '../lib/wire/opcodes';
import { Target } from '../lib/target/target';
import { RawSession, read10, statusOf, write10 } from './support/raw-initiator';

const NET = '127.41.1';
const LOGICAL_UNIT_RESET = 5;
const CLEAR_TASK_SET = 4;

describe('target: stalled controller (holdCommands)', function () {
  this.timeout(20_000);
  let target: Target;
  const sessions: RawSession[] = [];
  const open = async (member: number, isid = '80aabbcc0001', initiatorName = 'iqn.2025-01.test:hold') => {
    const m = target.members[member];
    const s = await RawSession.open(m.address, m.port, target.iqn, { isid: Buffer.from(isid, 'hex'), initiatorName });
    sessions.push(s);
    return s;
  };
  /** The LU's own bytes: whether a write landed, without asking through a member. */
  const onLu = async (lba: number, blocks = 1) => Buffer.from(await target.logicalUnit(1)!.readAt(lba * 512, blocks * 512));

  beforeEach(async () => {
    target = await Target.start({ portals: [`${NET}.1:0`, `${NET}.2:0`], luns: ['4M'], nopInterval: 0 });
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    await target.stop();
  });

  it('holds commands before execution and answers nothing (no response, no NOP-In) until release', async () => {
    const s = await open(0);
    target.holdCommands(0);
    const itt = s.command({ cdb: write10(100, 1), edtl: 512, write: true, data: Buffer.alloc(512, 0xa1) });
    const pinged = s.ping(400);
    assert.deepEqual(await s.peer.within(400), [], 'a stalled member sends nothing');
    assert.equal(await pinged, false, 'not even a NOP-In');
    assert.equal(target.heldCommands(0), 1);
    assert.ok((await onLu(100)).every((b) => b === 0), 'the held write did not touch the LU');

    target.releaseCommands(0);
    const response = await s.response(itt);
    assert.equal(statusOf(response).status, 0, 'the write ran at release: GOOD');
    assert.ok((await onLu(100)).every((b) => b === 0xa1), 'and its data is on the LU');
    assert.ok(await s.ping(), 'the member answers again');
    assert.equal(target.heldCommands(0), 0);
  });

  it('a write whose data needs an R2T waits too: no R2T while held, the data phase and the write after release', async () => {
    const s = await open(0);
    target.holdCommands(0);
    const itt = s.command({ cdb: write10(300, 1), edtl: 512, write: true }); // F=1, no data: needs an R2T
    assert.deepEqual(await s.peer.within(300), [], 'no R2T from a stalled member');
    target.releaseCommands(0);
    const r2t = await s.peer.until((p) => p.bhs.opcode === Opcode.R2T && p.bhs.itt === itt);
    s.dataOut({ itt, ttt: (r2t.bhs as { ttt: number }).ttt, dataSN: 0, offset: 0, data: Buffer.alloc(512, 0xb2), final: true });
    assert.equal(statusOf(await s.response(itt)).status, 0);
    assert.ok((await onLu(300)).every((b) => b === 0xb2));
  });

  it('a held command survives its connection closing and runs at release (the ghost write)', async () => {
    const s = await open(0);
    target.holdCommands(0);
    s.command({ cdb: write10(400, 1), edtl: 512, write: true, data: Buffer.alloc(512, 0xc3) });
    await waitFor(() => target.heldCommands(0) === 1, 'the command to be held');
    s.close();
    await waitFor(() => target.members[0].connections === 0, 'the connection to close');
    assert.ok((await onLu(400)).every((b) => b === 0), 'nothing landed while held');
    target.releaseCommands(0);
    await waitFor(async () => (await onLu(400)).every((b) => b === 0xc3), 'the ghost write to land at release');
  });

  for (const [name, func] of [['LOGICAL UNIT RESET', LOGICAL_UNIT_RESET], ['CLEAR TASK SET', CLEAR_TASK_SET]] as const) {
    it(`a ${name} from another member aborts the held commands of that LU: they never run after release`, async () => {
      const stalled = await open(0);
      const other = await open(1, '80aabbcc0002');
      target.holdCommands(0);
      const itt = stalled.command({ cdb: write10(200, 2), edtl: 1024, write: true, data: Buffer.alloc(1024, 0xd4) });
      await waitFor(() => target.heldCommands(0) === 1, 'the command to be held');
      const tmf = other.taskManagement(func, 1);
      const answer = await other.response(tmf);
      assert.equal((answer.bhs as { response: number }).response, 0, `${name}: function complete, answered while member 0 is still held`);
      assert.equal(target.heldCommands(0), 0, 'the held command is aborted');
      target.releaseCommands(0);
      assert.ok(await stalled.ping(), 'member 0 answers again');
      assert.ok(!(await stalled.peer.within(200)).some((p) => p.bhs.itt === itt), 'no response for the aborted command');
      assert.ok((await onLu(200, 2)).every((b) => b === 0), 'the aborted write never ran');
      // The other nexus, untouched by the TMF, learns of a reset or of its commands being cleared by another initiator.
      const check = stalled.command({ cdb: read10(0, 1), edtl: 512, read: true });
      const sense = statusOf(await stalled.response(check));
      if (func === LOGICAL_UNIT_RESET) assert.deepEqual([sense.key, sense.asc], [0x06, 0x29], 'UNIT ATTENTION: reset occurred');
      else assert.deepEqual([sense.key, sense.asc], [0x06, 0x2f], 'UNIT ATTENTION: commands cleared by another initiator');
    });
  }

  it('a LOGICAL UNIT RESET also aborts held commands whose connection is gone', async () => {
    const stalled = await open(0);
    const other = await open(1, '80aabbcc0002');
    target.holdCommands(0);
    stalled.command({ cdb: write10(500, 1), edtl: 512, write: true, data: Buffer.alloc(512, 0xe5) });
    await waitFor(() => target.heldCommands(0) === 1, 'the command to be held');
    stalled.close();
    await waitFor(() => target.members[0].connections === 0, 'the connection to close');
    await other.response(other.taskManagement(LOGICAL_UNIT_RESET, 1));
    target.releaseCommands(0);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok((await onLu(500)).every((b) => b === 0), 'the aborted ghost write never ran');
  });

  it('a reinstatement of the session (same initiator name and ISID, on another member) aborts its held commands', async () => {
    const stalled = await open(0, '80aabbcc0007', 'iqn.2025-01.test:reinstated');
    // Another session of the same initiator (another ISID): its held command is not part of the reinstated session.
    const bystander = await open(0, '80aabbcc0008', 'iqn.2025-01.test:reinstated');
    target.holdCommands(0);
    stalled.command({ cdb: write10(600, 1), edtl: 512, write: true, data: Buffer.alloc(512, 0xf6) });
    await waitFor(() => target.heldCommands(0) === 1, 'the command to be held');
    bystander.command({ cdb: write10(601, 1), edtl: 512, write: true, data: Buffer.alloc(512, 0x17) });
    await waitFor(() => target.heldCommands(0) === 2, 'both commands to be held');
    const again = await open(1, '80aabbcc0007', 'iqn.2025-01.test:reinstated');
    assert.equal(target.heldCommands(0), 1, 'the reinstated session lost its held command, the other session did not');
    target.releaseCommands(0);
    assert.ok(await again.ping());
    await waitFor(async () => (await onLu(601)).every((b) => b === 0x17), 'the other session\'s write to run');
    assert.ok((await onLu(600)).every((b) => b === 0), 'the reinstated session\'s write never ran');
  });

  it('commands that arrive in order run in order at release', async () => {
    const s = await open(0);
    target.holdCommands(0);
    const itts = [0x11, 0x22, 0x33].map((fill) => s.command({ cdb: write10(700, 1), edtl: 512, write: true, data: Buffer.alloc(512, fill) }));
    await waitFor(() => target.heldCommands(0) === 3, 'three held commands');
    target.releaseCommands(0);
    for (const itt of itts) assert.equal(statusOf(await s.response(itt)).status, 0);
    assert.ok((await onLu(700)).every((b) => b === 0x33), 'the last write is the one that stays');
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
