// Every opcode's BHS survives encode → decode with every field, and fields sit at the RFC 7143 byte positions.
import assert from 'node:assert/strict';
import { type BhsInit, BhsError, decodeBhs, encodeBhs } from '../lib/wire/bhs';
import { Opcode } from '../lib/wire/opcodes';

const seq = { statSN: 0x01020304, expCmdSN: 0x05060708, maxCmdSN: 0x090a0b0c };
const isid = Buffer.from('80123456789a', 'hex');
const samples: BhsInit[] = [
  { opcode: Opcode.NopOut, immediate: true, lun: 3, itt: 0xffffffff, ttt: 77, cmdSN: 9, expStatSN: 10 },
  { opcode: Opcode.ScsiCommand, immediate: false, final: true, read: true, write: false, attr: 1, lun: 300, itt: 1, expectedDataTransferLength: 65536, cmdSN: 0xffffffff, expStatSN: 2, cdb: Buffer.from('28000000100000000800000000000000', 'hex') },
  { opcode: Opcode.TaskManagementRequest, immediate: true, func: 1, lun: 0, itt: 5, referencedTaskTag: 4, cmdSN: 3, expStatSN: 2, refCmdSN: 1, expDataSN: 6 },
  { opcode: Opcode.LoginRequest, transit: true, cont: false, csg: 1, nsg: 3, versionMax: 0, versionMin: 0, isid, tsih: 0x1234, itt: 0, cid: 7, cmdSN: 1, expStatSN: 0 },
  { opcode: Opcode.TextRequest, immediate: false, final: false, cont: true, lun: 0, itt: 2, ttt: 0xffffffff, cmdSN: 4, expStatSN: 5 },
  { opcode: Opcode.DataOut, final: true, lun: 1, itt: 2, ttt: 0x99, expStatSN: 5, dataSN: 3, bufferOffset: 0x40000 },
  { opcode: Opcode.LogoutRequest, immediate: true, reason: 2, itt: 8, cid: 1, cmdSN: 4, expStatSN: 6 },
  { opcode: Opcode.SnackRequest, type: 1, lun: 0, itt: 2, ttt: 5, expStatSN: 6, begRun: 7, runLength: 8 },
  { opcode: Opcode.NopIn, lun: 0, itt: 0xffffffff, ttt: 12, ...seq },
  { opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: true, overflow: false, underflow: true, response: 0, status: 2, itt: 1, snackTag: 0, ...seq, expDataSN: 4, bidiResidualCount: 0, residualCount: 512 },
  { opcode: Opcode.TaskManagementResponse, response: 1, itt: 5, ...seq },
  { opcode: Opcode.LoginResponse, transit: true, cont: true, csg: 0, nsg: 1, versionMax: 0, versionActive: 0, isid, tsih: 9, itt: 0, ...seq, statusClass: 1, statusDetail: 1 },
  { opcode: Opcode.TextResponse, final: true, cont: false, lun: 0, itt: 2, ttt: 0xffffffff, ...seq },
  { opcode: Opcode.DataIn, final: true, acknowledge: false, overflow: false, underflow: true, hasStatus: true, status: 0, lun: 0, itt: 1, ttt: 0xffffffff, ...seq, dataSN: 15, bufferOffset: 0xf0000, residualCount: 100 },
  { opcode: Opcode.LogoutResponse, response: 0, itt: 8, ...seq, time2Wait: 2, time2Retain: 20 },
  { opcode: Opcode.R2T, lun: 0, itt: 2, ttt: 0x55, ...seq, r2tSN: 1, bufferOffset: 65536, desiredDataTransferLength: 262144 },
  { opcode: Opcode.AsyncMessage, lun: 0, itt: 0xffffffff, ...seq, asyncEvent: 1, asyncVCode: 0, parameter1: 0, parameter2: 2, parameter3: 10 },
  { opcode: Opcode.Reject, reason: 9, itt: 0xffffffff, ...seq, dataSN: 0 },
];

describe('BHS codec', () => {
  for (const sample of samples) {
    it(`round-trips 0x${sample.opcode.toString(16)}`, () => {
      const wire = Buffer.alloc(52, 0xee);
      encodeBhs({ ...sample, dataLength: 1000, ahsLength: 8 } as BhsInit, wire, 2);
      assert.equal(wire[0], 0xee, 'nothing written before the offset');
      assert.equal(wire[50], 0xee, 'nothing written past 48 bytes');
      const decoded = decodeBhs(wire, 2);
      assert.deepEqual(decoded, { ...sample, dataLength: 1000, ahsLength: 8 });
      assert.equal(wire[2 + 4], 2, 'TotalAHSLength in 4-byte words');
      assert.equal(wire.readUIntBE(2 + 5, 3), 1000, 'DataSegmentLength');
      assert.equal(wire.readUInt32BE(2 + 16), sample.itt, 'ITT at byte 16');
    });
  }

  it('places the fields of a SCSI Command where RFC 7143 §11.3 says', () => {
    const wire = Buffer.alloc(48);
    encodeBhs(samples[1], wire);
    assert.equal(wire[0], 0x01);
    assert.equal(wire[1], 0x80 | 0x40 | 1, 'F, R and ATTR');
    assert.deepEqual(wire.subarray(8, 10), Buffer.from([0x41, 0x2c]), 'LUN 300 in flat space addressing');
    assert.equal(wire.readUInt32BE(20), 65536);
    assert.equal(wire.readUInt32BE(24), 0xffffffff);
    assert.equal(wire[32], 0x28, 'CDB at byte 32');
  });

  it('marks Login Requests immediate', () => {
    const wire = Buffer.alloc(48);
    encodeBhs(samples[3], wire);
    assert.equal(wire[0], 0x43);
    assert.equal(wire[1], 0x80 | (1 << 2) | 3);
  });

  it('rejects what cannot be encoded, and unknown opcodes', () => {
    assert.throws(() => encodeBhs({ ...samples[0], dataLength: 1 << 24 } as BhsInit, Buffer.alloc(48)), BhsError);
    assert.throws(() => encodeBhs({ ...samples[0], ahsLength: 6 } as BhsInit, Buffer.alloc(48)), BhsError);
    assert.throws(() => encodeBhs({ ...samples[0], lun: 20000 } as BhsInit, Buffer.alloc(48)), /LUN 20000/);
    const wire = Buffer.alloc(48);
    wire[0] = 0x1c;
    assert.throws(() => decodeBhs(wire), (e: BhsError) => e.code === 'EOPCODE');
    assert.throws(() => decodeBhs(Buffer.alloc(47)), BhsError);
  });
});
