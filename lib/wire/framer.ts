// Builds the wire form of one PDU as a list of buffers to send with one writev: header (BHS, AHS, header digest),
// the caller's data buffers untouched, padding to 4 bytes, data digest (RFC 7143 §11.1). Nothing is concatenated.
import { BhsError, type BhsInit, encodeBhs } from './bhs';
import { crc32c, writeDigest } from './crc32c';
import { BHS_LENGTH } from './opcodes';

export interface Digests {
  headerDigest: boolean;
  dataDigest: boolean;
}

const PADDING = [Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(2), Buffer.alloc(3)];

export function framePdu(bhs: BhsInit, data: readonly Buffer[], digests: Digests, ahs?: Buffer): Buffer[] {
  let dataLength = 0;
  for (const segment of data) dataLength += segment.length;
  const ahsLength = ahs?.length ?? 0;
  if (dataLength > 0xffffff) throw new BhsError(`a data segment of ${dataLength} bytes does not fit DataSegmentLength`);
  const header = Buffer.allocUnsafe(BHS_LENGTH + ahsLength + (digests.headerDigest ? 4 : 0));
  encodeBhs(bhs, header, 0);
  // The framing lengths come from what is actually sent, whatever the caller's BHS says (no object copy per PDU).
  header[4] = ahsLength / 4;
  header.writeUIntBE(dataLength, 5, 3);
  if (ahs) {
    if (ahsLength % 4 !== 0 || ahsLength > 1020) throw new BhsError(`an AHS of ${ahsLength} bytes is not a multiple of 4 up to 1020`);
    ahs.copy(header, BHS_LENGTH);
  }
  if (digests.headerDigest) writeDigest(header, BHS_LENGTH + ahsLength, crc32c(header.subarray(0, BHS_LENGTH + ahsLength)));
  const wire: Buffer[] = [header];
  if (dataLength === 0) return wire;

  let crc = 0;
  for (const segment of data) {
    if (segment.length === 0) continue;
    wire.push(segment);
    if (digests.dataDigest) crc = crc32c(segment, crc);
  }
  const padding = PADDING[(4 - (dataLength % 4)) % 4];
  if (padding.length) wire.push(padding);
  if (digests.dataDigest) {
    const digest = Buffer.allocUnsafe(4);
    writeDigest(digest, 0, crc32c(padding, crc)); // the digest covers the padding too
    wire.push(digest);
  }
  return wire;
}
