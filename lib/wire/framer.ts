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
const NO_DATA: readonly Buffer[] = [];

/** A header buffer for a BHS and `ahsLength` bytes of AHS, with room for the header digest. */
export function allocHeader(digests: Digests, ahsLength = 0): Buffer {
  return Buffer.allocUnsafe(BHS_LENGTH + ahsLength + (digests.headerDigest ? 4 : 0));
}

export function framePdu(bhs: BhsInit, data: readonly Buffer[], digests: Digests, ahs?: Buffer): Buffer[] {
  const wire: Buffer[] = [];
  frameInto(wire, encodeHeader(bhs, digests, ahs), ahs?.length ?? 0, data, digests);
  return wire;
}

/** The header of `bhs` with its AHS, in a buffer with room for the header digest (frameInto fills the rest). */
export function encodeHeader(bhs: BhsInit, digests: Digests, ahs?: Buffer): Buffer {
  const ahsLength = ahs?.length ?? 0;
  if (ahsLength % 4 !== 0 || ahsLength > 1020) throw new BhsError(`an AHS of ${ahsLength} bytes is not a multiple of 4 up to 1020`);
  const header = allocHeader(digests, ahsLength);
  encodeBhs(bhs, header, 0);
  if (ahs) ahs.copy(header, BHS_LENGTH);
  return header;
}

/**
 * Appends one PDU to `out`: `header` holds its BHS (and `ahsLength` bytes of AHS after it) and room for the header
 * digest (allocHeader). The framing lengths come from what is actually sent, whatever the BHS says. Returns the bytes.
 */
export function frameInto(out: Buffer[], header: Buffer, ahsLength: number, data: Buffer | readonly Buffer[] | undefined, digests: Digests): number {
  const segments = data === undefined ? NO_DATA : Buffer.isBuffer(data) ? [data] : data;
  let dataLength = 0;
  for (const segment of segments) dataLength += segment.length;
  if (dataLength > 0xffffff) throw new BhsError(`a data segment of ${dataLength} bytes does not fit DataSegmentLength`);
  header[4] = ahsLength / 4;
  header[5] = dataLength >> 16;
  header[6] = (dataLength >> 8) & 0xff;
  header[7] = dataLength & 0xff;
  if (digests.headerDigest) writeDigest(header, BHS_LENGTH + ahsLength, crc32c(header.subarray(0, BHS_LENGTH + ahsLength)));
  out.push(header);
  if (dataLength === 0) return header.length;

  let crc = 0;
  for (const segment of segments) {
    if (segment.length === 0) continue;
    out.push(segment);
    if (digests.dataDigest) crc = crc32c(segment, crc);
  }
  const padding = PADDING[(4 - (dataLength % 4)) % 4];
  if (padding.length) out.push(padding);
  let bytes = header.length + dataLength + padding.length;
  if (digests.dataDigest) {
    const digest = Buffer.allocUnsafe(4);
    writeDigest(digest, 0, crc32c(padding, crc)); // the digest covers the padding too
    out.push(digest);
    bytes += 4;
  }
  return bytes;
}
