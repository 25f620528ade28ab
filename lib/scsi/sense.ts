// Sense data decoding, fixed (0x70/0x71) and descriptor (0x72/0x73) formats (SPC-4 §4.5).
import { ScsiParseError } from './errors';
import { describeAsc, senseKeyName, SenseKey } from './sense-codes';

/** The sense-key-specific field when it is a field pointer (ILLEGAL REQUEST): which CDB or parameter byte was wrong. */
export interface FieldPointer {
  inCdb: boolean;        // C/D bit: true = the CDB, false = the parameter list
  byte: number;
  bit?: number;          // only when BPV is set
}

export interface Sense {
  format: 'fixed' | 'descriptor';
  responseCode: number;
  /** A deferred error reports a failure of an earlier command (0x71/0x73). */
  deferred: boolean;
  senseKey: number;
  asc: number;
  ascq: number;
  /** INFORMATION field when valid: for media errors and miscompares, the LBA or byte offset concerned. */
  information?: bigint;
  /** Raw 3-byte sense-key-specific field when SKSV is set. */
  senseKeySpecific?: Buffer;
  fieldPointer?: FieldPointer;
  /** e.g. "ILLEGAL REQUEST: logical block address out of range (21/00)". */
  description: string;
}

/** Decodes sense data as carried in a SCSI Response (after the iSCSI 2-byte SenseLength prefix). */
export function parseSense(data: Buffer): Sense {
  if (data.length < 1) throw new ScsiParseError('sense data is empty');
  const responseCode = data[0] & 0x7f;
  switch (responseCode) {
    case 0x70: case 0x71: return parseFixed(data, responseCode);
    case 0x72: case 0x73: return parseDescriptor(data, responseCode);
    default: throw new ScsiParseError(`unknown sense response code 0x${responseCode.toString(16)}`);
  }
}

function parseFixed(data: Buffer, responseCode: number): Sense {
  // Some targets send only 8 bytes + a short tail; anything missing reads as zero.
  if (data.length < 3) throw new ScsiParseError(`fixed-format sense too short (${data.length} bytes)`);
  const at = (i: number) => (i < data.length ? data[i] : 0);
  const senseKey = data[2] & 0x0f;
  const asc = at(12);
  const ascq = at(13);
  const sense: Sense = finish({
    format: 'fixed', responseCode, deferred: responseCode === 0x71, senseKey, asc, ascq, description: '',
  });
  if ((data[0] & 0x80) !== 0 && data.length >= 7) sense.information = BigInt(data.readUInt32BE(3));
  if (data.length >= 18 && (data[15] & 0x80) !== 0) setSenseKeySpecific(sense, data.subarray(15, 18));
  return sense;
}

function parseDescriptor(data: Buffer, responseCode: number): Sense {
  if (data.length < 4) throw new ScsiParseError(`descriptor-format sense too short (${data.length} bytes)`);
  const sense: Sense = finish({
    format: 'descriptor', responseCode, deferred: responseCode === 0x73,
    senseKey: data[1] & 0x0f, asc: data[2], ascq: data[3], description: '',
  });
  const end = Math.min(data.length, 8 + (data.length >= 8 ? data[7] : 0));
  for (let off = 8; off + 2 <= end;) {
    const type = data[off];
    const len = data[off + 1] + 2;
    if (off + len > end) break;
    if (type === 0x00 && len >= 12 && (data[off + 2] & 0x80) !== 0) sense.information = data.readBigUInt64BE(off + 4);
    if (type === 0x02 && len >= 7 && (data[off + 4] & 0x80) !== 0) setSenseKeySpecific(sense, data.subarray(off + 4, off + 7));
    off += len;
  }
  return sense;
}

function setSenseKeySpecific(sense: Sense, sks: Buffer): void {
  sense.senseKeySpecific = Buffer.from(sks);
  if (sense.senseKey === SenseKey.ILLEGAL_REQUEST) {
    const pointer: FieldPointer = { inCdb: (sks[0] & 0x40) !== 0, byte: sks.readUInt16BE(1) };
    if ((sks[0] & 0x08) !== 0) pointer.bit = sks[0] & 0x07;
    sense.fieldPointer = pointer;
  }
}

function finish(sense: Sense): Sense {
  sense.description = `${sense.deferred ? 'deferred ' : ''}${senseKeyName(sense.senseKey)}: ${describeAsc(sense.asc, sense.ascq)}`;
  return sense;
}
