// CDB builders against the byte layouts SPC-4 / SBC-3 define.
import { strict as assert } from 'node:assert';
import {
  inquiryCommand, modeSense10Command, modeSense6Command, read10Command, readCapacity10Command, readCapacity16Command,
  readCommand, reportLunsCommand, reportTargetPortGroupsCommand, ScsiArgumentError, synchronizeCacheCommand,
  testUnitReadyCommand, vpdInquiryCommand, writeCommand,
} from '../lib/scsi';

const hex = (b: Buffer) => b.toString('hex').replace(/(..)(?!$)/g, '$1 ');

describe('scsi CDB builders', () => {
  it('TEST UNIT READY is six zero bytes with no data phase', () => {
    const c = testUnitReadyCommand();
    assert.equal(hex(c.cdb), '00 00 00 00 00 00');
    assert.deepEqual([c.direction, c.transferLength], ['none', 0]);
  });

  it('INQUIRY standard and VPD pages', () => {
    assert.equal(hex(inquiryCommand(96).cdb), '12 00 00 00 60 00');
    const vpd = vpdInquiryCommand(0x83, 255);
    assert.equal(hex(vpd.cdb), '12 01 83 00 ff 00');
    assert.deepEqual([vpd.direction, vpd.transferLength], ['read', 255]);
    assert.equal(hex(vpdInquiryCommand(0x80, 0x1000).cdb), '12 01 80 10 00 00');
  });

  it('REPORT LUNS and READ CAPACITY', () => {
    assert.equal(hex(reportLunsCommand(4096).cdb), 'a0 00 00 00 00 00 00 00 10 00 00 00');
    assert.equal(hex(readCapacity10Command().cdb), '25 00 00 00 00 00 00 00 00 00');
    assert.equal(readCapacity10Command().transferLength, 8);
    assert.equal(hex(readCapacity16Command().cdb), '9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00');
  });

  it('REPORT TARGET PORT GROUPS is MAINTENANCE IN 0x0a with a 32-bit allocation length', () => {
    assert.equal(hex(reportTargetPortGroupsCommand(1024).cdb), 'a3 0a 00 00 00 00 00 00 04 00 00 00');
    assert.equal(reportTargetPortGroupsCommand(64, true).cdb[1], 0x2a);
  });

  it('READ(10) with FUA and DPO', () => {
    const c = read10Command(0x12345678, 8, 512, { fua: true, dpo: true });
    assert.equal(hex(c.cdb), '28 18 12 34 56 78 00 00 08 00');
    assert.deepEqual([c.direction, c.transferLength], ['read', 4096]);
  });

  it('READ/WRITE choose the 16-byte CDB only when the LBA or the count needs it', () => {
    assert.equal(readCommand(0xffffffff, 1, 512).cdb.length, 10);
    const w = writeCommand(0x100000000, 1, 4096, { fua: true });
    assert.equal(hex(w.cdb), '8a 08 00 00 00 01 00 00 00 00 00 00 00 01 00 00');
    assert.deepEqual([w.direction, w.transferLength], ['write', 4096]);
    const big = readCommand(0, 0x10000, 512);
    assert.equal(hex(big.cdb), '88 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00');
    assert.equal(readCommand(0xffffffffffffffffn, 1, 512).cdb.readBigUInt64BE(2), 0xffffffffffffffffn);
  });

  it('SYNCHRONIZE CACHE 10 and 16', () => {
    assert.equal(hex(synchronizeCacheCommand().cdb), '35 00 00 00 00 00 00 00 00 00');
    assert.equal(hex(synchronizeCacheCommand(1n << 40n, 0, { immediate: true }).cdb), '91 02 00 00 01 00 00 00 00 00 00 00 00 00 00 00');
  });

  it('MODE SENSE 6 and 10', () => {
    assert.equal(hex(modeSense6Command({ page: 0x08, disableBlockDescriptors: true }).cdb), '1a 08 08 00 ff 00');
    assert.equal(hex(modeSense6Command({ page: 0x3f, pageControl: 'changeable', allocationLength: 192 }).cdb), '1a 00 7f 00 c0 00');
    assert.equal(hex(modeSense10Command({ page: 0x0a, longLba: true, allocationLength: 512 }).cdb), '5a 10 0a 00 00 00 00 02 00 00');
  });

  it('bad arguments throw ScsiArgumentError', () => {
    assert.throws(() => readCommand(-1, 1, 512), ScsiArgumentError);
    assert.throws(() => readCommand(1.5, 1, 512), ScsiArgumentError);
    assert.throws(() => readCommand(0, 0x100000000, 512), ScsiArgumentError);
    assert.throws(() => writeCommand(1n << 64n, 1, 512), ScsiArgumentError);
    assert.throws(() => read10Command(0x100000000, 1, 512), ScsiArgumentError);
    assert.throws(() => readCommand(0, 1, 0), ScsiArgumentError);
    assert.throws(() => reportLunsCommand(8), /at least|>= 16/);
    assert.throws(() => vpdInquiryCommand(0x100), ScsiArgumentError);
    assert.throws(() => modeSense6Command({ allocationLength: 256 }), ScsiArgumentError);
    assert.throws(() => modeSense6Command({ page: 0x40 }), ScsiArgumentError);
  });
});
