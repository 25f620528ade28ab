// READ CAPACITY (10) and (16) parameter data (SBC-3 §5.15, §5.16).
import { requireLength } from './errors';

export interface Capacity {
  /** Number of logical blocks: last LBA + 1. A bigint only when it exceeds Number.MAX_SAFE_INTEGER. */
  blocks: number | bigint;
  blockSize: number;
  /** Only in READ CAPACITY(16) data. */
  protectionEnabled?: boolean;
  logicalBlocksPerPhysicalBlockExponent?: number;
  /** LBPME: the LU is thin provisioned (UNMAP and friends are meaningful). */
  thinProvisioningEnabled?: boolean;
  /** LBPRZ: unmapped blocks read as zeros. */
  unmappedReadsZero?: boolean;
  lowestAlignedLba?: number;
}

/**
 * READ CAPACITY(10). When `needs16` is set the LU is larger than 2^32 blocks (RETURNED LOGICAL BLOCK ADDRESS
 * = 0xffffffff) and the caller must issue READ CAPACITY(16).
 */
export function parseReadCapacity10(data: Buffer): Capacity & { needs16: boolean } {
  requireLength(data, 8, 'READ CAPACITY(10) data');
  const lastLba = data.readUInt32BE(0);
  return { blocks: lastLba + 1, blockSize: data.readUInt32BE(4), needs16: lastLba === 0xffffffff };
}

export function parseReadCapacity16(data: Buffer): Capacity {
  requireLength(data, 12, 'READ CAPACITY(16) data');
  const blocks = data.readBigUInt64BE(0) + 1n;
  const tail = Buffer.alloc(20);
  data.copy(tail, 0, 12, 32);
  return {
    blocks: blocks <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(blocks) : blocks,
    blockSize: data.readUInt32BE(8),
    protectionEnabled: (tail[0] & 0x01) !== 0,
    logicalBlocksPerPhysicalBlockExponent: tail[1] & 0x0f,
    thinProvisioningEnabled: (tail[2] & 0x80) !== 0,
    unmappedReadsZero: (tail[2] & 0x40) !== 0,
    lowestAlignedLba: tail.readUInt16BE(2) & 0x3fff,
  };
}
