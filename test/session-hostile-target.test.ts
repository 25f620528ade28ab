// A target that misbehaves on purpose (test/support/hostile-target) against our initiator over real TCP. For each
// misbehaviour: the command fails with a typed error naming the violation, or recovers, within its timeout;
// nothing lands outside the caller's buffer (guard bytes around it); memory stays bounded.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { Initiator } from '../lib/initiator';
import { ConnectError, ProtocolError } from '../lib/wire/errors';
import { NegotiationError, TextFormatError } from '../lib/protocol/errors';
import { PathError, RedirectLoopError, SessionProtocolError, ShortReadError } from '../lib/session/errors';
import { LunDevice } from '../lib/session/lun-device';
import type { Session } from '../lib/session/session';
import { readCommand, writeCommand } from '../lib/scsi/commands';
import { type BhsInit, encodeBhs } from '../lib/wire/bhs';
import { Opcode, RESERVED_TAG } from '../lib/wire/opcodes';
import { encodeText } from '../lib/protocol/text';
import { HOSTILE_IQN, HostileTarget, type HostileTargetOptions, type HostilePeer } from './support/hostile-target/hostile-target';
import { BLOCK_SIZE, ioRange, pattern } from './support/hostile-target/honest-lu';
import { ScsiOp } from '../lib/scsi/opcodes';

const initiator = new Initiator({ name: 'iqn.2026-01.io.iscsi-mpio.test:hostile-initiator' });
const FAST = { commandTimeoutMs: 1000, loginTimeoutMs: 1000, nopIntervalMs: 1000, nopTimeoutMs: 1000, reconnect: false };
const GUARD = 64;

/** A caller's buffer with guard bytes on both sides: check() fails if anything was written outside it. */
function guarded(length: number): { buffer: Buffer; check: () => void } {
  const whole = Buffer.alloc(length + 2 * GUARD, 0xee);
  whole.fill(0xa5, 0, GUARD);
  whole.fill(0xa5, GUARD + length);
  return {
    buffer: whole.subarray(GUARD, GUARD + length),
    check: () => {
      for (let i = 0; i < GUARD; i++) {
        assert.equal(whole[i], 0xa5, `guard byte ${i} before the buffer was overwritten`);
        assert.equal(whole[GUARD + length + i], 0xa5, `guard byte ${i} after the buffer was overwritten`);
      }
    },
  };
}

const isRead = (c: { bhs: { cdb: Buffer } }) => c.bhs.cdb[0] === ScsiOp.READ_10 || c.bhs.cdb[0] === ScsiOp.READ_16;
const isWrite = (c: { bhs: { cdb: Buffer } }) => c.bhs.cdb[0] === ScsiOp.WRITE_10 || c.bhs.cdb[0] === ScsiOp.WRITE_16;

/** Rejects with `check` true of the error, within `withinMs`. */
async function failsWith(work: Promise<unknown>, withinMs: number, check: (e: unknown) => boolean): Promise<unknown> {
  const started = Date.now();
  const outcome = await work.then((v) => ({ value: v }), (e: unknown) => ({ error: e }));
  const elapsed = Date.now() - started;
  assert.ok('error' in outcome, `expected a failure, the command succeeded: ${JSON.stringify((outcome as { value: unknown }).value)}`);
  assert.ok(check(outcome.error), `unexpected error: ${String((outcome.error as Error)?.stack ?? outcome.error)}`);
  assert.ok(elapsed < withinMs, `failed after ${elapsed} ms, beyond ${withinMs} ms`);
  return outcome.error;
}

/** A PathError ECONNLOST whose cause carries `code` (the violation's name). */
const connectionLostFor = (code: string) => (e: unknown) =>
  e instanceof PathError && e.code === 'ECONNLOST' && (e.cause as { code?: string } | undefined)?.code === code;

describe('initiator against a hostile target', function () {
  this.timeout(20_000);
  let target: HostileTarget | undefined;
  let session: Session | undefined;
  let memoryBefore = 0;
  let host = 1;

  beforeEach(() => { memoryBefore = process.memoryUsage().arrayBuffers; });
  afterEach(async () => {
    await session?.close().catch(() => undefined);
    session = undefined;
    await target?.stop();
    target = undefined;
    // Bounded memory: whatever the peer announced, the initiator held no more than a few staging buffers for it.
    const grown = process.memoryUsage().arrayBuffers - memoryBefore;
    assert.ok(grown < 32 << 20, `external memory grew by ${grown} bytes during the case`);
  });

  /** A target on a fresh address of our range running `script` after an honest login. */
  async function hostile(options: Omit<HostileTargetOptions, 'address'>): Promise<HostileTarget> {
    target = await HostileTarget.start({ address: `127.42.0.${host++}`, ...options });
    return target;
  }

  async function open(t: HostileTarget, extra: Record<string, unknown> = {}): Promise<Session> {
    session = await initiator.openSession({ target: HOSTILE_IQN, portal: t.portal, ...FAST, ...extra });
    return session;
  }

  /** READ of `blocks` blocks at LBA 0 into a guarded buffer. */
  function read(s: Session, blocks = 16) {
    const g = guarded(blocks * BLOCK_SIZE);
    return { ...g, done: s.execute(0, readCommand(0, blocks, BLOCK_SIZE), g.buffer) };
  }

  it('oversized DataSegmentLength: the connection fails at the header, nothing waits for 16 MiB', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        const header = Buffer.alloc(48);
        encodeBhs({ opcode: Opcode.DataIn, final: false, acknowledge: false, overflow: false, underflow: false, hasStatus: false, status: 0, lun: 0,
          itt: command.bhs.itt, ttt: RESERVED_TAG, dataSN: 0, bufferOffset: 0, residualCount: 0, ...peer.window(), dataLength: 0xffffff } as BhsInit, header);
        peer.raw(Buffer.concat([header, randomBytes(4096)]));
        await peer.waitClosed();
      },
    });
    const r = read(await open(t));
    await failsWith(r.done, 500, connectionLostFor('EDATASEGMENTLENGTH'));
    r.check();
  });

  it('Buffer Offset outside the task\'s buffer: refused before a byte is placed', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        peer.dataIn(command, { dataSN: 0, bufferOffset: command.bhs.expectedDataTransferLength - 100 }, Buffer.alloc(512, 0x77));
        await peer.waitClosed();
      },
    });
    const r = read(await open(t));
    await failsWith(r.done, 500, connectionLostFor('EBUFFEROFFSET'));
    r.check();
    assert.ok(!r.buffer.includes(0x77), 'no byte of the misplaced Data-In reached the buffer');
  });

  /** Sends the first 4 KiB segments of a read as `plan` says (DataSN, segment index), the last one with status. */
  function dataInPlan(plan: Array<[dataSN: number, segment: number]>) {
    return async (peer: HostilePeer) => {
      const command = await peer.serveUntil(isRead);
      const { lba } = ioRange(command.bhs.cdb)!;
      plan.forEach(([dataSN, segment], i) => {
        const last = i === plan.length - 1;
        peer.dataIn(command, { dataSN, bufferOffset: segment * 4096, hasStatus: last, final: last }, pattern(lba * BLOCK_SIZE + segment * 4096, 4096));
      });
      await peer.waitClosed();
    };
  }

  it('duplicated Data-In (same DataSN again): the read fails, EDATASN', async () => {
    const t = await hostile({ script: dataInPlan([[0, 0], [0, 0], [1, 1]]) });
    const r = read(await open(t), 32);
    await failsWith(r.done, 500, connectionLostFor('EDATASN'));
    r.check();
  });

  it('missing Data-In (a DataSN skipped): the read fails, EDATASN', async () => {
    const t = await hostile({ script: dataInPlan([[0, 0], [2, 2], [3, 3]]) });
    const r = read(await open(t), 32);
    await failsWith(r.done, 500, connectionLostFor('EDATASN'));
    r.check();
  });

  for (const [what, underflow] of [['claims the missing half as an underflow residual', true], ['says nothing of the missing half', false]] as const) {
    it(`a READ answered GOOD with half its data (the target ${what}): the read fails, ESHORTREAD, nothing claimed as data`, async () => {
      const t = await hostile({
        script: async (peer) => {
          const command = await peer.serveUntil(isRead);
          const half = command.bhs.expectedDataTransferLength / 2;
          const { lba } = ioRange(command.bhs.cdb)!;
          peer.dataIn(command, { dataSN: 0, bufferOffset: 0, hasStatus: true, final: true, underflow, residualCount: underflow ? half : 0 },
            pattern(lba * BLOCK_SIZE, half));
          await peer.serveForever();
        },
      });
      const lu = new LunDevice(await open(t), 0);
      const g = guarded(16 * BLOCK_SIZE);
      let resolved = false;
      await failsWith(lu.read(0, 16, g.buffer).then((b) => { resolved = true; return b; }), 1000,
        (e) => e instanceof ShortReadError && e.expected === 16 * BLOCK_SIZE && e.received === 8 * BLOCK_SIZE);
      assert.equal(resolved, false, 'the caller never got the buffer as data');
      g.check();
    });
  }

  it('out-of-order Data-In (DataSN in order, offsets not): the read fails, EBUFFEROFFSET', async () => {
    const t = await hostile({ script: dataInPlan([[0, 0], [1, 2], [2, 1], [3, 3]]) });
    const r = read(await open(t), 32);
    await failsWith(r.done, 500, connectionLostFor('EBUFFEROFFSET'));
    r.check();
  });

  it('a duplicated segment under a fresh DataSN (the same offset twice): the read fails, EBUFFEROFFSET', async () => {
    const t = await hostile({ script: dataInPlan([[0, 0], [1, 0], [2, 1], [3, 2], [4, 3]]) });
    const r = read(await open(t), 32);
    await failsWith(r.done, 500, connectionLostFor('EBUFFEROFFSET'));
    r.check();
  });

  /** A PathError ECONNLOST for an EUNKNOWNITT that names `itt`. */
  const unknownTag = (itt: number) => (e: unknown) =>
    connectionLostFor('EUNKNOWNITT')(e) && (e as Error).message.includes(`ITT 0x${itt.toString(16)}`);

  it('Data-In with an unknown ITT: the connection ends, EUNKNOWNITT naming the tag, and nothing reaches the read\'s buffer', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        peer.dataIn({ ...command, bhs: { ...command.bhs, itt: 0x5151 } }, { dataSN: 0, bufferOffset: 0 }, Buffer.alloc(4096, 0x77));
        await peer.serve(command);
        await peer.serveForever();
      },
    });
    const r = read(await open(t));
    await failsWith(r.done, 500, unknownTag(0x5151));
    r.check();
    assert.ok(!r.buffer.subarray(0, 4096).equals(Buffer.alloc(4096, 0x77)), 'the stray Data-In did not land in the read\'s buffer');
  });

  it('Data-In with an unknown ITT under multipath: the read is re-driven on a new connection and gets the right bytes', async () => {
    const t = await hostile({
      limits: { defaultTime2Wait: 0 },
      script: async (peer) => {
        if (target!.connections > 1) return peer.serveForever();
        const command = await peer.serveUntil((c) => isRead(c) && c.bhs.expectedDataTransferLength === 64 * 1024);
        peer.dataIn({ ...command, bhs: { ...command.bhs, itt: 0x5151 } }, { dataSN: 0, bufferOffset: 0 }, Buffer.alloc(4096, 0x77));
        await peer.waitClosed();
      },
    });
    const device = await initiator.connect({ target: HOSTILE_IQN, portal: t.portal, lun: 0, ...FAST, reconnect: true, checkIntervalMs: 200 });
    try {
      const g = guarded(64 * 1024);
      await device.read(0, 128, g.buffer);
      g.check();
      assert.deepEqual(g.buffer, pattern(0, 64 * 1024));
      assert.equal(t.connections, 2, 'the read was re-driven on a new connection');
    } finally {
      await device.close();
    }
  });

  it('a SCSI Response for no command: the connection ends, EUNKNOWNITT, and the outstanding read fails with it', async () => {
    const t = await hostile({
      script: async (peer) => {
        await peer.serveUntil(isRead);
        peer.scsiResponse(0x4242, 0);
        await peer.serveForever();
      },
    });
    const r = read(await open(t));
    await failsWith(r.done, 500, unknownTag(0x4242));
    r.check();
  });

  it('a SCSI Response that races our ABORT TASK for its write: dropped with a warning, the session goes on', async () => {
    const t = await hostile({
      script: async (peer) => {
        const write = await peer.serveUntil(isWrite);
        // Held past the command timeout (pings answered); the abort is answered first, the write's response after it.
        let abort = await peer.next(undefined, 5000);
        for (; abort && abort.bhs.opcode !== Opcode.TaskManagementRequest; abort = await peer.next(undefined, 5000)) {
          if (abort.bhs.opcode === Opcode.NopOut && abort.bhs.itt !== RESERVED_TAG) peer.send({ opcode: Opcode.NopIn, lun: 0, itt: abort.bhs.itt, ttt: RESERVED_TAG, ...peer.status() });
        }
        assert.ok(abort, 'the initiator aborted the held write');
        peer.send({ opcode: Opcode.TaskManagementResponse, response: 0, itt: abort.bhs.itt, ...peer.status() });
        await new Promise((r) => setTimeout(r, 50)); // not in the same read: the abort has ended the write by then
        peer.scsiResponse(write.bhs.itt, 0);
        await peer.serveForever();
      },
    });
    const s = await open(t);
    const warnings: Error[] = [];
    s.on('warning', (e: Error) => warnings.push(e));
    await failsWith(s.execute(0, writeCommand(0, 8, BLOCK_SIZE), randomBytes(4096)), 2500, (e) => e instanceof PathError && e.code === 'ETIMEDOUT');
    const r = read(s, 8);
    await r.done;
    r.check();
    assert.deepEqual(r.buffer, pattern(0, r.buffer.length));
    assert.equal(t.connections, 1, 'the same connection carried the read');
    assert.ok(warnings.some((w) => w instanceof SessionProtocolError && w.code === 'EUNKNOWNITT' && /raced the abort/.test(w.message)), 'the late response was reported');
  });

  it('StatSN, ExpCmdSN and MaxCmdSN moving backwards or jumping: stale or invalid updates are ignored, reads complete', async () => {
    const t = await hostile({
      script: async (peer) => {
        for (let round = 0; ; round++) {
          const command = await peer.nextCommand();
          if (!command) return;
          if (!isRead(command)) { await peer.serve(command); continue; }
          const { lba, blocks } = ioRange(command.bhs.cdb)!;
          const now = peer.status();
          // Backwards, a jump of 2^31 (looks backwards in serial arithmetic), and MaxCmdSN below ExpCmdSN - 1.
          const lies = [
            { statSN: (now.statSN - 50) >>> 0, expCmdSN: (now.expCmdSN - 10) >>> 0, maxCmdSN: (now.maxCmdSN - 40) >>> 0 },
            { statSN: (now.statSN + 0x80000000) >>> 0, expCmdSN: (now.expCmdSN + 0x80000000) >>> 0, maxCmdSN: (now.maxCmdSN + 0x80000001) >>> 0 },
            { statSN: (now.statSN + 1000) >>> 0, expCmdSN: now.expCmdSN, maxCmdSN: (now.expCmdSN - 5) >>> 0 },
          ];
          peer.dataIn(command, { dataSN: 0, bufferOffset: 0, hasStatus: true, final: true, ...lies[round % lies.length] }, pattern(lba * BLOCK_SIZE, blocks * BLOCK_SIZE));
        }
      },
    });
    const s = await open(t);
    for (let i = 0; i < 6; i++) {
      const r = read(s, 8);
      await r.done;
      r.check();
      assert.deepEqual(r.buffer, pattern(0, r.buffer.length));
    }
  });

  it('a command window that never opens (MaxCmdSN stuck below): the command times out, ETIMEDOUT', async () => {
    // MaxCmdSN only ever grows at the initiator (RFC 7143 §4.2.2.1), so the window is shut from the final Login
    // Response on: MaxCmdSN = ExpCmdSN - 1, and every later PDU says the same.
    const t = await hostile({
      loginResponse: (pdu, reply) => (reply.outcome === 'established' ? { bhs: { ...pdu.bhs, maxCmdSN: (pdu.bhs.expCmdSN - 1) >>> 0 }, data: pdu.data } : pdu),
      script: async (peer) => {
        const closed = () => ({ ...peer.status(), maxCmdSN: (peer.login.expCmdSN - 1) >>> 0, expCmdSN: peer.login.expCmdSN });
        for (let pdu = await peer.next(undefined, 30_000); pdu; pdu = await peer.next(undefined, 30_000)) {
          if (pdu.bhs.opcode === Opcode.NopOut && pdu.bhs.itt !== RESERVED_TAG) peer.send({ opcode: Opcode.NopIn, lun: 0, itt: pdu.bhs.itt, ttt: RESERVED_TAG, ...closed() });
          assert.notEqual(pdu.bhs.opcode, Opcode.ScsiCommand, 'a command went out past MaxCmdSN');
        }
      },
    });
    const s = await open(t);
    const r = read(s, 8);
    await failsWith(r.done, 2500, (e) => e instanceof PathError && e.code === 'ETIMEDOUT');
    r.check();
  });

  it('an R2T beyond the write\'s length: the write fails, ER2T, and no byte past the buffer is sent', async () => {
    let dataOutBytes = 0;
    const t = await hostile({
      limits: { maxRecvDataSegmentLength: 8192, firstBurstLength: 8192 },
      script: async (peer) => {
        const command = await peer.serveUntil(isWrite);
        peer.send({ opcode: Opcode.R2T, lun: 0, itt: command.bhs.itt, ttt: 7, r2tSN: 0, bufferOffset: 8192,
          desiredDataTransferLength: command.bhs.expectedDataTransferLength, ...peer.window() });
        for (let pdu = await peer.next(); pdu; pdu = await peer.next()) if (pdu.bhs.opcode === Opcode.DataOut) dataOutBytes += pdu.data.length;
      },
    });
    const s = await open(t);
    const g = guarded(64 * 1024);
    await failsWith(s.execute(0, writeCommand(0, 128, BLOCK_SIZE), g.buffer), 500, connectionLostFor('ER2T'));
    g.check();
    await t.stop();
    target = undefined;
    assert.equal(dataOutBytes, 0, 'nothing was sent for the bad R2T');
  });

  it('an R2T for a finished write: the connection ends, EUNKNOWNITT, nothing is sent for it', async () => {
    let lateDataOut = 0;
    let writeItt = 0;
    const t = await hostile({
      script: async (peer) => {
        await peer.serveUntil(isRead); // held, so the violation has a command to fail (and the write a tag of its own)
        const write = await peer.serveUntil(isWrite);
        writeItt = write.bhs.itt;
        await peer.serve(write);
        peer.send({ opcode: Opcode.R2T, lun: 0, itt: write.bhs.itt, ttt: 9, r2tSN: 0, bufferOffset: 0, desiredDataTransferLength: 4096, ...peer.window() });
        lateDataOut = (await peer.next((p) => p.bhs.opcode === Opcode.DataOut && p.bhs.ttt === 9, 1000)) ? 1 : 0;
      },
    });
    const s = await open(t);
    const r = read(s, 8);
    await s.execute(0, writeCommand(0, 8, BLOCK_SIZE), randomBytes(4096));
    await failsWith(r.done, 1500, (e) => unknownTag(writeItt)(e) && /R2T/.test((e as Error).message));
    r.check();
    await t.stop();
    target = undefined;
    assert.equal(lateDataOut, 0);
  });

  // tgtd's LUN RESET and ABORT TASK skip a write still collecting Data-Out: they answer at once, and the write lives
  // on, to complete when its data comes. The initiator must send it nothing more, and must not hand its tag to a new
  // command: the new one would answer the old write's R2T with its own bytes, written to the old write's blocks.
  for (const fn of ['LOGICAL UNIT RESET', 'ABORT TASK (timeout)'] as const) {
    it(`${fn} answered at once while the write it covers still collects Data-Out: no byte is ever sent for the old write`, async () => {
      const isTmf = (p: { bhs: { opcode: number } }) => p.bhs.opcode === Opcode.TaskManagementRequest;
      let oldItt = -1;
      const oldDataOut: string[] = [];
      const t = await hostile({
        limits: { maxRecvDataSegmentLength: 8192, firstBurstLength: 8192, initialR2T: true, immediateData: true },
        script: async (peer) => {
          const a = await peer.serveUntil(isWrite); // held: no R2T yet, as a target busy elsewhere
          oldItt = a.bhs.itt;
          // Pings answered meanwhile: a target busy elsewhere, not a dead one.
          let tmf = await peer.next(undefined, 5000);
          for (; tmf && !isTmf(tmf); tmf = await peer.next(undefined, 5000)) {
            if (tmf.bhs.opcode === Opcode.NopOut && tmf.bhs.itt !== RESERVED_TAG) peer.send({ opcode: Opcode.NopIn, lun: 0, itt: tmf.bhs.itt, ttt: RESERVED_TAG, ...peer.status() });
          }
          if (!tmf) return;
          // An R2T that crosses the request on the wire, then the answer tgtd gives: done (reset) / no such task (abort).
          peer.send({ opcode: Opcode.R2T, lun: 0, itt: a.bhs.itt, ttt: 70, r2tSN: 0, bufferOffset: 8192, desiredDataTransferLength: 8192, ...peer.window() });
          peer.send({ opcode: Opcode.TaskManagementResponse, response: fn === 'ABORT TASK (timeout)' ? 1 : 0, itt: tmf.bhs.itt, ...peer.status() });
          const b = await peer.nextCommand();
          if (!b) return;
          // The old write's R2T again, now that a new write is outstanding.
          peer.send({ opcode: Opcode.R2T, lun: 0, itt: a.bhs.itt, ttt: 71, r2tSN: 1, bufferOffset: 16384, desiredDataTransferLength: 8192, ...peer.window() });
          const dataOut = () => peer.next((p) => p.bhs.opcode === Opcode.DataOut, 300).catch(() => undefined);
          for (let pdu = await dataOut(); pdu; pdu = await dataOut()) {
            const d = pdu.bhs as { itt: number; ttt: number };
            if (d.ttt === 70 || d.ttt === 71 || d.itt === oldItt) oldDataOut.push(`Data-Out ITT 0x${d.itt.toString(16)} TTT ${d.ttt}`);
          }
          await peer.serve(b);
          await peer.serveForever();
        },
      });
      const s = await open(t);
      const a = s.execute(0, writeCommand(0, 64, BLOCK_SIZE), Buffer.alloc(32 * 1024, 0xaa));
      if (fn === 'LOGICAL UNIT RESET') {
        while (oldItt < 0) await new Promise((r) => setTimeout(r, 5));
        assert.equal(await s.lunReset(0), 0);
        await failsWith(a, 1000, (e) => e instanceof PathError && e.code === 'EABORTED');
      } else {
        await failsWith(a, 2500, (e) => e instanceof PathError && e.code === 'ETIMEDOUT');
      }
      await s.execute(0, writeCommand(64, 64, BLOCK_SIZE), Buffer.alloc(32 * 1024, 0xbb));
      assert.deepEqual(oldDataOut, [], 'Data-Out went out for the write the target still holds');
    });
  }

  it('a LOGICAL UNIT RESET the target refuses: the write it covered gets its held R2T answered and completes', async () => {
    const isTmf = (p: { bhs: { opcode: number } }) => p.bhs.opcode === Opcode.TaskManagementRequest;
    let held = -1;
    let dataOutBytes = 0;
    const t = await hostile({
      limits: { maxRecvDataSegmentLength: 8192, firstBurstLength: 8192, initialR2T: true, immediateData: true },
      script: async (peer) => {
        const a = await peer.serveUntil(isWrite);
        held = a.bhs.itt;
        const tmf = (await peer.next(isTmf))!;
        // The R2T crosses the request; the request is then refused ("function not supported").
        peer.send({ opcode: Opcode.R2T, lun: 0, itt: a.bhs.itt, ttt: 80, r2tSN: 0, bufferOffset: 8192, desiredDataTransferLength: 24576, ...peer.window() });
        peer.send({ opcode: Opcode.TaskManagementResponse, response: 5, itt: tmf.bhs.itt, ...peer.status() });
        for (let got = 0; got < 24576;) {
          const out = await peer.next((p) => p.bhs.opcode === Opcode.DataOut && (p.bhs as { ttt: number }).ttt === 80);
          if (!out) return;
          got += out.data.length;
          dataOutBytes += out.data.length;
        }
        peer.scsiResponse(a.bhs.itt, 0);
        await peer.serveForever();
      },
    });
    const s = await open(t);
    const write = s.execute(0, writeCommand(0, 64, BLOCK_SIZE), Buffer.alloc(32 * 1024, 0xcc));
    while (held < 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await s.lunReset(0), 5);
    assert.equal((await write).status, 0, 'the write went on and completed');
    assert.equal(dataOutBytes, 24576, 'the held R2T was answered in full');
  });

  it('a wrong header digest: the read fails, EHEADERDIGEST', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        peer.dataIn(command, { dataSN: 0, bufferOffset: 0, hasStatus: true, final: true }, pattern(0, command.bhs.expectedDataTransferLength), { badHeaderDigest: true });
        await peer.waitClosed();
      },
    });
    const r = read(await open(t, { digests: true }));
    await failsWith(r.done, 500, connectionLostFor('EHEADERDIGEST'));
    r.check();
  });

  /** Corrupts the data digest of the 64 KiB read on the first connection only; honest after. */
  const badDigestOnce = (peer: HostilePeer): Promise<void> => (async () => {
    if (target!.connections > 1) return peer.serveForever();
    const command = await peer.serveUntil((c) => isRead(c) && c.bhs.expectedDataTransferLength === 64 * 1024);
    // Wrong bytes, with a digest that does not match them: placed straight into the buffer, never to count.
    peer.dataIn(command, { dataSN: 0, bufferOffset: 0, hasStatus: true, final: true }, Buffer.alloc(64 * 1024, 0x77), { badDataDigest: true });
    await peer.waitClosed();
  })();

  it('a wrong data digest: the read fails, EDATADIGEST, though the unverified bytes were already placed in its buffer', async () => {
    const t = await hostile({ script: badDigestOnce });
    const r = read(await open(t, { digests: true }), 128);
    await failsWith(r.done, 500, connectionLostFor('EDATADIGEST'));
    r.check();
    assert.ok(r.buffer.includes(0x77), 'the payload went straight into the buffer before its digest was checked: only the failure keeps it from counting');
  });

  it('a wrong data digest under multipath: the re-driven read gets the right bytes', async () => {
    const t = await hostile({ limits: { defaultTime2Wait: 0 }, script: badDigestOnce });
    const device = await initiator.connect({ target: HOSTILE_IQN, portal: t.portal, lun: 0, digests: true, ...FAST, reconnect: true, checkIntervalMs: 200 });
    try {
      const g = guarded(64 * 1024);
      await device.read(0, 128, g.buffer);
      g.check();
      assert.deepEqual(g.buffer, pattern(0, 64 * 1024), 'the re-driven read overwrote every unverified byte');
      assert.equal(t.connections, 2, 'the read was re-driven on a new connection');
    } finally {
      await device.close();
    }
  });

  it('a Data-In carrying the ITT of a WRITE: the write fails, EDATAINDIRECTION, and its buffer is untouched', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isWrite);
        peer.dataIn(command, { dataSN: 0, bufferOffset: 0, hasStatus: true, final: true }, Buffer.alloc(command.bhs.expectedDataTransferLength, 0x66));
        await peer.waitClosed();
      },
    });
    const s = await open(t);
    const g = guarded(4096);
    randomBytes(4096).copy(g.buffer);
    const before = Buffer.from(g.buffer);
    await failsWith(s.execute(0, writeCommand(0, 8, BLOCK_SIZE), g.buffer), 500, connectionLostFor('EDATAINDIRECTION'));
    g.check();
    assert.deepEqual(g.buffer, before, 'the write buffer was not written');
  });

  it('a SCSI Response whose SenseLength runs past its data segment: the command fails, ESENSELENGTH', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        peer.send({ opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: false, overflow: false, underflow: false, response: 0, status: 0x02,
          itt: command.bhs.itt, snackTag: 0, expDataSN: 0, bidiResidualCount: 0, residualCount: 0, ...peer.status() },
        Buffer.concat([Buffer.from([0x01, 0x00]), Buffer.from([0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0])]));
        await peer.waitClosed();
      },
    });
    const r = read(await open(t));
    await failsWith(r.done, 500, connectionLostFor('ESENSELENGTH'));
    r.check();
  });

  it('login responses with contradictory keys (a digest we did not offer): the login fails, ENEGOTIATION', async () => {
    const t = await hostile({
      loginResponse: (pdu, reply) => (reply.outcome === 'established'
        ? { bhs: pdu.bhs, data: Buffer.from(pdu.data.toString('latin1').replace('HeaderDigest=None', 'HeaderDigest=CRC32C'), 'latin1') } : pdu),
    });
    // digests: false, so the answer CRC32C is one we did not offer.
    await failsWith(initiator.openSession({ target: HOSTILE_IQN, portal: t.portal, ...FAST, digests: false }), 1000, (e) => e instanceof NegotiationError && e.code === 'ENEGOTIATION');
  });

  it('login responses with a repeated key: the login fails, ETEXT', async () => {
    const t = await hostile({
      loginResponse: (pdu, reply) => (reply.outcome === 'established'
        ? { bhs: pdu.bhs, data: Buffer.concat([pdu.data, encodeText([['MaxBurstLength', '4096'], ['MaxBurstLength', '8192']])]) } : pdu),
    });
    await failsWith(initiator.openSession({ target: HOSTILE_IQN, portal: t.portal, ...FAST }), 1000, (e) => e instanceof TextFormatError && e.code === 'ETEXT');
  });

  it('endless Text continuation in discovery: SendTargets fails, ETEXTCONTINUATION', async () => {
    let responses = 0;
    const t = await hostile({
      script: async (peer) => {
        for (let pdu = await peer.next(); pdu; pdu = await peer.next()) {
          if (pdu.bhs.opcode !== Opcode.TextRequest) continue;
          responses++;
          peer.send({ opcode: Opcode.TextResponse, final: false, cont: false, lun: 0, itt: pdu.bhs.itt, ttt: 0x77, ...peer.status() });
        }
      },
    });
    await failsWith(initiator.discover(t.portal, { timeoutMs: 1000 }), 1000, (e) => e instanceof SessionProtocolError && e.code === 'ETEXTCONTINUATION');
    assert.ok(responses < 10, `${responses} responses were asked for`);
  });

  it('a redirect to an unreachable address: the login fails with the connect error', async () => {
    const t = await hostile({ redirect: () => ({ address: '127.42.0.250', port: 9, permanent: false }) });
    await failsWith(initiator.openSession({ target: HOSTILE_IQN, portal: t.portal, ...FAST }), 1500, (e) => e instanceof ConnectError && e.code === 'ECONNREFUSED');
  });

  it('a redirect loop: the login fails, EREDIRECTLOOP, naming every address', async () => {
    const a = await hostile({ redirect: () => ({ address: b.address, port: b.port, permanent: false }) });
    const b = await HostileTarget.start({ address: `127.42.0.${host++}`, redirect: () => ({ address: a.address, port: a.port, permanent: false }) });
    try {
      const e = await failsWith(initiator.openSession({ target: HOSTILE_IQN, portal: a.portal, ...FAST }), 1500, (x) => x instanceof RedirectLoopError);
      assert.deepEqual((e as RedirectLoopError).addresses, [a.portal, b.portal, a.portal]);
    } finally {
      await b.stop();
    }
  });

  it('a Logout never answered: close() ends within the logout timeout and says so (ELOGOUTUNANSWERED)', async () => {
    const t = await hostile({ script: (peer) => peer.serveForever({ ignoreLogout: true }) });
    const s = await open(t, { logoutTimeoutMs: 300 });
    const warnings: Error[] = [];
    s.on('warning', (e: Error) => warnings.push(e));
    const r = read(s, 8);
    await r.done;
    const started = Date.now();
    await s.close();
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1000, `close is bounded (took ${elapsed} ms)`);
    assert.ok(warnings.some((w) => (w as SessionProtocolError).code === 'ELOGOUTUNANSWERED'), 'the unanswered logout was reported');
  });

  it('a discovery Logout never answered: the targets still come back, and the unanswered logout is reported', async () => {
    const t = await hostile({
      script: async (peer) => {
        const request = await peer.next((p) => p.bhs.opcode === Opcode.TextRequest);
        if (!request) return;
        peer.send({ opcode: Opcode.TextResponse, final: true, cont: false, lun: 0, itt: request.bhs.itt, ttt: RESERVED_TAG, ...peer.status() },
          encodeText([['TargetName', HOSTILE_IQN], ['TargetAddress', `${t.portal},1`]]));
        await peer.waitClosed(); // the Logout Request goes unanswered
      },
    });
    const warnings: Error[] = [];
    const targets = await initiator.discover(t.portal, { timeoutMs: 500, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(targets.map((x) => x.name), [HOSTILE_IQN]);
    assert.ok(warnings.some((w) => (w as SessionProtocolError).code === 'ELOGOUTUNANSWERED'));
  });

  it('a login at one byte per 100 ms: the login fails, ETIMEDOUT, within its timeout', async () => {
    const t = await hostile({ loginByteIntervalMs: 100 });
    await failsWith(initiator.openSession({ target: HOSTILE_IQN, portal: t.portal, ...FAST }), 1500,
      (e) => e instanceof SessionProtocolError && e.code === 'ETIMEDOUT');
  });

  it('one byte per second: the command fails within its timeout (no PDU arrives, so the busy keepalive or the timeout ends it), not a byte late', async () => {
    let stop = false;
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        const header = Buffer.alloc(48);
        encodeBhs({ opcode: Opcode.DataIn, final: true, acknowledge: false, overflow: false, underflow: false, hasStatus: true, status: 0, lun: 0,
          itt: command.bhs.itt, ttt: RESERVED_TAG, dataSN: 0, bufferOffset: 0, residualCount: 0, ...peer.status(), dataLength: command.bhs.expectedDataTransferLength } as BhsInit, header);
        const bytes = Buffer.concat([header, pattern(0, command.bhs.expectedDataTransferLength)]);
        for (let i = 0; i < bytes.length && !stop && !peer.closed; i++) {
          peer.raw(bytes.subarray(i, i + 1));
          await new Promise((r) => setTimeout(r, 1000));
        }
      },
    });
    try {
      const r = read(await open(t));
      // A byte a second is no PDU: with a command outstanding the busy keepalive (500 ms + 500 ms) gives the
      // connection up even before the 1 s command timeout, and the read fails as a lost connection.
      await failsWith(r.done, 1600, (e) => e instanceof PathError && (e.code === 'ETIMEDOUT' || (e.code === 'ECONNLOST' && /NOP-Out ping unanswered/.test(e.message))));
      r.check();
    } finally {
      stop = true;
    }
  });

  it('a reset mid-PDU: the read fails at once, ECONNLOST', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        const header = Buffer.alloc(48);
        encodeBhs({ opcode: Opcode.DataIn, final: true, acknowledge: false, overflow: false, underflow: false, hasStatus: true, status: 0, lun: 0,
          itt: command.bhs.itt, ttt: RESERVED_TAG, dataSN: 0, bufferOffset: 0, residualCount: 0, ...peer.status(), dataLength: 8192 } as BhsInit, header);
        peer.raw(Buffer.concat([header, pattern(0, 3000)]));
        await new Promise((r) => setTimeout(r, 50));
        peer.socket.resetAndDestroy();
      },
    });
    const r = read(await open(t));
    await failsWith(r.done, 500, (e) => e instanceof PathError && e.code === 'ECONNLOST');
    r.check();
  });

  it('garbage right after the final Login Response: connecting fails with the framing violation, never a session on a dead connection', async () => {
    for (let i = 0; i < 10; i++) {
      const t = await hostile({ script: async (peer) => { peer.raw(randomBytes(64 * 1024)); await peer.waitClosed(); } });
      const e = await failsWith(initiator.connect({ target: HOSTILE_IQN, portal: t.portal, lun: 0, ...FAST }), 1500, (x) => x instanceof PathError && x.code === 'ECONNLOST');
      assert.ok((e as PathError).cause instanceof ProtocolError, `the cause names the violation: ${String((e as PathError).cause)}`);
      await t.stop();
      target = undefined;
    }
  });
});
