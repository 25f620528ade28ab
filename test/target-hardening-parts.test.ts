// The parts of the target's hardening on their own: Data-Out coverage, CDB-sized buffers, the buffer budget, the
// hold queue, the caps' validation and the mode of LU files the target creates.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BufferBudget } from '../lib/target/buffer-budget';
import { CommandHold } from '../lib/target/command-hold';
import { dataOutLength } from '../lib/target/lu/data-out-length';
import { LogicalUnit } from '../lib/target/lu/logical-unit';
import { DEFAULT_TARGET_CAPS, resolveCaps } from '../lib/target/target-options';
import { DataOutError, WriteTask } from '../lib/target/write-task';

const LIMITS = { maxBurstLength: 65536, maxOutstandingR2T: 1, firstBurstLength: 8192 };

describe('target hardening parts', () => {
  it('counts each Data-Out byte once: an overlap or a gap is a DATA PHASE ERROR of the task, never completion', () => {
    const unsolicited = new WriteTask(4096, 0, true, LIMITS);
    unsolicited.dataOut(0xffffffff, 0, 0, 2048, false);
    assert.throws(() => unsolicited.dataOut(0xffffffff, 1, 0, 2048, true), (e: DataOutError) => e.taskOnly && /overlap or gap/.test(e.message));
    assert.equal(unsolicited.received, 2048);
    assert.ok(!unsolicited.complete);

    const gap = new WriteTask(4096, 1024, true, LIMITS);
    assert.throws(() => gap.dataOut(0xffffffff, 0, 2048, 1024, false), (e: DataOutError) => e.taskOnly, 'unsolicited data must follow the immediate data');

    const solicited = new WriteTask(4096, 0, false, LIMITS);
    const [r2t] = solicited.nextR2Ts(() => 7);
    solicited.dataOut(r2t.ttt, 0, 0, 1024, false);
    assert.throws(() => solicited.dataOut(r2t.ttt, 1, 512, 1024, false), (e: DataOutError) => e.taskOnly);
    assert.throws(() => solicited.dataOut(r2t.ttt, 1, 2048, 1024, false), (e: DataOutError) => e.taskOnly, 'a gap inside an R2T');
    solicited.dataOut(r2t.ttt, 1, 1024, 3072, true);
    assert.ok(solicited.complete, 'complete with every byte exactly once');
    assert.equal(solicited.received, 4096);
  });

  it('sizes write buffers from the CDB, never from the Expected Data Transfer Length', () => {
    const cdb = (bytes: number[]) => Buffer.from([...bytes, ...Array(16 - bytes.length).fill(0)]);
    assert.equal(dataOutLength(cdb([0x2a, 0, 0, 0, 0, 0, 0, 0, 8]), 512), 4096, 'WRITE(10) 8 blocks');
    assert.equal(dataOutLength(cdb([0x0a, 0, 0, 0, 0]), 512), 256 * 512, 'WRITE(6) 0 means 256');
    assert.equal(dataOutLength(cdb([0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16]), 4096), 16 * 4096, 'WRITE(16)');
    assert.equal(dataOutLength(cdb([0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]), 512), 2048, 'COMPARE AND WRITE: both halves');
    assert.equal(dataOutLength(cdb([0x41]), 512), 512, 'WRITE SAME(10): one block');
    assert.equal(dataOutLength(cdb([0x93, 0x01]), 512), 0, 'WRITE SAME(16) NDOB: none');
    assert.equal(dataOutLength(cdb([0x42, 0, 0, 0, 0, 0, 0, 0, 24]), 512), 24, 'UNMAP: the parameter list');
    assert.equal(dataOutLength(cdb([0x2f, 0x02, 0, 0, 0, 0, 0, 0, 4]), 512), 2048, 'VERIFY(10) BYTCHK=1');
    assert.equal(dataOutLength(cdb([0x2f, 0x06, 0, 0, 0, 0, 0, 0, 4]), 512), 512, 'VERIFY(10) BYTCHK=3: one block');
    assert.equal(dataOutLength(cdb([0x15]), 512), 0, 'an opcode the LU reads no data for');
    assert.equal(dataOutLength(Buffer.from([0x2a, 0]), 512), 0, 'a CDB too short to tell');
  });

  it('the buffer budget refuses past either cap and gives back exactly what was reserved', () => {
    const budget = new BufferBudget(1000, 600);
    const a = budget.account();
    const b = budget.account();
    assert.ok(a.reserve(500));
    assert.ok(!a.reserve(200), 'over the per-connection cap');
    assert.ok(b.reserve(500));
    assert.ok(!b.reserve(100), 'over the total cap');
    assert.equal(budget.bytes, 1000);
    a.release(500);
    assert.ok(b.reserve(100));
    assert.deepEqual([budget.bytes, budget.peakBytes, a.bytes, b.bytes], [600, 1000, 0, 600]);
  });

  it('the hold queue runs in order at release, skips aborted commands, and holds again from inside a run', () => {
    const hold = new CommandHold();
    const ran: string[] = [];
    const owner = {};
    hold.hold();
    const first = { lun: 1, aborted: false };
    const second = { lun: 2, aborted: false };
    hold.defer({ owner, command: first, run: () => { if (!first.aborted) ran.push('first'); } });
    hold.defer({ owner, run: () => { ran.push('pdu'); hold.hold(); } });
    hold.defer({ owner, command: second, run: () => { if (!second.aborted) ran.push('second'); } });
    assert.equal(hold.heldCommands, 2);
    assert.equal(hold.abortCommands((_, lun) => lun === 1), 1);
    assert.equal(hold.heldCommands, 1);
    hold.release();
    assert.deepEqual(ran, ['pdu'], 'held again by the second item: the rest waits');
    assert.ok(hold.active);
    hold.release();
    assert.deepEqual(ran, ['pdu', 'second']);
    assert.equal(hold.queuedBy(owner), 0);
  });

  it('caps: defaults filled in, nonsense refused', () => {
    assert.deepEqual(resolveCaps(), DEFAULT_TARGET_CAPS);
    assert.equal(resolveCaps({ maxTasksPerConnection: 4 }).maxTasksPerConnection, 4);
    assert.throws(() => resolveCaps({ maxTasksPerConnection: 0 }), RangeError);
    assert.throws(() => resolveCaps({ loginTimeoutMs: 1.5 }), RangeError);
    assert.throws(() => resolveCaps({ bogus: 1 } as never), /unknown target cap/);
  });

  it('creates LU backing files readable by their owner only (0600)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lu-mode-'));
    const previous = process.umask(0o022);
    try {
      const lu = await LogicalUnit.file(path.join(dir, 'lu.img'), { size: 1 << 20 });
      await lu.close();
      assert.equal((await stat(path.join(dir, 'lu.img'))).mode & 0o777, 0o600);
    } finally {
      process.umask(previous);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
