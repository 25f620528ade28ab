// BHS codec rates: decodeBhs/encodeBhs of the three PDUs on the read path (SCSI Command, Data-In, SCSI Response).
import { BhsInit, decodeBhs, encodeBhs } from '../../lib/wire/bhs';
import { BHS_LENGTH, Opcode } from '../../lib/wire/opcodes';
import { MicroSuite, sink } from './suite';

const read10 = Buffer.from('28000000100000000800000000000000', 'hex'); // READ(10) LBA 0x1000, 8 blocks
const pdus: Array<[label: string, pdu: BhsInit]> = [
  ['SCSI Command', {
    opcode: Opcode.ScsiCommand, immediate: false, final: true, read: true, write: false, attr: 1, lun: 0,
    itt: 0x1234, expectedDataTransferLength: 65536, cmdSN: 100, expStatSN: 200, cdb: read10,
  }],
  ['Data-In', {
    opcode: Opcode.DataIn, final: true, acknowledge: false, overflow: false, underflow: false, hasStatus: true,
    status: 0, lun: 0, itt: 0x1234, ttt: 0xffffffff, statSN: 200, expCmdSN: 101, maxCmdSN: 164, dataSN: 7,
    bufferOffset: 57344, residualCount: 0, dataLength: 8192,
  }],
  ['SCSI Response', {
    opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: false, overflow: false, underflow: false,
    response: 0, status: 0, itt: 0x1234, snackTag: 0, statSN: 201, expCmdSN: 102, maxCmdSN: 165, expDataSN: 8,
    bidiResidualCount: 0, residualCount: 0,
  }],
];

export const suite: MicroSuite = {
  name: 'bhs',
  cases(add) {
    for (const [label, pdu] of pdus) {
      const wire = Buffer.alloc(BHS_LENGTH);
      encodeBhs(pdu, wire);
      const out = Buffer.alloc(BHS_LENGTH);
      add(`bhs decode ${label}`, () => sink(decodeBhs(wire).itt), { bytesPerOp: BHS_LENGTH, group: 'bhs decode' });
      add(`bhs encode ${label}`, () => { encodeBhs(pdu, out); sink(out[1]); }, { bytesPerOp: BHS_LENGTH, group: 'bhs encode' });
    }
  },
};
