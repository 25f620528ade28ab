// MODE SENSE (6)/(10) parameter data (SPC-4 §7.5): header, block descriptors, pages; caching and control pages.
import { ScsiParseError, requireLength } from './errors';
import { ModePage } from './opcodes';

export interface ModePageData {
  code: number;
  subpage: number;
  /** PS: the page can be saved. */
  saveable: boolean;
  /** The page bytes including its 2- or 4-byte page header. */
  data: Buffer;
}

export interface BlockDescriptor {
  blocks: number | bigint;
  blockSize: number;
}

export interface ModeParameters {
  mediumType: number;
  /** WP bit of the device-specific parameter. */
  writeProtected: boolean;
  /** DPOFUA bit: the device honours DPO and FUA. */
  dpoFua: boolean;
  blockDescriptors: BlockDescriptor[];
  pages: ModePageData[];
  /** Total bytes the device would return; larger than received = allocation length was too small. */
  requiredLength: number;
}

export function parseModeSense6(data: Buffer): ModeParameters {
  requireLength(data, 4, 'MODE SENSE(6) data');
  return parse(data, 4, data[0] + 1, data[1], data[2], data[3], false);
}

export function parseModeSense10(data: Buffer): ModeParameters {
  requireLength(data, 8, 'MODE SENSE(10) data');
  return parse(data, 8, data.readUInt16BE(0) + 2, data[2], data[3], data.readUInt16BE(6), (data[4] & 0x01) !== 0);
}

function parse(data: Buffer, headerLength: number, total: number, mediumType: number, deviceSpecific: number,
  bdLength: number, longLba: boolean): ModeParameters {
  const end = Math.min(data.length, total);
  const blockDescriptors: BlockDescriptor[] = [];
  const bdSize = longLba ? 16 : 8;
  const bdEnd = headerLength + bdLength;
  if (bdEnd > end && end === total) throw new ScsiParseError(`block descriptor length ${bdLength} overruns the mode data`);
  for (let off = headerLength; off + bdSize <= Math.min(bdEnd, end); off += bdSize) {
    blockDescriptors.push(longLba
      ? { blocks: asNumber(data.readBigUInt64BE(off)), blockSize: data.readUInt32BE(off + 12) }
      : { blocks: data.readUInt32BE(off), blockSize: data.readUIntBE(off + 5, 3) });
  }
  const pages: ModePageData[] = [];
  for (let off = bdEnd; off + 2 <= end;) {
    const spf = (data[off] & 0x40) !== 0;
    const length = spf ? (off + 4 <= end ? data.readUInt16BE(off + 2) + 4 : Infinity) : data[off + 1] + 2;
    if (off + length > end) break; // truncated by the allocation length
    pages.push({ code: data[off] & 0x3f, subpage: spf ? data[off + 1] : 0, saveable: (data[off] & 0x80) !== 0, data: data.subarray(off, off + length) });
    off += length;
  }
  return {
    mediumType, writeProtected: (deviceSpecific & 0x80) !== 0, dpoFua: (deviceSpecific & 0x10) !== 0,
    blockDescriptors, pages, requiredLength: total,
  };
}

const asNumber = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

export interface CachingPage { writeCacheEnabled: boolean; readCacheDisabled: boolean }

export function parseCachingPage(page: ModePageData): CachingPage {
  if (page.code !== ModePage.CACHING || page.data.length < 3) throw new ScsiParseError('not a caching mode page');
  return { writeCacheEnabled: (page.data[2] & 0x04) !== 0, readCacheDisabled: (page.data[2] & 0x01) !== 0 };
}

export interface ControlPage { descriptorSense: boolean; softwareWriteProtect: boolean }

export function parseControlPage(page: ModePageData): ControlPage {
  if (page.code !== ModePage.CONTROL || page.data.length < 5) throw new ScsiParseError('not a control mode page');
  return { descriptorSense: (page.data[2] & 0x04) !== 0, softwareWriteProtect: (page.data[4] & 0x08) !== 0 };
}
