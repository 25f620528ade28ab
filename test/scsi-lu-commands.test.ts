// Target LU commands the initiator does not build (what iscsi-test-cu checks): VERIFY, WRITE SAME, UNMAP,
// READ/WRITE 6 and 12, COMPARE AND WRITE, ORWRITE, PRE-FETCH, GET LBA STATUS, READ DEFECT DATA, short writes,
// REPORT SUPPORTED OPERATION CODES, REQUEST SENSE.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSense, ScsiStatus } from '../lib/scsi';
import { LogicalUnit, SUPPORTED_COMMANDS, type ScsiResult } from '../lib/target/lu';

const cdb = (...bytes: number[]) => { const b = Buffer.alloc(16); b.set(bytes); return b; };
const exec = async (lu: LogicalUnit, c: Buffer, dataOut?: Buffer[], expectedLength?: number): Promise<ScsiResult> =>
  lu.execute({ cdb: c, dataOut, nexus: 'I1', expectedLength });
/** COMPARE AND WRITE of `blocks` blocks at `lba` (16-bit is enough here). */
const caw = (lba: number, blocks: number) => cdb(0x89, 0, 0, 0, 0, 0, 0, 0, lba >> 8, lba & 0xff, 0, 0, 0, blocks, 0, 0);
const senseTriple = (r: ScsiResult) => { const s = parseSense(r.sense!); return [s.senseKey, s.asc, s.ascq]; };
const senseOf = (r: ScsiResult) => parseSense(r.sense!);

describe('target LU: commands beyond the initiator builders', () => {
  let lu: LogicalUnit;
  beforeEach(async () => {
    lu = LogicalUnit.memory(1 << 20);
    await lu.writeAt(0, Buffer.alloc(4 * 512, 0xab));
  });

  it('VERIFY(10) BYTCHK=1 matches, miscompares with the byte offset, BYTCHK=0 checks only the range', async () => {
    const same = Buffer.alloc(2 * 512, 0xab);
    assert.equal((await exec(lu, cdb(0x2f, 0x02, 0, 0, 0, 0, 0, 0, 2, 0), [same])).status, ScsiStatus.GOOD);
    const diff = Buffer.from(same);
    diff[700] = 0;
    const r = await exec(lu, cdb(0x2f, 0x02, 0, 0, 0, 0, 0, 0, 2, 0), [diff]);
    assert.deepEqual([senseOf(r).senseKey, senseOf(r).asc, senseOf(r).information], [0x0e, 0x1d, 700n]);
    assert.equal((await exec(lu, cdb(0x2f, 0, 0, 0, 0, 0, 0, 0, 1, 0))).status, ScsiStatus.GOOD);
    assert.equal(senseOf(await exec(lu, cdb(0x2f, 0, 0, 0, 0x08, 0, 0, 0, 1, 0))).asc, 0x21);
    // BYTCHK=11b compares one block against each block of the range.
    assert.equal((await exec(lu, cdb(0xaf, 0x06, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0), [Buffer.alloc(512, 0xab)])).status, ScsiStatus.GOOD);
  });

  it('WRITE SAME(10/16) fills, NDOB zeroes, out-of-range fails', async () => {
    assert.equal((await exec(lu, cdb(0x41, 0, 0, 0, 0, 10, 0, 0, 3, 0), [Buffer.alloc(512, 0x5a)])).status, ScsiStatus.GOOD);
    assert.deepEqual(await lu.readAt(10 * 512, 3 * 512), Buffer.alloc(3 * 512, 0x5a));
    assert.equal((await exec(lu, cdb(0x93, 0x01, 0, 0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 1, 0, 0))).status, ScsiStatus.GOOD);
    assert.deepEqual((await lu.readAt(11 * 512, 512)).every((b) => b === 0), true);
    assert.equal(senseOf(await exec(lu, cdb(0x41, 0, 0, 0, 0x08, 0, 0, 0, 1, 0), [Buffer.alloc(512)])).asc, 0x21);
    assert.equal(senseOf(await exec(lu, cdb(0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0), [Buffer.alloc(10)])).asc, 0x0e);
  });

  it('UNMAP zeroes the listed ranges and checks them first', async () => {
    const params = Buffer.alloc(24);
    params.writeUInt16BE(22, 0);
    params.writeUInt16BE(16, 2);
    params.writeBigUInt64BE(1n, 8);
    params.writeUInt32BE(2, 16);
    assert.equal((await exec(lu, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), [params])).status, ScsiStatus.GOOD);
    assert.equal((await lu.readAt(512, 1024)).every((b) => b === 0), true);
    assert.equal((await lu.readAt(3 * 512, 512))[0], 0xab);
    params.writeBigUInt64BE(BigInt(lu.blocks), 8);
    assert.equal(senseOf(await exec(lu, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), [params])).asc, 0x21);
  });

  it('READ(6) with 0 meaning 256 blocks, WRITE(12)', async () => {
    const r6 = await exec(lu, cdb(0x08, 0, 0, 0, 0, 0));
    assert.equal(r6.data?.length, 256 * 512);
    assert.equal((await exec(lu, cdb(0xaa, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0), [Buffer.alloc(512, 1)])).status, ScsiStatus.GOOD);
    assert.equal((await lu.readAt(5 * 512, 1))[0], 1);
  });

  it('REPORT SUPPORTED OPERATION CODES: all, one, and the service-action rules', async () => {
    const all = (await exec(lu, cdb(0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0))).data!;
    assert.equal(all.readUInt32BE(0), SUPPORTED_COMMANDS.length * 8);
    const read10 = (await exec(lu, cdb(0xa3, 0x0c, 0x01, 0x28, 0, 0, 0, 0, 0xff, 0xff, 0, 0))).data!;
    assert.deepEqual([read10[1] & 0x07, read10.readUInt16BE(2), read10[4]], [3, 10, 0x28]);
    assert.equal(senseOf(await exec(lu, cdb(0xa3, 0x0c, 0x01, 0x9e, 0, 0x10, 0, 0, 0xff, 0xff, 0, 0))).asc, 0x24);
    const rc16 = (await exec(lu, cdb(0xa3, 0x0c, 0x02, 0x9e, 0, 0x10, 0, 0, 0xff, 0xff, 0, 0))).data!;
    assert.deepEqual([rc16[1] & 0x07, rc16[4]], [3, 0x9e]);
    const none = (await exec(lu, cdb(0xa3, 0x0c, 0x01, 0xc5, 0, 0, 0, 0, 0xff, 0xff, 0, 0))).data!;
    assert.equal(none[1] & 0x07, 1);
  });

  it('REQUEST SENSE returns a pending unit attention and clears it', async () => {
    lu.queueUnitAttention('I1', 0x29, 0x01);
    const r = await exec(lu, cdb(0x03, 0, 0, 0, 18, 0));
    assert.equal(parseSense(r.data!).asc, 0x29);
    assert.equal((await exec(lu, cdb(0x00, 0, 0, 0, 0, 0))).status, ScsiStatus.GOOD);
  });

  it('WRITE SAME(10) with UNMAP and 0 blocks deallocates through the last LBA whatever the Data-Out holds', async () => {
    const last = lu.blocks - 1;
    await lu.writeAt((last - 2) * 512, Buffer.alloc(3 * 512, 0xff));
    const ws10 = (lba: number, flags: number) => cdb(0x41, flags, lba >>> 24, (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, 0, 0, 0);
    assert.equal((await exec(lu, ws10(last - 2, 0x08), [Buffer.alloc(512, 0xff)])).status, ScsiStatus.GOOD);
    assert.ok((await lu.readAt((last - 2) * 512, 3 * 512)).every((b) => b === 0));
    // Without UNMAP the same command writes the pattern through the end.
    assert.equal((await exec(lu, ws10(last - 1, 0), [Buffer.alloc(512, 0x11)])).status, ScsiStatus.GOOD);
    assert.deepEqual(await lu.readAt((last - 2) * 512, 3 * 512), Buffer.concat([Buffer.alloc(512), Buffer.alloc(1024, 0x11)]));
  });

  it('COMPARE AND WRITE writes on a match, miscompares with the offset of the first differing byte and writes nothing', async () => {
    const compare = Buffer.alloc(2 * 512, 0xab);
    const write = Buffer.alloc(2 * 512, 0xcd);
    assert.equal((await exec(lu, caw(0, 2), [compare, write], 4 * 512)).status, ScsiStatus.GOOD);
    assert.deepEqual(await lu.readAt(0, 2 * 512), write);
    const stale = Buffer.alloc(2 * 512, 0xcd);
    stale[700] = 0;
    const r = await exec(lu, caw(0, 2), [stale, Buffer.alloc(2 * 512, 0xee)], 4 * 512);
    assert.deepEqual(senseTriple(r), [0x0e, 0x1d, 0x00]);
    assert.equal(parseSense(r.sense!).information, 700n);
    assert.deepEqual(await lu.readAt(0, 2 * 512), write, 'a miscompare leaves the blocks as they were');
  });

  it('COMPARE AND WRITE refuses lengths the CDB and transfer disagree on, past the limit and past the end', async () => {
    const data = [Buffer.alloc(4 * 512, 0xab)];
    assert.deepEqual(parseSense((await exec(lu, caw(0, 2), data, 3 * 512)).sense!).fieldPointer?.byte, 13);
    // libiscsi sends 256 blocks as NUMBER OF LOGICAL BLOCKS 0 with 256 blocks of Data-Out: invalid, not a no-op.
    assert.deepEqual(senseTriple(await exec(lu, caw(0, 0), data, 4 * 512)), [0x05, 0x24, 0x00]);
    assert.equal((await exec(lu, caw(0, 0), [], 0)).status, ScsiStatus.GOOD);
    const limited = LogicalUnit.memory(1 << 20, { limits: { maximumCompareAndWriteLength: 1 } });
    assert.equal(parseSense((await exec(limited, caw(0, 2), data, 4 * 512)).sense!).fieldPointer?.byte, 13);
    assert.equal((await exec(limited, cdb(0x12, 0x01, 0xb0, 0, 64, 0))).data![5], 1, 'VPD B0 MAXIMUM COMPARE AND WRITE LENGTH');
    assert.equal((await exec(lu, cdb(0x12, 0x01, 0xb0, 0, 64, 0))).data![5], 255);
    assert.deepEqual(senseTriple(await exec(lu, caw(lu.blocks - 1, 2), data, 4 * 512)), [0x05, 0x21, 0x00]);
    const supported = (await exec(lu, cdb(0xa3, 0x0c, 0x01, 0x89, 0, 0, 0, 0, 0xff, 0xff, 0, 0))).data!;
    assert.deepEqual([supported[1] & 0x07, supported.readUInt16BE(2), supported[4]], [3, 16, 0x89]);
  });

  it('COMPARE AND WRITE on a file LU is atomic: a chain of swaps sent at once all succeed, in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'caw-'));
    const file = await LogicalUnit.file(join(dir, 'lu'), { size: 1 << 20 });
    try {
      // Each CAW expects the previous one's write: without the extent lock the later ones read stale blocks.
      const swaps = [0, 1, 2, 3].map((v) => exec(file, caw(5, 1), [Buffer.alloc(512, v), Buffer.alloc(512, v + 1)], 1024));
      const write = exec(file, cdb(0x2a, 0, 0, 0, 0, 5, 0, 0, 1, 0), [Buffer.alloc(512, 9)], 512);
      assert.deepEqual((await Promise.all(swaps)).map((r) => r.status), [0, 0, 0, 0]);
      assert.equal((await write).status, ScsiStatus.GOOD);
      assert.equal((await file.readAt(5 * 512, 512))[0], 9, 'the WRITE queued behind the swaps lands last');
    } finally {
      await file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a write whose EDTL is short of its CDB writes only the whole blocks received', async () => {
    const w10 = cdb(0x2a, 0, 0, 0, 0, 20, 0, 0, 4, 0);
    assert.equal((await exec(lu, w10, [Buffer.alloc(2 * 512, 0x77)], 2 * 512)).status, ScsiStatus.GOOD);
    assert.deepEqual(await lu.readAt(20 * 512, 4 * 512), Buffer.concat([Buffer.alloc(1024, 0x77), Buffer.alloc(1024)]));
    assert.equal((await exec(lu, cdb(0x0a, 0, 0, 30, 3, 0), [Buffer.alloc(700, 0x66)], 700)).status, ScsiStatus.GOOD);
    assert.deepEqual(await lu.readAt(30 * 512, 2 * 512), Buffer.concat([Buffer.alloc(512, 0x66), Buffer.alloc(512)]));
    // The CDB still has to fit the LU, and a Data-Out shorter than the EDTL it claims is still an error.
    assert.equal(senseOf(await exec(lu, cdb(0x2a, 0, 0, 0x0f, 0xff, 0xff, 0, 0, 8, 0), [Buffer.alloc(512)], 512)).asc, 0x21);
    assert.equal(senseOf(await exec(lu, w10, [Buffer.alloc(512)], 2 * 512)).asc, 0x0e);
  });

  it('ORWRITE ORs the Data-Out into the blocks', async () => {
    const or16 = cdb(0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0);
    assert.equal((await exec(lu, or16, [Buffer.alloc(1024, 0x54)], 1024)).status, ScsiStatus.GOOD);
    assert.deepEqual(await lu.readAt(512, 1024), Buffer.concat([Buffer.alloc(512, 0xab | 0x54), Buffer.alloc(512, 0xab | 0x54)]));
    assert.equal(senseOf(await exec(lu, cdb(0x8b, 0x20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0), [Buffer.alloc(1024)], 1024)).asc, 0x24);
  });

  it('PRE-FETCH(10/16) checks the range and answers GOOD', async () => {
    assert.equal((await exec(lu, cdb(0x34, 0x02, 0, 0, 0, 0, 0, 0, 8, 0))).status, ScsiStatus.GOOD);
    assert.equal((await exec(lu, cdb(0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0))).status, ScsiStatus.GOOD);
    assert.equal(senseOf(await exec(lu, cdb(0x34, 0, 0, 0, 0x08, 0, 0, 0, 1, 0))).asc, 0x21);
  });

  it('GET LBA STATUS reports mapped and deallocated runs from the LBA asked for, and refuses one past the end', async () => {
    const unmapList = Buffer.alloc(24);
    unmapList.writeUInt16BE(22, 0);
    unmapList.writeUInt16BE(16, 2);
    unmapList.writeBigUInt64BE(2n, 8);
    unmapList.writeUInt32BE(1, 16);
    assert.equal((await exec(lu, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), [unmapList])).status, ScsiStatus.GOOD);
    const r = await exec(lu, cdb(0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 56, 0, 0));
    const d = r.data!;
    assert.equal(d.readUInt32BE(0), 4 + 3 * 16);
    const desc = (i: number) => [Number(d.readBigUInt64BE(8 + 16 * i)), d.readUInt32BE(16 + 16 * i), d[20 + 16 * i]];
    assert.deepEqual([desc(0), desc(1), desc(2)], [[1, 1, 0], [2, 1, 1], [3, 1, 0]]);
    const short = (await exec(lu, cdb(0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 24, 0, 0))).data!;
    assert.equal(short.length, 24);
    assert.deepEqual([Number(short.readBigUInt64BE(8)), short[20]], [2, 1]);
    const end = BigInt(lu.blocks);
    const beyond = cdb(0x9e, 0x12, ...Array.from({ length: 8 }, (_, i) => Number((end >> BigInt(56 - 8 * i)) & 0xffn)), 0, 0, 0, 24, 0, 0);
    assert.equal(senseOf(await exec(lu, beyond)).asc, 0x21);
  });

  it('READ DEFECT DATA(10/12) reports the asked-for lists valid and empty', async () => {
    assert.deepEqual([...(await exec(lu, cdb(0x37, 0, 0x18, 0, 0, 0, 0, 0, 32, 0))).data!], [0, 0x18, 0, 0]);
    assert.deepEqual([...(await exec(lu, cdb(0xb7, 0x0d, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0))).data!], [0, 0x0d, 0, 0, 0, 0, 0, 0]);
  });
});
