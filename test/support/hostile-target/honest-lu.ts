// What an honest LU answers, for the hostile target to answer with until a script misbehaves: INQUIRY (standard,
// VPD 0x00 and 0x83), READ CAPACITY(10), READ(10/16) of a known pattern, WRITE(10/16), SYNCHRONIZE CACHE, TEST UNIT
// READY, REPORT LUNS. Written from SPC-4/SBC-3 here (the embedded target's LU is not what is under test).
import { ScsiOp } from '../../../lib/scsi/opcodes';

export const BLOCK_SIZE = 512;
export const LU_BLOCKS = 2048; // 1 MiB

/** The LU's content: byte `offset` of the LU, a pattern no shifted or repeated segment reproduces. */
export function patternByte(offset: number): number {
  return (offset * 131 + (offset >>> 9) * 71 + 17) & 0xff;
}

export function pattern(offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(offset + i);
  return out;
}

export type LuAnswer =
  | { kind: 'data-in'; data: Buffer; status: number; residual: number; underflow: boolean }
  | { kind: 'write'; offset: number; length: number }
  | { kind: 'status'; status: number };

/** LBA and block count of a READ/WRITE(10/16) CDB, or undefined for another command. */
export function ioRange(cdb: Buffer): { lba: number; blocks: number } | undefined {
  switch (cdb[0]) {
    case ScsiOp.READ_10: case ScsiOp.WRITE_10: return { lba: cdb.readUInt32BE(2), blocks: cdb.readUInt16BE(7) };
    case ScsiOp.READ_16: case ScsiOp.WRITE_16: return { lba: Number(cdb.readBigUInt64BE(2)), blocks: cdb.readUInt32BE(10) };
    default: return undefined;
  }
}

function standardInquiry(): Buffer {
  const d = Buffer.alloc(96, 0x20);
  d[0] = 0x00; d[1] = 0; d[2] = 0x06; d[3] = 0x02; d[4] = 91; d[5] = 0; d[6] = 0; d[7] = 0x02;
  d.write('HOSTILE ', 8, 'latin1');
  d.write('misbehaving LU  ', 16, 'latin1');
  d.write('0001', 32, 'latin1');
  d.fill(0, 36);
  return d;
}

function vpd(page: number): Buffer | undefined {
  if (page === 0x00) return Buffer.from([0, 0x00, 0, 2, 0x00, 0x83]);
  if (page === 0x83) {
    // One NAA 6 (IEEE registered extended) designator for the LU.
    const naa = Buffer.from('6001405c0ffee00112233445566778899', 'hex').subarray(0, 16);
    return Buffer.concat([Buffer.from([0, 0x83, 0, 4 + naa.length, 0x01, 0x03, 0, naa.length]), naa]);
  }
  return undefined;
}

/** The honest answer to a SCSI command whose write data (if any) is `transferLength` bytes. */
export function answer(cdb: Buffer, transferLength: number): LuAnswer {
  const allocated = (data: Buffer): LuAnswer => {
    const sent = data.subarray(0, Math.min(data.length, transferLength));
    const residual = transferLength - sent.length;
    return { kind: 'data-in', data: sent, status: 0, residual, underflow: residual > 0 };
  };
  switch (cdb[0]) {
    case ScsiOp.INQUIRY: {
      if ((cdb[1] & 1) === 0) return allocated(standardInquiry());
      const page = vpd(cdb[2]);
      return page ? allocated(page) : { kind: 'status', status: 0x02 };
    }
    case ScsiOp.READ_CAPACITY_10: {
      const d = Buffer.alloc(8);
      d.writeUInt32BE(LU_BLOCKS - 1, 0);
      d.writeUInt32BE(BLOCK_SIZE, 4);
      return allocated(d);
    }
    case ScsiOp.REPORT_LUNS: {
      const d = Buffer.alloc(16);
      d.writeUInt32BE(8, 0);
      return allocated(d);
    }
    case ScsiOp.READ_10: case ScsiOp.READ_16: {
      const { lba, blocks } = ioRange(cdb)!;
      return allocated(pattern(lba * BLOCK_SIZE, blocks * BLOCK_SIZE));
    }
    case ScsiOp.WRITE_10: case ScsiOp.WRITE_16: {
      const { lba, blocks } = ioRange(cdb)!;
      return { kind: 'write', offset: lba * BLOCK_SIZE, length: blocks * BLOCK_SIZE };
    }
    default:
      return { kind: 'status', status: 0 }; // TEST UNIT READY, SYNCHRONIZE CACHE and the like
  }
}
