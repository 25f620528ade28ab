// GET LBA STATUS parameter data (SBC-4 §5.8). The stores keep no allocation map; with LBPRZ set an all-zero
// block reads exactly like a deallocated one, so that is what such a block is reported as.

const MAPPED = 0, DEALLOCATED = 1;

/**
 * Descriptors for the blocks in `data` (which starts at `lba`), one per run of mapped or deallocated blocks,
 * at most `maxDescriptors` of them (at least one).
 */
export function lbaStatusData(data: Buffer, lba: number, blockSize: number, maxDescriptors: number): Buffer {
  const zero = Buffer.alloc(blockSize);
  const blocks = data.length / blockSize;
  const status = (i: number) => (data.subarray(i * blockSize, (i + 1) * blockSize).equals(zero) ? DEALLOCATED : MAPPED);
  const descriptors: Buffer[] = [];
  for (let i = 0; i < blocks && descriptors.length < Math.max(maxDescriptors, 1);) {
    const kind = status(i);
    let j = i + 1;
    while (j < blocks && status(j) === kind) j++;
    const d = Buffer.alloc(16);
    d.writeBigUInt64BE(BigInt(lba + i), 0);
    d.writeUInt32BE(j - i, 8);
    d[12] = kind;
    descriptors.push(d);
    i = j;
  }
  const header = Buffer.alloc(8);
  header.writeUInt32BE(4 + 16 * descriptors.length, 0);   // PARAMETER DATA LENGTH counts from byte 4
  return Buffer.concat([header, ...descriptors]);
}
