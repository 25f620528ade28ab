// REPORT LUNS parameter data (SPC-4 §6.33) and the SAM LUN structure (SAM-5 §4.7).
import { ScsiParseError, requireLength } from './errors';

export type LunAddressMethod = 'peripheral' | 'flat' | 'logicalUnit' | 'extended';
const METHODS: LunAddressMethod[] = ['peripheral', 'flat', 'logicalUnit', 'extended'];

export interface LunEntry {
  /** The LUN number for peripheral (bus 0) and flat addressing; for other methods the first 2 bytes raw. */
  lun: number;
  addressMethod: LunAddressMethod;
  /** The 8-byte LUN field as hex, exact for every method. */
  hex: string;
}

export function decodeLunEntry(field: Buffer): LunEntry {
  if (field.length < 8) throw new ScsiParseError(`a LUN field is 8 bytes, got ${field.length}`);
  const method = METHODS[field[0] >> 6];
  let lun: number;
  if (method === 'peripheral') lun = field[0] === 0 ? field[1] : field.readUInt16BE(0);
  else if (method === 'flat') lun = ((field[0] & 0x3f) << 8) | field[1];
  else lun = field.readUInt16BE(0);
  return { lun, addressMethod: method, hex: field.subarray(0, 8).toString('hex') };
}

/** Encodes a LUN as SAM does for small numbers: peripheral addressing below 256, flat addressing to 16383. */
export function encodeLunEntry(lun: number): Buffer {
  if (!Number.isInteger(lun) || lun < 0 || lun > 0x3fff) {
    throw new RangeError(`LUN must be an integer in 0..16383, got ${lun}`);
  }
  const b = Buffer.alloc(8);
  if (lun < 256) b[1] = lun;
  else { b[0] = 0x40 | (lun >> 8); b[1] = lun & 0xff; }
  return b;
}

export interface ReportLuns {
  luns: LunEntry[];
  /** LUN LIST LENGTH / 8: more than luns.length means the allocation length was too small; ask again. */
  totalLuns: number;
  /** The allocation length that would return every entry. */
  requiredLength: number;
}

export function parseReportLuns(data: Buffer): ReportLuns {
  requireLength(data, 8, 'REPORT LUNS data');
  const listLength = data.readUInt32BE(0);
  const luns: LunEntry[] = [];
  const end = Math.min(data.length, 8 + listLength);
  for (let off = 8; off + 8 <= end; off += 8) luns.push(decodeLunEntry(data.subarray(off, off + 8)));
  return { luns, totalLuns: Math.floor(listLength / 8), requiredLength: 8 + listLength };
}
