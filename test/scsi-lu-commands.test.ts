// Target LU commands the initiator does not build (what iscsi-test-cu checks): VERIFY, WRITE SAME, UNMAP,
// READ/WRITE 6 and 12, REPORT SUPPORTED OPERATION CODES, REQUEST SENSE.
import { strict as assert } from 'node:assert';
import { parseSense, ScsiStatus } from '../lib/scsi';
import { LogicalUnit, SUPPORTED_COMMANDS, type ScsiResult } from '../lib/target/lu';

const cdb = (...bytes: number[]) => { const b = Buffer.alloc(16); b.set(bytes); return b; };
const exec = async (lu: LogicalUnit, c: Buffer, dataOut?: Buffer[]): Promise<ScsiResult> => lu.execute({ cdb: c, dataOut, nexus: 'I1' });
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
});
