// Response and sense parsers on byte layouts as devices send them (SPC-4, SBC-3).
import { strict as assert } from 'node:assert';
import {
  chooseLuIdentity, parseBlockLimits, parseDeviceIdentification, parseModeSense6, parseCachingPage,
  parseReadCapacity10, parseReadCapacity16, parseReportLuns, parseReportTargetPortGroups, parseSense,
  parseStandardInquiry, parseSupportedVpdPages, parseUnitSerialNumber, ScsiError, ScsiParseError, ScsiStatus,
  targetPortOf,
} from '../lib/scsi';

const bytes = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('scsi sense parsing', () => {
  it('fixed format ILLEGAL REQUEST 21/00 with a field pointer', () => {
    const s = parseSense(bytes('70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c8 00 02'));
    assert.deepEqual([s.format, s.senseKey, s.asc, s.ascq, s.deferred], ['fixed', 5, 0x24, 0, false]);
    assert.deepEqual(s.fieldPointer, { inCdb: true, byte: 2, bit: 0 });
    assert.equal(s.description, 'ILLEGAL REQUEST: invalid field in CDB (24/00)');
  });

  it('fixed format with VALID information (medium error at an LBA), deferred', () => {
    const s = parseSense(bytes('f1 00 03 00 01 e2 40 0a 00 00 00 00 11 00 00 00 00 00'));
    assert.equal(s.deferred, true);
    assert.equal(s.information, 0x1e240n);
    assert.match(s.description, /^deferred MEDIUM ERROR: unrecovered read error \(11\/00\)$/);
  });

  it('descriptor format with information and sense-key-specific descriptors', () => {
    const s = parseSense(bytes('72 05 24 00 00 00 00 14  00 0a 80 00 00 00 00 00 00 12 34 56  02 06 00 00 c0 00 07 00'));
    assert.deepEqual([s.format, s.senseKey, s.asc], ['descriptor', 5, 0x24]);
    assert.equal(s.information, 0x123456n);
    assert.deepEqual(s.fieldPointer, { inCdb: true, byte: 7 });
  });

  it('unit attention texts, including 2A/06 and 3F/0E', () => {
    assert.match(parseSense(bytes('72 06 2a 06 00 00 00 00')).description, /asymmetric access state changed/);
    assert.match(parseSense(bytes('72 06 3f 0e 00 00 00 00')).description, /reported LUNs data has changed/);
    assert.match(parseSense(bytes('72 06 29 07 00 00 00 00')).description, /I_T nexus loss/);
    assert.match(parseSense(bytes('72 06 29 7f 00 00 00 00')).description, /power on or reset occurred \(29\/7f\)/);
  });

  it('rejects garbage with ScsiParseError', () => {
    assert.throws(() => parseSense(Buffer.alloc(0)), ScsiParseError);
    assert.throws(() => parseSense(bytes('00 00 05')), ScsiParseError);
  });
});

describe('ScsiError classification', () => {
  const err = (status: number, sense?: string) => ScsiError.fromResponse(status, sense ? bytes(sense) : undefined, 'READ(10)');
  it('unit attention', () => {
    const e = err(ScsiStatus.CHECK_CONDITION, '70 00 06 00 00 00 00 0a 00 00 00 00 29 00 00 00 00 00');
    assert.equal(e.kind, 'unitAttention');
    assert.equal(e.message, 'READ(10): CHECK CONDITION (UNIT ATTENTION: power on, reset, or bus device reset occurred (29/00))');
    assert.deepEqual([e.senseKey, e.asc, e.ascq], [6, 0x29, 0]);
  });
  it('retryable: BUSY, TASK SET FULL, becoming ready, ALUA transition', () => {
    assert.equal(err(ScsiStatus.BUSY).kind, 'retryable');
    assert.equal(err(ScsiStatus.TASK_SET_FULL).kind, 'retryable');
    assert.equal(err(2, '72 02 04 01 00 00 00 00').kind, 'retryable');
    assert.equal(err(2, '72 02 04 0a 00 00 00 00').kind, 'retryable');
  });
  it('path errors: ALUA standby/unavailable, transport aborts, 25/00', () => {
    assert.equal(err(2, '72 02 04 0b 00 00 00 00').kind, 'pathError');
    assert.equal(err(2, '72 02 04 0c 00 00 00 00').kind, 'pathError');
    assert.equal(err(2, '72 0b 4b 00 00 00 00 00').kind, 'pathError');
    assert.equal(err(2, '72 05 25 00 00 00 00 00').kind, 'pathError');
  });
  it('fatal: LBA out of range, medium error, data protect, reservation conflict', () => {
    const oob = err(2, '70 00 05 00 00 00 00 0a 00 00 00 00 21 00 00 00 00 00');
    assert.equal(oob.kind, 'fatal');
    assert.match(oob.message, /logical block address out of range/);
    assert.equal(err(2, '72 03 11 00 00 00 00 00').kind, 'fatal');
    assert.equal(err(2, '72 07 27 00 00 00 00 00').kind, 'fatal');
    assert.equal(err(ScsiStatus.RESERVATION_CONFLICT).kind, 'fatal');
  });
});

describe('scsi response parsers', () => {
  it('standard INQUIRY (tgtd-like disk with TPGS implicit)', () => {
    const d = Buffer.alloc(66, 0);
    d.set([0x00, 0x00, 0x05, 0x12, 61, 0x10, 0x00, 0x02]);
    d.write('IET     VIRTUAL-DISK    0001', 8, 'latin1');
    d.writeUInt16BE(0x0960, 58);
    d.writeUInt16BE(0x0300, 60);
    const inq = parseStandardInquiry(d);
    assert.deepEqual(
      [inq.peripheralQualifier, inq.peripheralDeviceType, inq.version, inq.responseDataFormat, inq.tpgs, inq.cmdQue, inq.hiSup],
      [0, 0, 5, 2, 'implicit', true, true]);
    assert.deepEqual([inq.vendor, inq.product, inq.revision], ['IET', 'VIRTUAL-DISK', '0001']);
    assert.deepEqual(inq.versionDescriptors, [0x0960, 0x0300]);
    assert.throws(() => parseStandardInquiry(Buffer.alloc(20)), ScsiParseError);
  });

  it('VPD 0x00, 0x80 and a page-code mismatch', () => {
    assert.deepEqual(parseSupportedVpdPages(bytes('00 00 00 04 00 80 83 b0')), [0, 0x80, 0x83, 0xb0]);
    assert.equal(parseUnitSerialNumber(bytes('00 80 00 0a 20 20 62 65 65 66 30 30 31 20')), 'beef001');
    assert.throws(() => parseUnitSerialNumber(bytes('00 83 00 00')), /expected VPD page 0x80/);
  });

  // A multi-designator page as tgtd and LIO send: T10 vendor id, NAA-3, NAA-6, then target port designators.
  const page83 = bytes(`
    00 83 00 64
    02 01 00 10  49 45 54 20 20 20 20 20 30 30 30 31 30 30 30 31
    01 03 00 08  30 00 00 00 00 00 00 01
    01 03 00 10  60 01 40 5a 1b 2c 3d 4e 5f 60 71 82 93 a4 b5 c6
    51 94 00 04  00 00 00 02
    01 15 00 04  00 00 00 07
    53 98 00 1c  69 71 6e 2e 32 30 32 35 2d 30 31 2e 74 65 73 74 2c 74 2c 30 78 30 30 30 32 00 00 00`);

  it('VPD 0x83: every designator decoded', () => {
    const ds = parseDeviceIdentification(page83);
    assert.equal(ds.length, 6);
    assert.deepEqual(ds.map((d) => [d.type, d.association, d.codeSet]), [
      ['t10VendorId', 'logicalUnit', 'ascii'], ['naa', 'logicalUnit', 'binary'], ['naa', 'logicalUnit', 'binary'],
      ['relativeTargetPort', 'targetPort', 'binary'], ['targetPortGroup', 'targetPort', 'binary'],
      ['scsiName', 'targetPort', 'utf8'],
    ]);
    assert.equal(ds[0].value, 'IET     00010001');
    assert.deepEqual([ds[1].naa, ds[2].naa], [3, 6]);
    assert.equal(ds[3].protocolIdentifier, 5);
    assert.equal(ds[5].value, 'iqn.2025-01.test,t,0x0002');
    assert.deepEqual(targetPortOf(ds), { relativeTargetPort: 2, targetPortGroup: 7 });
  });

  it('LU identity ranked and spelled as scsi_id (ID_SERIAL, the WWID multipath -ll shows)', () => {
    const ds = parseDeviceIdentification(page83);
    assert.deepEqual(chooseLuIdentity(ds), { id: '36001405a1b2c3d4e5f60718293a4b5c6', source: 'naa6', designator: ds[2] });
    // Without NAA-6, any other NAA (here NAA-3, tgtd's numeric id) beats the T10 vendor id.
    const noNaa6 = ds.filter((d) => d.naa !== 6);
    assert.deepEqual(chooseLuIdentity(noNaa6)?.source, 'naa3');
    assert.equal(chooseLuIdentity(noNaa6)?.id, '33000000000000001');
    // T10 vendor id: "1" + the text with udev's whitespace runs as one '_' (tgtd's is "IET" padded to 8, then the id).
    assert.equal(chooseLuIdentity(ds.filter((d) => d.type !== 'naa'))?.id, '1IET_00010001');
    assert.equal(chooseLuIdentity(ds.filter((d) => d.type !== 'naa' && d.type !== 't10VendorId'), 'SER1')?.id, 'SER1');
    assert.equal(chooseLuIdentity([]), undefined);
    const eui = parseDeviceIdentification(bytes('00 83 00 18 01 02 00 08 00 11 22 33 44 55 66 77 01 03 00 08 52 00 00 00 00 00 00 09'));
    assert.deepEqual(chooseLuIdentity(eui)?.id, '35200000000000009'); // NAA-5 over EUI-64
    // EUI-64 > T10 vendor id > SCSI name string (LU association), whatever their order on the page.
    const name = '69 71 6e 2e 32 30 32 35 2d 30 31 2e 74 3a 6c 75 31 00 00 00'; // "iqn.2025-01.t:lu1" + NULs
    const page = (...ds: string[]) => {
      const body = bytes(ds.join(' '));
      return Buffer.concat([bytes(`00 83 00 ${body.length.toString(16).padStart(2, '0')}`), body]);
    };
    const sname = `03 08 00 14 ${name}`;
    const t10 = '02 01 00 0c 41 43 4d 45 20 20 20 20 78 2f 31 20'; // "ACME    x/1 "
    const eui64 = '01 02 00 08 00 11 22 33 44 55 66 77';
    assert.equal(chooseLuIdentity(parseDeviceIdentification(page(sname, t10, eui64)))?.id, '20011223344556677');
    assert.equal(chooseLuIdentity(parseDeviceIdentification(page(sname, t10)))?.id, '1ACME_x_1');
    assert.deepEqual(chooseLuIdentity(parseDeviceIdentification(page(sname)), 'SER1')?.id, '8iqn.2025-01.t:lu1');
    // Two "other" NAAs: the first on the page wins, as in scsi_id.
    const naa2 = '01 03 00 08 20 00 00 00 00 00 00 02';
    const naa3 = '01 03 00 08 30 00 00 00 00 00 00 03';
    assert.equal(chooseLuIdentity(parseDeviceIdentification(page(naa3, naa2)))?.id, '33000000000000003');
    assert.equal(chooseLuIdentity(parseDeviceIdentification(page(naa2, naa3)))?.id, '32000000000000002');
  });

  it('VPD 0xB0 block limits', () => {
    const p = Buffer.alloc(64);
    p.set([0x00, 0xb0, 0x00, 0x3c, 0x01]);
    p.writeUInt32BE(2048, 8);
    p.writeUInt32BE(0x80000008, 32);
    p.writeBigUInt64BE(65535n, 36);
    const l = parseBlockLimits(p);
    assert.deepEqual([l.writeSameNonZero, l.maximumTransferLength, l.unmapGranularityAlignment, l.maximumWriteSameLength], [true, 2048, 8, 65535n]);
  });

  it('REPORT LUNS with peripheral and flat LUNs, truncated list', () => {
    const r = parseReportLuns(bytes('00 00 00 18 00 00 00 00  00 00 00 00 00 00 00 00  00 05 00 00 00 00 00 00  41 2c 00 00 00 00 00 00'));
    assert.deepEqual(r.luns.map((l) => [l.lun, l.addressMethod]), [[0, 'peripheral'], [5, 'peripheral'], [300, 'flat']]);
    const t = parseReportLuns(bytes('00 00 00 18 00 00 00 00  00 00 00 00 00 00 00 00'));
    assert.deepEqual([t.luns.length, t.totalLuns, t.requiredLength], [1, 3, 32]);
  });

  it('READ CAPACITY 10 and 16', () => {
    assert.deepEqual(parseReadCapacity10(bytes('00 1f ff ff 00 00 02 00')), { blocks: 0x200000, blockSize: 512, needs16: false });
    assert.equal(parseReadCapacity10(bytes('ff ff ff ff 00 00 10 00')).needs16, true);
    const c = parseReadCapacity16(bytes('00 00 00 01 00 00 00 00 00 00 10 00 00 03 c0 00' + '00'.repeat(16)));
    assert.deepEqual([c.blocks, c.blockSize, c.logicalBlocksPerPhysicalBlockExponent, c.thinProvisioningEnabled, c.unmappedReadsZero],
      [0x100000001, 4096, 3, true, true]);
  });

  it('REPORT TARGET PORT GROUPS: two groups, states, preferred bit, ports', () => {
    const r = parseReportTargetPortGroups(bytes(`
      00 00 00 1c
      80 8f 00 01 00 02 00 02  00 00 00 01 00 00 00 02
      02 0f 00 02 00 00 00 01  00 00 00 03`));
    assert.deepEqual(r.groups.map((g) => [g.id, g.state, g.preferred, g.statusCode, g.relativeTargetPorts]), [
      [1, 'active/optimized', true, 2, [1, 2]], [2, 'standby', false, 0, [3]],
    ]);
    assert.deepEqual(r.groups[0].supportedStates, ['transitioning', 'unavailable', 'standby', 'active/non-optimized', 'active/optimized']);
    assert.equal(r.requiredLength, 32);
    const cut = parseReportTargetPortGroups(bytes('00 00 00 1c 80 8f 00 01 00 02 00 02 00 00 00 01'));
    assert.deepEqual([cut.groups.length, cut.requiredLength], [0, 32]);
  });

  it('MODE SENSE(6) with a block descriptor and the caching page', () => {
    const m = parseModeSense6(bytes('1f 00 10 08  00 00 10 00 00 00 02 00  08 12 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'));
    assert.deepEqual([m.writeProtected, m.dpoFua, m.blockDescriptors], [false, true, [{ blocks: 4096, blockSize: 512 }]]);
    assert.equal(m.pages.length, 1);
    assert.deepEqual(parseCachingPage(m.pages[0]), { writeCacheEnabled: true, readCacheDisabled: false });
  });
});
