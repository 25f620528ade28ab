// AsyncEvent 1 (the target asks for a logout, protocol.md §1.8, §0 item 4, §2): the session stops sending new
// commands on that connection, logs out within Parameter3, logs in again through the ORIGINAL (group) portal so the
// array can move it to another member, and I/O running across the event completes without an application error and
// without losing or corrupting a block. Real sockets, the embedded target with a group portal and two members.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Initiator } from '../lib/initiator';
import type { LunDevice } from '../lib/session/lun-device';
import type { SessionInfo, SessionState } from '../lib/session/session';
import { Target } from '../lib/target/target';
import type { TargetConnection } from '../lib/target/target-connection';
import type { AsyncMessage, Bhs, BhsInit } from '../lib/wire/bhs';
import { Opcode } from '../lib/wire/opcodes';
import type { PduConnection } from '../lib/wire/connection';

const NET = `127.${190 + (process.pid % 40)}.${((process.pid >> 3) + 1) % 250}`;
const BLOCK = 512;

function connectionsOf(target: Target, member: number): TargetConnection[] {
  return [...(target as unknown as { memberPortals: Array<{ connections: Set<TargetConnection> }> }).memberPortals[member].connections]
    .filter((c) => c.outcome);
}

/** The session's current connection (white-box: to watch what it sends). */
function sessionConnection(device: LunDevice): PduConnection {
  return (device.session as unknown as { core: { connection: PduConnection } }).core.connection;
}

interface Worker { errors: unknown[]; written: Map<number, Buffer>; ops: number }

/** Writes fresh random data to its own blocks and reads back ones it wrote, checking each, until `stop()`. */
function runWorker(device: LunDevice, first: number, count: number, shouldStop: () => boolean): { worker: Worker; done: Promise<void> } {
  const worker: Worker = { errors: [], written: new Map(), ops: 0 };
  const done = (async () => {
    let i = 0;
    while (!shouldStop()) {
      const lba = first + (i * 7) % count;
      i++;
      try {
        if (i % 3 !== 0 || worker.written.size === 0) {
          // Up to 16 KiB: beyond the target's 8 KiB MaxRecvDataSegmentLength, so some writes carry unsolicited Data-Out.
          const blocks = 1 + ((i * 5) % 32);
          const data = randomBytes(blocks * BLOCK);
          // Until the write completes the blocks' contents are undefined: forget them meanwhile.
          for (let b = 0; b < blocks; b++) worker.written.delete(lba + b);
          await device.write(lba, data);
          for (let b = 0; b < blocks; b++) worker.written.set(lba + b, data.subarray(b * BLOCK, (b + 1) * BLOCK));
        } else {
          const lbas = [...worker.written.keys()];
          const at = lbas[i % lbas.length];
          const back = await device.read(at, 1);
          assert.deepEqual(back, worker.written.get(at), `block ${at} reads back what was written`);
        }
        worker.ops++;
      } catch (error) {
        worker.errors.push(error);
        return;
      }
    }
  })();
  return { worker, done };
}

describe('session ↔ embedded target: AsyncEvent 1 (logout request) under I/O', function () {
  this.timeout(30_000);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:async-logout' });
  let target: Target;
  let device: LunDevice | undefined;

  beforeEach(async () => {
    target = await Target.start({
      group: `${NET}.10:0`, portals: [`${NET}.11:0`, `${NET}.12:0`], luns: ['16M'], nopInterval: 0,
      // tgtd's segment size: writes above 8 KiB send immediate data, then unsolicited Data-Out.
      limits: { maxRecvDataSegmentLength: 8192 },
    });
  });
  afterEach(async () => {
    await device?.close().catch(() => undefined);
    device = undefined;
    await target.stop();
  });

  it('drains, logs out within Parameter3, logs in again via the group portal onto the other member, and loses no I/O', async () => {
    const group = target.group!;
    device = await initiator.connect({
      target: target.iqn, portal: { address: group.address, port: group.port }, lun: 1, paths: [{ sourceAddress: `${NET}.21` }],
      nopIntervalMs: 60_000,
    });
    const session = device.session;
    const before = session.info();
    assert.deepEqual(before.redirectedFrom, { address: group.address, port: group.port });
    assert.equal(before.local.address, `${NET}.21`, 'the path leaves from its source address');
    const firstMember = target.members.findIndex((m) => m.port === before.landed.port && m.address === before.landed.address);
    assert.ok(firstMember >= 0, 'landed on a member');
    const [oldTargetSide] = connectionsOf(target, firstMember);

    // What the target sees on the old connection, in order, and what the session sends while draining.
    const seen: Array<{ bhs: Bhs; at: number }> = [];
    oldTargetSide.pdu.on('pdu', (pdu: { bhs: Bhs }) => seen.push({ bhs: { ...pdu.bhs }, at: Date.now() }));
    let asyncSentAt = 0;
    let waitingForLogoutRejects = 0;
    const targetSend = oldTargetSide.pdu.send.bind(oldTargetSide.pdu);
    oldTargetSide.pdu.send = (bhs: BhsInit, ...rest: unknown[]) => {
      if (bhs.opcode === Opcode.AsyncMessage) asyncSentAt = Date.now();
      if (bhs.opcode === Opcode.Reject) waitingForLogoutRejects++;
      return (targetSend as (...a: unknown[]) => boolean)(bhs, ...rest);
    };
    const oldConnection = sessionConnection(device);
    const sentWhileDraining: number[] = [];
    const initiatorSend = oldConnection.send.bind(oldConnection);
    oldConnection.send = (bhs: BhsInit, ...rest: unknown[]) => {
      if (session.state !== 'loggedIn') sentWhileDraining.push(bhs.opcode);
      return (initiatorSend as (...a: unknown[]) => boolean)(bhs, ...rest);
    };

    const states: SessionState[] = [];
    session.on('state', (s: SessionState) => states.push(s));
    const asyncEvents: AsyncMessage[] = [];
    session.on('asyncEvent', (m: AsyncMessage) => asyncEvents.push(m));
    const redirects: number[] = [];
    target.on('redirect', (r: { member: number }) => redirects.push(r.member));
    const reconnected = new Promise<SessionInfo>((resolve) => session.once('reconnected', resolve));

    // Eight workers, each on its own 256 blocks, running across the event.
    let stop = false;
    const workers = Array.from({ length: 8 }, (_, w) => runWorker(device!, w * 256, 220, () => stop));
    await new Promise((r) => setTimeout(r, 300));
    const opsBefore = workers.reduce((n, w) => n + w.worker.ops, 0);
    assert.ok(opsBefore > 0, 'I/O is running before the event');

    const within = 4;
    assert.equal(target.requestLogout({ member: firstMember, within, time2Wait: 0 }), 1);
    const info = await reconnected;
    const logoutAt = seen.find((s) => s.bhs.opcode === Opcode.LogoutRequest)?.at;
    // Keep the I/O going on the new connection for a while, then stop and check everything.
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(workers.map((w) => w.done));

    const errors = workers.flatMap((w) => w.worker.errors);
    // Commands that crossed the event on the wire were rejected "waiting for logout" and must have been re-driven.
    console.log(`      (${waitingForLogoutRejects} command(s) rejected "waiting for logout" and re-driven; ${opsBefore} I/Os before the event)`);
    assert.deepEqual(errors.map(String), [], 'no application I/O error across the logout request');
    assert.equal(asyncEvents.length, 1);
    assert.equal(asyncEvents[0].asyncEvent, 1);
    assert.equal(asyncEvents[0].parameter3, within);
    assert.equal(states[0], 'draining', 'the session drains first');
    assert.equal(states.at(-1), 'loggedIn');

    // Logged out on the old connection within Parameter3 seconds of the event.
    assert.ok(asyncSentAt > 0);
    assert.ok(logoutAt !== undefined, 'a Logout Request reached the target on the old connection');
    assert.ok(logoutAt - asyncSentAt <= within * 1000, `logout ${logoutAt - asyncSentAt} ms after the event (limit ${within} s)`);
    // Draining: no new SCSI command (nor its data) on the old connection after the event reached the session.
    assert.ok(!sentWhileDraining.includes(Opcode.ScsiCommand), `sent while draining: ${sentWhileDraining.join(', ')}`);
    assert.ok(sentWhileDraining.includes(Opcode.LogoutRequest));

    // Logged in again through the group portal (one more redirect), landing on the other member.
    assert.equal(redirects.length, 1, 'the re-login went through the group portal');
    assert.deepEqual(info.portal, { address: group.address, port: group.port }, 'home is still the group portal');
    assert.deepEqual(info.redirectedFrom, { address: group.address, port: group.port });
    const secondMember = target.members.findIndex((m) => m.port === info.landed.port && m.address === info.landed.address);
    assert.equal(secondMember, redirects[0]);
    assert.notEqual(secondMember, firstMember, 'the array moved the session to the other member');
    assert.equal(connectionsOf(target, firstMember).length, 0, 'nothing left on the old member');
    assert.equal(connectionsOf(target, secondMember).length, 1);
    assert.equal(info.isid, before.isid, 'same ISID on the new login');
    assert.equal(info.local.address, `${NET}.21`, 'the new connection leaves from the same source address');

    // I/O carried on after the move, and every block reads back as last written.
    const opsAfter = workers.reduce((n, w) => n + w.worker.ops, 0);
    assert.ok(opsAfter > opsBefore, 'I/O continued after the re-login');
    for (const { worker } of workers) {
      for (const [lba, data] of worker.written) assert.deepEqual(await device.read(lba, 1), data, `block ${lba}`);
    }
  });
  // Commands the target holds past the drain budget (Parameter3 - 0.5 s, at most 5 s) are ended by the logout at
  // ERL 0; the session sends them again after the re-login instead of failing the application (protocol.md §0 item 4).
  it('re-drives commands still unanswered when the drain budget ends', async () => {
    const group = target.group!;
    device = await initiator.connect({
      target: target.iqn, portal: { address: group.address, port: group.port }, lun: 1, paths: [{ sourceAddress: `${NET}.22` }],
      nopIntervalMs: 60_000,
    });
    const data = randomBytes(8192);
    await device.write(64, data);
    const member = target.members.findIndex((m) => m.port === device!.session.info().landed.port);
    target.setResponseDelay(2500, member);
    const pending = device.read(64, 16);
    await new Promise((r) => setTimeout(r, 100));
    const reconnected = new Promise<SessionInfo>((resolve) => device!.session.once('reconnected', resolve));
    target.requestLogout({ member, within: 2, time2Wait: 0 });
    assert.deepEqual(await pending, data, 'the read held past the drain budget still completes');
    await reconnected;
  });
});
