// Writes the fuzzer's seed corpus: valid PDU streams of every opcode, with and without digests, behind the
// harness's 4 config bytes. Run: npx tsx native/fuzz/make-corpus.ts
import fs from 'node:fs';
import path from 'node:path';
import type { BhsInit } from '../../lib/wire/bhs';
import { framePdu } from '../../lib/wire/framer';
import { Opcode } from '../../lib/wire/opcodes';

const seq = { statSN: 1, expCmdSN: 2, maxCmdSN: 9 };
const fromTarget: [BhsInit, number][] = [
  [{ opcode: Opcode.NopIn, lun: 0, itt: 0xffffffff, ttt: 5, ...seq }, 0],
  [{ opcode: Opcode.DataIn, final: false, acknowledge: false, overflow: false, underflow: false, hasStatus: false, status: 0, lun: 0, itt: 1, ttt: 0xffffffff, ...seq, dataSN: 0, bufferOffset: 0, residualCount: 0 }, 20000],
  [{ opcode: Opcode.DataIn, final: true, acknowledge: false, overflow: false, underflow: true, hasStatus: true, status: 0, lun: 0, itt: 1, ttt: 0xffffffff, ...seq, dataSN: 1, bufferOffset: 20000, residualCount: 3 }, 4001],
  [{ opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: false, overflow: false, underflow: false, response: 0, status: 2, itt: 2, snackTag: 0, ...seq, expDataSN: 0, bidiResidualCount: 0, residualCount: 0 }, 20],
  [{ opcode: Opcode.R2T, lun: 0, itt: 3, ttt: 7, ...seq, r2tSN: 0, bufferOffset: 0, desiredDataTransferLength: 65536 }, 0],
  [{ opcode: Opcode.TextResponse, final: true, cont: false, lun: 0, itt: 4, ttt: 0xffffffff, ...seq }, 61],
  [{ opcode: Opcode.LoginResponse, transit: true, cont: false, csg: 1, nsg: 3, versionMax: 0, versionActive: 0, isid: Buffer.alloc(6), tsih: 1, ...seq, statusClass: 0, statusDetail: 0 }, 100],
  [{ opcode: Opcode.AsyncMessage, lun: 0, itt: 0xffffffff, ...seq, asyncEvent: 1, asyncVCode: 0, parameter1: 0, parameter2: 0, parameter3: 5 }, 0],
  [{ opcode: Opcode.Reject, reason: 9, itt: 0xffffffff, ...seq, dataSN: 0 }, 48],
  [{ opcode: Opcode.LogoutResponse, response: 0, itt: 6, ...seq, time2Wait: 2, time2Retain: 0 }, 0],
  [{ opcode: Opcode.TaskManagementResponse, response: 0, itt: 7, ...seq }, 0],
];
const fromInitiator: [BhsInit, number][] = [
  [{ opcode: Opcode.ScsiCommand, immediate: false, final: false, read: false, write: true, attr: 1, lun: 0, itt: 2, expectedDataTransferLength: 24000, cmdSN: 1, expStatSN: 1, cdb: Buffer.from('2a000000000000002f0000', 'hex') }, 8192],
  [{ opcode: Opcode.DataOut, final: true, lun: 0, itt: 2, ttt: 0xffffffff, expStatSN: 1, dataSN: 0, bufferOffset: 8192 }, 15808],
  [{ opcode: Opcode.NopOut, immediate: true, lun: 0, itt: 9, ttt: 0xffffffff, cmdSN: 2, expStatSN: 1 }, 4],
  [{ opcode: Opcode.TextRequest, immediate: false, final: true, cont: false, lun: 0, itt: 3, ttt: 0xffffffff, cmdSN: 2, expStatSN: 1 }, 16],
  [{ opcode: Opcode.LoginRequest, transit: true, cont: false, csg: 0, nsg: 1, versionMax: 0, versionMin: 0, isid: Buffer.from('800000000001', 'hex'), tsih: 0, cid: 0, cmdSN: 1, expStatSN: 0, itt: 1 }, 64],
  [{ opcode: Opcode.TaskManagementRequest, immediate: true, func: 1, lun: 0, itt: 10, referencedTaskTag: 2, cmdSN: 3, expStatSN: 1, refCmdSN: 1, expDataSN: 0 }, 0],
  [{ opcode: Opcode.LogoutRequest, immediate: true, reason: 0, itt: 11, cid: 0, cmdSN: 3, expStatSN: 1 }, 0],
  [{ opcode: Opcode.SnackRequest, type: 0, lun: 0, itt: 2, ttt: 0xffffffff, expStatSN: 1, begRun: 0, runLength: 0 }, 0],
];

const dir = path.join(__dirname, 'corpus');
fs.mkdirSync(dir, { recursive: true });
const ahs = Buffer.from([0x00, 0x11, 0x01, ...Buffer.alloc(17)]); // an extended-CDB AHS: 3 + 17 bytes, padded to 20
for (const [role, pdus] of [['initiator', fromTarget], ['target', fromInitiator]] as const) {
  for (const digests of [false, true]) {
    const stream = pdus.flatMap(([bhs, length], i) =>
      framePdu(bhs, length ? [Buffer.alloc(length, i + 1)] : [], { headerDigest: digests, dataDigest: digests }, i === 3 ? ahs : undefined));
    // config: bit0 target role, bit1/bit2 header/data digest; split seed; tasks: ITT 1..3 with 6000*k-byte buffers
    const config = Buffer.from([(role === 'target' ? 1 : 0) | (digests ? 6 : 0), 0x5a, 0x50, 0x55]);
    fs.writeFileSync(path.join(dir, `${role}-${digests ? 'digests' : 'plain'}.bin`), Buffer.concat([config, ...stream]));
  }
}
console.log(`wrote ${fs.readdirSync(dir).length} seeds to ${dir}`);
