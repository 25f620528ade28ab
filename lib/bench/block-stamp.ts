// What the verified workload writes into every block, so a read can tell which write a block holds (DESIGN.md
// "Performance targets": a failover loses or corrupts no block): the block's own LBA, the write's generation and
// the run's id in a header, a payload byte derived from them, and a CRC32C over all of it (a torn or foreign block
// fails the CRC).
//   0 crc32c(bytes 4..end)   4 magic   8 run id   12 LBA low 32 bits   16 LBA high bits   20 generation   24.. payload
import { crc32c } from '../wire/crc32c';

const MAGIC = 0x42564d49; // "IMVB" little-endian
const HEADER = 24;

export type BlockReading =
  | { kind: 'zero' }
  | { kind: 'stamped'; generation: number }
  | { kind: 'corrupt'; reason: string };

const payloadByte = (lba: number, generation: number) => (generation * 31 + lba) & 0xff;

/** Stamps `blocks` consecutive blocks of `buffer` for LBAs from `lba`, all with `generation`. */
export function stampBlocks(buffer: Buffer, blockSize: number, lba: number, blocks: number, generation: number, runId: number): void {
  for (let i = 0; i < blocks; i++) {
    const o = i * blockSize;
    const at = lba + i;
    buffer.writeUInt32LE(MAGIC, o + 4);
    buffer.writeUInt32LE(runId, o + 8);
    buffer.writeUInt32LE(at >>> 0, o + 12);
    buffer.writeUInt32LE(Math.floor(at / 0x1_0000_0000), o + 16);
    buffer.writeUInt32LE(generation, o + 20);
    buffer.fill(payloadByte(at, generation), o + HEADER, o + blockSize);
    buffer.writeUInt32LE(crc32c(buffer.subarray(o + 4, o + blockSize)), o);
  }
}

const zeroBlocks = new Map<number, Buffer>();

/** Decodes one block read back from `lba`: never written (all zero), one of this run's stamps, or corrupt (why). */
export function readStamp(block: Buffer, lba: number, runId: number): BlockReading {
  const crc = block.readUInt32LE(0);
  if (crc === 0) {
    let zero = zeroBlocks.get(block.length);
    if (!zero) zeroBlocks.set(block.length, zero = Buffer.alloc(block.length));
    if (block.equals(zero)) return { kind: 'zero' };
  }
  const actual = crc32c(block.subarray(4));
  if (actual !== crc) return { kind: 'corrupt', reason: `CRC ${actual.toString(16)} != stored ${crc.toString(16)}` };
  if (block.readUInt32LE(4) !== MAGIC) return { kind: 'corrupt', reason: 'no stamp (foreign data with a matching CRC)' };
  const run = block.readUInt32LE(8);
  if (run !== runId) return { kind: 'corrupt', reason: `written by run ${run}, not this run (${runId})` };
  const at = block.readUInt32LE(12) + block.readUInt32LE(16) * 0x1_0000_0000;
  if (at !== lba) return { kind: 'corrupt', reason: `holds LBA ${at}'s data` };
  // The payload needs no byte-by-byte look: the CRC covers it, and it was derived from the header just checked.
  return { kind: 'stamped', generation: block.readUInt32LE(20) };
}
