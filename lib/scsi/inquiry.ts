// Standard INQUIRY data (SPC-4 §6.6.2).
import { requireLength } from './errors';

/** TPGS field: how the LU supports ALUA (protocol.md §7). */
export type Tpgs = 'none' | 'implicit' | 'explicit' | 'both';
const TPGS: Tpgs[] = ['none', 'implicit', 'explicit', 'both'];

export interface StandardInquiry {
  /** 0 = connected LU, 1 = capable but not connected, 3 = no LU at this LUN. */
  peripheralQualifier: number;
  /** 0x00 direct-access block device, 0x05 CD/DVD, 0x0d enclosure, 0x1f unknown / no device. */
  peripheralDeviceType: number;
  removable: boolean;
  /** 4 = SPC-2, 5 = SPC-3, 6 = SPC-4, 7 = SPC-5. */
  version: number;
  responseDataFormat: number;
  hiSup: boolean;
  normAca: boolean;
  additionalLength: number;
  protect: boolean;
  tpgs: Tpgs;
  threePc: boolean;
  cmdQue: boolean;
  vendor: string;
  product: string;
  revision: string;
  /** Version descriptors (bytes 58-73) when present, zero entries left out. */
  versionDescriptors: number[];
}

/** Trims the space (and NUL) padding of a fixed-width ASCII field. */
export function asciiField(data: Buffer, start: number, end: number): string {
  return data.toString('latin1', start, Math.min(end, data.length)).replace(/[\s\0]+$/, '');
}

export function parseStandardInquiry(data: Buffer): StandardInquiry {
  requireLength(data, 36, 'standard INQUIRY data');
  const versionDescriptors: number[] = [];
  const end = Math.min(data.length, 74, 5 + data[4]);
  for (let off = 58; off + 2 <= end; off += 2) {
    const v = data.readUInt16BE(off);
    if (v !== 0) versionDescriptors.push(v);
  }
  return {
    peripheralQualifier: data[0] >> 5,
    peripheralDeviceType: data[0] & 0x1f,
    removable: (data[1] & 0x80) !== 0,
    version: data[2],
    responseDataFormat: data[3] & 0x0f,
    hiSup: (data[3] & 0x10) !== 0,
    normAca: (data[3] & 0x20) !== 0,
    additionalLength: data[4],
    protect: (data[5] & 0x01) !== 0,
    tpgs: TPGS[(data[5] >> 4) & 0x03],
    threePc: (data[5] & 0x08) !== 0,
    cmdQue: (data[7] & 0x02) !== 0,
    vendor: asciiField(data, 8, 16),
    product: asciiField(data, 16, 32),
    revision: asciiField(data, 32, 36),
    versionDescriptors,
  };
}
