// How many Data-Out bytes a CDB itself asks for (SBC-4), for the commands the LU reads Data-Out for. The target
// sizes a write's scratch buffer from this clamped by the Expected Data Transfer Length, never from EDTL alone:
// an initiator's EDTL is a claim, the CDB is what the LU will consume. Other opcodes read no Data-Out (the LU
// answers them from the CDB), so whatever the initiator sends for them is received and discarded.
import { ScsiOp } from '../../scsi/opcodes';
import { SbcOp } from './sbc-ops';

/** Data-Out bytes the LU consumes for this CDB with this block size (0: none, or a CDB too short to tell). */
export function dataOutLength(cdb: Buffer, blockSize: number): number {
  const has = (n: number) => cdb.length >= n;
  switch (cdb[0]) {
    case ScsiOp.WRITE_6: return has(6) ? (cdb[4] || 256) * blockSize : 0;
    case ScsiOp.WRITE_10: case ScsiOp.WRITE_AND_VERIFY_10: return has(10) ? cdb.readUInt16BE(7) * blockSize : 0;
    case ScsiOp.WRITE_12: case ScsiOp.WRITE_AND_VERIFY_12: return has(12) ? cdb.readUInt32BE(6) * blockSize : 0;
    case ScsiOp.WRITE_16: case ScsiOp.WRITE_AND_VERIFY_16: case SbcOp.ORWRITE_16:
      return has(16) ? cdb.readUInt32BE(10) * blockSize : 0;
    case ScsiOp.VERIFY_10: case ScsiOp.VERIFY_12: case ScsiOp.VERIFY_16: {
      const byteCheck = (cdb[1] >> 1) & 0x03;
      if (byteCheck === 3) return blockSize;              // one block compared against every block
      if (byteCheck !== 1) return 0;
      if (cdb[0] === ScsiOp.VERIFY_10) return has(10) ? cdb.readUInt16BE(7) * blockSize : 0;
      if (cdb[0] === ScsiOp.VERIFY_12) return has(12) ? cdb.readUInt32BE(6) * blockSize : 0;
      return has(16) ? cdb.readUInt32BE(10) * blockSize : 0;
    }
    case SbcOp.COMPARE_AND_WRITE: return has(16) ? 2 * cdb[13] * blockSize : 0;
    case ScsiOp.WRITE_SAME_10: return blockSize;
    case ScsiOp.WRITE_SAME_16: return (cdb[1] & 0x01) !== 0 ? 0 : blockSize; // NDOB: no Data-Out
    case ScsiOp.UNMAP: return has(10) ? cdb.readUInt16BE(7) : 0;
    default: return 0;
  }
}

/** Transfer length in bytes of the write-type CDBs whose Data-Out length follows from the CDB, for residuals. */
export function writeTransferLength(cdb: Buffer, blockSize: number | undefined): number | undefined {
  if (!blockSize) return undefined;
  switch (cdb[0]) {
    case ScsiOp.WRITE_6: case ScsiOp.WRITE_10: case ScsiOp.WRITE_12: case ScsiOp.WRITE_16:
    case ScsiOp.WRITE_AND_VERIFY_10: case ScsiOp.WRITE_AND_VERIFY_12: case ScsiOp.WRITE_AND_VERIFY_16:
      return dataOutLength(cdb, blockSize);
    default: return undefined;
  }
}
