// The two SCSI sides against each other: initiator CDB builders executed by the target's LogicalUnit, the
// responses decoded by the initiator's parsers. No iSCSI in between.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AluaStateCode, chooseLuIdentity, inquiryCommand, modeSense10Command, modeSense6Command, parseBlockLimits,
  parseCachingPage, parseDeviceIdentification, parseLogicalBlockProvisioning, parseModeSense10, parseModeSense6,
  parseReadCapacity10, parseReadCapacity16, parseReportLuns, parseReportTargetPortGroups, parseSense,
  parseStandardInquiry, parseSupportedVpdPages, parseUnitSerialNumber, readCapacity10Command, readCapacity16Command,
  readCommand, reportLunsCommand, reportTargetPortGroupsCommand, ScsiError, ScsiStatus, synchronizeCacheCommand,
  targetPortOf, testUnitReadyCommand, vpdInquiryCommand, writeCommand, write16Command, read16Command, type ScsiCdb,
} from '../lib/scsi';
import { executeWithoutLogicalUnit, LogicalUnit, type PortIdentity, type ScsiResult } from '../lib/target/lu';

const port1: PortIdentity = { relativeTargetPortId: 1, targetPortGroupId: 1, targetPortName: 'iqn.2025-01.test:disk,t,0x0001', targetName: 'iqn.2025-01.test:disk' };
const port2: PortIdentity = { relativeTargetPortId: 2, targetPortGroupId: 2, targetPortName: 'iqn.2025-01.test:disk,t,0x0002', targetName: 'iqn.2025-01.test:disk' };

/** What the session layer does: run a command, throw a ScsiError on non-GOOD status, cut Data-In to EDTL. */
async function run(lu: LogicalUnit, c: ScsiCdb, options: { data?: Buffer[]; nexus?: string; port?: PortIdentity } = {}): Promise<Buffer> {
  const result: ScsiResult = await lu.execute({
    cdb: c.cdb, dataOut: options.data, expectedLength: c.transferLength, nexus: options.nexus ?? 'I1', port: options.port ?? port1,
  });
  if (result.status !== ScsiStatus.GOOD) throw ScsiError.fromResponse(result.status, result.sense, `opcode 0x${c.cdb[0].toString(16)}`);
  const data = result.data ?? Buffer.alloc(0);
  return data.subarray(0, c.transferLength);
}

const pattern = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));

describe('scsi initiator <-> target LU', () => {
  let lu: LogicalUnit;
  beforeEach(() => {
    lu = LogicalUnit.memory(8 << 20, { serial: 'SN0001', companyId: 0x001405, vendorSpecificId: 0x123456789abcdef0123456789n });
  });

  it('INQUIRY: standard data, VPD pages, identity, port designators', async () => {
    const inq = parseStandardInquiry(await run(lu, inquiryCommand()));
    assert.deepEqual([inq.vendor, inq.product, inq.version, inq.tpgs, inq.peripheralDeviceType], ['ISCSIMPI', 'VIRTUAL-DISK', 6, 'implicit', 0]);
    assert.equal(inq.additionalLength, 91);
    assert.deepEqual(parseSupportedVpdPages(await run(lu, vpdInquiryCommand(0x00))), [0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]);
    assert.equal(parseUnitSerialNumber(await run(lu, vpdInquiryCommand(0x80))), 'SN0001');
    const ds1 = parseDeviceIdentification(await run(lu, vpdInquiryCommand(0x83)));
    const ds2 = parseDeviceIdentification(await run(lu, vpdInquiryCommand(0x83), { port: port2 }));
    const id = chooseLuIdentity(ds1);
    assert.deepEqual([id?.source, id?.id], ['naa6', '36001405123456789abcdef0123456789']);
    assert.equal(chooseLuIdentity(ds2)?.id, id?.id); // one LU through two ports
    assert.deepEqual(targetPortOf(ds1), { relativeTargetPort: 1, targetPortGroup: 1 });
    assert.deepEqual(targetPortOf(ds2), { relativeTargetPort: 2, targetPortGroup: 2 });
    assert.ok(ds2.some((d) => d.type === 'scsiName' && d.association === 'targetPort' && d.value === port2.targetPortName));
    const limits = parseBlockLimits(await run(lu, vpdInquiryCommand(0xb0)));
    assert.equal(limits.maximumUnmapBlockDescriptorCount, 256);
    assert.equal(parseLogicalBlockProvisioning(await run(lu, vpdInquiryCommand(0xb2))).unmapSupported, true);
  });

  it('INQUIRY honours a short allocation length', async () => {
    const d = await run(lu, inquiryCommand(36));
    assert.equal(d.length, 36);
    assert.equal(parseStandardInquiry(d).product, 'VIRTUAL-DISK');
  });

  it('READ CAPACITY 10/16 and 4096-byte blocks', async () => {
    assert.deepEqual(parseReadCapacity10(await run(lu, readCapacity10Command())), { blocks: 16384, blockSize: 512, needs16: false });
    const big = LogicalUnit.memory(1 << 20, { blockSize: 4096 });
    const c16 = parseReadCapacity16(await run(big, readCapacity16Command()));
    assert.deepEqual([c16.blocks, c16.blockSize, c16.thinProvisioningEnabled], [256, 4096, true]);
  });

  it('write then read back, 10- and 16-byte CDBs, scatter Data-Out', async () => {
    const data = pattern(8 * 512, 7);
    await run(lu, writeCommand(100, 8, 512, { fua: true }), { data: [data.subarray(0, 1000), data.subarray(1000, 3000), data.subarray(3000)] });
    assert.deepEqual(await run(lu, readCommand(100, 8, 512)), data);
    const tail = lu.blocks - 2;
    const d16 = pattern(1024, 99);
    await run(lu, write16Command(tail, 2, 512), { data: [d16] });
    assert.deepEqual(await run(lu, read16Command(tail, 2, 512)), d16);
    await assert.rejects(run(lu, read16Command(0x100000000, 1, 512)), /out of range/);
  });

  it('memory reads are views of the LU, writes land at byte offsets', async () => {
    await lu.writeAt(512 * 3, [Buffer.from('hello '), Buffer.from('world')]);
    const view = await lu.readAt(512 * 3, 11);
    assert.equal(view.toString(), 'hello world');
    const again = (await lu.execute({ cdb: readCommand(3, 1, 512).cdb, nexus: 'I1' })) as ScsiResult;
    assert.equal(again.data?.buffer, view.buffer); // same memory, no copy
  });

  it('Data-Out received in place through dataOutPlacement/writableRegion', async () => {
    const c = writeCommand(10, 4, 512);
    const placement = lu.dataOutPlacement({ cdb: c.cdb, nexus: 'I1', port: port1 });
    assert.deepEqual(placement, { byteOffset: 5120, length: 2048 });
    const region = lu.writableRegion(placement!.byteOffset, placement!.length)!;
    pattern(2048, 3).copy(region);
    const r = await lu.execute({ cdb: c.cdb, dataOutPlaced: true, nexus: 'I1', port: port1 });
    assert.equal(r.status, ScsiStatus.GOOD);
    assert.deepEqual(await run(lu, readCommand(10, 4, 512)), pattern(2048, 3));
    assert.equal(lu.dataOutPlacement({ cdb: writeCommand(lu.blocks, 1, 512).cdb, nexus: 'I1' }), undefined);
    assert.equal(lu.dataOutPlacement({ cdb: readCommand(0, 1, 512).cdb, nexus: 'I1' }), undefined);
  });

  it('LBA out of range comes back as a readable, fatal ScsiError', async () => {
    await assert.rejects(run(lu, readCommand(lu.blocks - 1, 2, 512)), (e: ScsiError) => {
      assert.equal(e.kind, 'fatal');
      assert.deepEqual([e.senseKey, e.asc, e.ascq], [5, 0x21, 0]);
      assert.match(e.message, /CHECK CONDITION \(ILLEGAL REQUEST: logical block address out of range \(21\/00\)\)/);
      return true;
    });
    await assert.rejects(run(lu, writeCommand(lu.blocks, 0, 512)), /out of range/);
  });

  it('invalid opcode and invalid field carry the field pointer', async () => {
    const bad = await lu.execute({ cdb: Buffer.from([0xc5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), nexus: 'I1' });
    assert.match(parseSense(bad.sense!).description, /invalid command operation code \(20\/00\)/);
    const cdb = vpdInquiryCommand(0x99).cdb;
    const r = await lu.execute({ cdb, nexus: 'I1' });
    const s = parseSense(r.sense!);
    assert.deepEqual([s.asc, s.fieldPointer], [0x24, { inCdb: true, byte: 2 }]);
    const rd = await lu.execute({ cdb: Buffer.from([0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0]), nexus: 'I1' }); // RDPROTECT
    assert.deepEqual(parseSense(rd.sense!).fieldPointer, { inCdb: true, byte: 1, bit: 7 });
  });

  it('REPORT LUNS lists the target inventory', async () => {
    const multi = LogicalUnit.memory(1 << 20, { listLuns: () => [3, 0, 300] });
    const r = parseReportLuns(await run(multi, reportLunsCommand()));
    assert.deepEqual(r.luns.map((l) => l.lun), [0, 3, 300]);
    const absent = executeWithoutLogicalUnit(inquiryCommand().cdb, [0]);
    assert.equal(parseStandardInquiry(absent.data!).peripheralQualifier, 3);
    const ua = executeWithoutLogicalUnit(testUnitReadyCommand().cdb, [0]);
    assert.equal(ScsiError.fromResponse(ua.status, ua.sense).kind, 'pathError');
  });

  it('TEST UNIT READY, SYNCHRONIZE CACHE and MODE SENSE', async () => {
    await run(lu, testUnitReadyCommand());
    await run(lu, synchronizeCacheCommand());
    await assert.rejects(run(lu, synchronizeCacheCommand(lu.blocks + 1, 1)), /out of range/);
    const m6 = parseModeSense6(await run(lu, modeSense6Command({ page: 0x3f })));
    assert.deepEqual(m6.blockDescriptors, [{ blocks: lu.blocks, blockSize: 512 }]);
    assert.deepEqual(m6.pages.map((p) => p.code), [0x01, 0x08, 0x0a, 0x1c]);
    const m10 = parseModeSense10(await run(lu, modeSense10Command({ page: 0x08, disableBlockDescriptors: true })));
    assert.deepEqual([m10.blockDescriptors.length, parseCachingPage(m10.pages[0]).writeCacheEnabled], [0, false]);
    const m10l = parseModeSense10(await run(lu, modeSense10Command({ page: 0x0a, longLba: true })));
    assert.deepEqual(m10l.blockDescriptors, [{ blocks: lu.blocks, blockSize: 512 }]);
    await assert.rejects(run(lu, modeSense6Command({ pageControl: 'saved' })), /saving parameters not supported/);
  });

  it('unit attentions are queued per nexus and reported once', async () => {
    lu.queueUnitAttention('I1', 0x29, 0x00);
    // INQUIRY neither reports nor clears it.
    await run(lu, inquiryCommand());
    await assert.rejects(run(lu, testUnitReadyCommand()), (e: ScsiError) => e.kind === 'unitAttention' && e.asc === 0x29);
    await run(lu, testUnitReadyCommand());
    await run(lu, testUnitReadyCommand(), { nexus: 'I2' });
    lu.queueUnitAttentionForAll(0x3f, 0x0e);
    await run(lu, reportLunsCommand(), { nexus: 'I1' }); // REPORT LUNS clears 3F/0E for its nexus
    await run(lu, testUnitReadyCommand(), { nexus: 'I1' });
    await assert.rejects(run(lu, testUnitReadyCommand(), { nexus: 'I2' }), /reported LUNs data has changed/);
  });

  it('ALUA: RTPG reports the groups, standby ports refuse media access as a path error', async () => {
    await run(lu, testUnitReadyCommand()); // the nexus is known before the state change
    lu.setPortGroups([
      { id: 1, state: AluaStateCode.ACTIVE_OPTIMIZED, preferred: true, relativeTargetPorts: [1] },
      { id: 2, state: AluaStateCode.STANDBY, relativeTargetPorts: [2] },
    ]);
    await assert.rejects(run(lu, testUnitReadyCommand()), /asymmetric access state changed/);
    const groups = parseReportTargetPortGroups(await run(lu, reportTargetPortGroupsCommand()));
    assert.deepEqual(groups.groups.map((g) => [g.id, g.state, g.preferred, g.relativeTargetPorts]), [
      [1, 'active/optimized', true, [1]], [2, 'standby', false, [2]],
    ]);
    const ext = parseReportTargetPortGroups(await run(lu, reportTargetPortGroupsCommand(1024, true)));
    assert.deepEqual([ext.groups.length, ext.implicitTransitionTime], [2, 0]);
    await run(lu, readCommand(0, 1, 512));
    await assert.rejects(run(lu, readCommand(0, 1, 512), { nexus: 'I2', port: port2 }), (e: ScsiError) => {
      assert.equal(e.kind, 'pathError');
      assert.match(e.message, /target port in standby state/);
      return true;
    });
    await run(lu, inquiryCommand(), { nexus: 'I2', port: port2 }); // still answers INQUIRY
    // A short allocation length reports how much the full data needs.
    const short = parseReportTargetPortGroups(await run(lu, reportTargetPortGroupsCommand(16)));
    assert.deepEqual([short.groups.length, short.requiredLength], [1, 28]);
  });

  it('read-only LU refuses writes with DATA PROTECT', async () => {
    const ro = LogicalUnit.memory(1 << 20, { readOnly: true });
    await assert.rejects(run(ro, writeCommand(0, 1, 512), { data: [Buffer.alloc(512)] }), (e: ScsiError) => e.senseKey === 7 && e.asc === 0x27);
    assert.equal(parseModeSense6(await run(ro, modeSense6Command())).writeProtected, true);
  });
});

describe('file-backed LU', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'scsi-lu-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('creates a sparse file, capacity = file size, data survives reopen', async () => {
    const path = join(dir, 'disk.img');
    const lu = await LogicalUnit.file(path, { size: 64 << 20, blockSize: 4096, serial: 'FILE1' });
    try {
      assert.equal((await stat(path)).size, 64 << 20);
      assert.ok((await stat(path)).blocks * 512 < 1 << 20, 'file should be sparse');
      const data = pattern(3 * 4096, 11);
      await run(lu, writeCommand(1000, 3, 4096, { fua: true }), { data: [data] });
      assert.deepEqual(await run(lu, readCommand(1000, 3, 4096)), data);
      await run(lu, synchronizeCacheCommand());
      await assert.rejects(run(lu, readCommand(16384, 1, 4096)), /out of range/);
    } finally {
      await lu.close();
    }
    const reopened = await LogicalUnit.file(path, { blockSize: 4096, serial: 'FILE1' });
    try {
      assert.deepEqual(parseReadCapacity16(await run(reopened, readCapacity16Command())).blocks, 16384);
      assert.deepEqual(await run(reopened, readCommand(1000, 3, 4096)), pattern(3 * 4096, 11));
      assert.equal(parseCachingPage(parseModeSense6(await run(reopened, modeSense6Command({ page: 0x08 }))).pages[0]).writeCacheEnabled, true);
    } finally {
      await reopened.close();
    }
  });

  it('refuses an empty file without a size', async () => {
    const path = join(dir, 'missing.img');
    await assert.rejects(LogicalUnit.file(path), /ENOENT/);
  });
});
