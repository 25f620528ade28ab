// CDB builders (SPC-4, SBC-3): one small function per command, each returning the CDB plus the data phase the
// session must set up (DESIGN.md layer 4). Arguments are checked; a bad one throws ScsiArgumentError.
import { ScsiArgumentError } from './errors';
import { MaintenanceIn, ScsiOp, ServiceActionIn } from './opcodes';

export type DataDirection = 'none' | 'read' | 'write';

export interface ScsiCdb {
  cdb: Buffer;
  direction: DataDirection;
  /** Bytes of Data-In expected (allocation length) or Data-Out to send; the iSCSI Expected Data Transfer Length. */
  transferLength: number;
}

/** An LBA: a number (safe integer) or a bigint for the top of a 64-bit address space. */
export type Lba = number | bigint;

export interface IoOptions {
  /** Force Unit Access: the write (or read) goes to / comes from the medium, not a volatile cache. */
  fua?: boolean;
  /** Disable Page Out: a hint that the blocks need not stay in cache. */
  dpo?: boolean;
}

const U32_MAX = 0xffffffff;
const U64_MAX = (1n << 64n) - 1n;

function checkUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new ScsiArgumentError(`${what} must be an integer in 0..${max}, got ${value}`);
  }
}

function checkLba(lba: Lba): void {
  if (typeof lba === 'bigint') {
    if (lba < 0n || lba > U64_MAX) throw new ScsiArgumentError(`LBA must be in 0..2^64-1, got ${lba}`);
  } else if (!Number.isSafeInteger(lba) || lba < 0) {
    throw new ScsiArgumentError(`LBA must be a non-negative safe integer or a bigint, got ${lba}`);
  }
}

function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize <= 0 || blockSize > 0x1000000) {
    throw new ScsiArgumentError(`block size must be a positive integer, got ${blockSize}`);
  }
}

function cdb(length: 6 | 10 | 12 | 16, opcode: number): Buffer {
  // From Node's pool, then zeroed by hand: Buffer.alloc gives every CDB (one per I/O) a backing store of its own,
  // and fill() costs a native call for a few bytes.
  const b = Buffer.allocUnsafe(length);
  for (let i = 1; i < length; i++) b[i] = 0;
  b[0] = opcode;
  return b;
}

/** Whether the LBA field of a 10-byte CDB can hold this LBA. */
const fits32 = (lba: Lba): boolean => (typeof lba === 'bigint' ? lba <= 0xffffffffn : lba <= U32_MAX);

const ioFlags = (o?: IoOptions) => (o?.dpo ? 0x10 : 0) | (o?.fua ? 0x08 : 0);

// --- SPC ---

export function testUnitReadyCommand(): ScsiCdb {
  return { cdb: cdb(6, ScsiOp.TEST_UNIT_READY), direction: 'none', transferLength: 0 };
}

/** Standard INQUIRY data; 96 bytes covers the version descriptors, up to 65535 allowed. */
export function inquiryCommand(allocationLength = 96): ScsiCdb {
  checkUint(allocationLength, 0xffff, 'INQUIRY allocation length');
  const b = cdb(6, ScsiOp.INQUIRY);
  b.writeUInt16BE(allocationLength, 3);
  return { cdb: b, direction: 'read', transferLength: allocationLength };
}

/** INQUIRY with EVPD=1 for one vital product data page (see VpdPage). */
export function vpdInquiryCommand(page: number, allocationLength = 255): ScsiCdb {
  checkUint(page, 0xff, 'VPD page code');
  checkUint(allocationLength, 0xffff, 'INQUIRY allocation length');
  const b = cdb(6, ScsiOp.INQUIRY);
  b[1] = 0x01;
  b[2] = page;
  b.writeUInt16BE(allocationLength, 3);
  return { cdb: b, direction: 'read', transferLength: allocationLength };
}

/** REPORT LUNS; SPC requires an allocation length of at least 16. selectReport 0 = all logical units. */
export function reportLunsCommand(allocationLength = 4096, selectReport = 0): ScsiCdb {
  checkUint(allocationLength, U32_MAX, 'REPORT LUNS allocation length');
  if (allocationLength < 16) throw new ScsiArgumentError(`REPORT LUNS allocation length must be >= 16, got ${allocationLength}`);
  checkUint(selectReport, 0xff, 'REPORT LUNS select report');
  const b = cdb(12, ScsiOp.REPORT_LUNS);
  b[2] = selectReport;
  b.writeUInt32BE(allocationLength, 6);
  return { cdb: b, direction: 'read', transferLength: allocationLength };
}

/** REPORT TARGET PORT GROUPS (MAINTENANCE IN / 0x0a); `extended` asks for the SPC-4 extended header format. */
export function reportTargetPortGroupsCommand(allocationLength = 1024, extended = false): ScsiCdb {
  checkUint(allocationLength, U32_MAX, 'REPORT TARGET PORT GROUPS allocation length');
  const b = cdb(12, ScsiOp.MAINTENANCE_IN);
  b[1] = (extended ? 0x20 : 0) | MaintenanceIn.REPORT_TARGET_PORT_GROUPS;
  b.writeUInt32BE(allocationLength, 6);
  return { cdb: b, direction: 'read', transferLength: allocationLength };
}

export type PageControl = 'current' | 'changeable' | 'default' | 'saved';
const PAGE_CONTROL: Record<PageControl, number> = { current: 0, changeable: 1, default: 2, saved: 3 };

export interface ModeSenseOptions {
  /** Mode page code (ModePage), 0x3f = all pages. */
  page?: number;
  subpage?: number;
  pageControl?: PageControl;
  /** DBD: leave out block descriptors. */
  disableBlockDescriptors?: boolean;
  allocationLength?: number;
}

function modeSenseByte2(o: ModeSenseOptions): { byte2: number; subpage: number } {
  const page = o.page ?? 0x3f;
  const subpage = o.subpage ?? 0;
  checkUint(page, 0x3f, 'mode page code');
  checkUint(subpage, 0xff, 'mode subpage code');
  const pc = PAGE_CONTROL[o.pageControl ?? 'current'];
  if (pc === undefined) throw new ScsiArgumentError(`unknown page control ${String(o.pageControl)}`);
  return { byte2: (pc << 6) | page, subpage };
}

export function modeSense6Command(options: ModeSenseOptions = {}): ScsiCdb {
  const allocationLength = options.allocationLength ?? 255;
  checkUint(allocationLength, 0xff, 'MODE SENSE(6) allocation length');
  const { byte2, subpage } = modeSenseByte2(options);
  const b = cdb(6, ScsiOp.MODE_SENSE_6);
  b[1] = options.disableBlockDescriptors ? 0x08 : 0;
  b[2] = byte2;
  b[3] = subpage;
  b[4] = allocationLength;
  return { cdb: b, direction: 'read', transferLength: allocationLength };
}

export function modeSense10Command(options: ModeSenseOptions & { longLba?: boolean } = {}): ScsiCdb {
  const allocationLength = options.allocationLength ?? 1024;
  checkUint(allocationLength, 0xffff, 'MODE SENSE(10) allocation length');
  const { byte2, subpage } = modeSenseByte2(options);
  const b = cdb(10, ScsiOp.MODE_SENSE_10);
  b[1] = (options.longLba ? 0x10 : 0) | (options.disableBlockDescriptors ? 0x08 : 0);
  b[2] = byte2;
  b[3] = subpage;
  b.writeUInt16BE(allocationLength, 7);
  return { cdb: b, direction: 'read', transferLength: allocationLength };
}

// --- SBC ---

export function readCapacity10Command(): ScsiCdb {
  return { cdb: cdb(10, ScsiOp.READ_CAPACITY_10), direction: 'read', transferLength: 8 };
}

/** READ CAPACITY(16) (SERVICE ACTION IN(16) / 0x10); 32 bytes is the full parameter data. */
export function readCapacity16Command(allocationLength = 32): ScsiCdb {
  checkUint(allocationLength, U32_MAX, 'READ CAPACITY(16) allocation length');
  const b = cdb(16, ScsiOp.SERVICE_ACTION_IN_16);
  b[1] = ServiceActionIn.READ_CAPACITY_16;
  b.writeUInt32BE(allocationLength, 10);
  return { cdb: b, direction: 'read', transferLength: allocationLength };
}

function rw10(opcode: number, lba: Lba, blocks: number, blockSize: number, o?: IoOptions): Buffer {
  checkLba(lba);
  checkUint(blocks, 0xffff, 'block count for a 10-byte CDB');
  checkBlockSize(blockSize);
  if (!fits32(lba)) throw new ScsiArgumentError(`LBA ${lba} does not fit a 10-byte CDB`);
  const b = cdb(10, opcode);
  b[1] = ioFlags(o);
  b.writeUInt32BE(Number(lba), 2);
  b.writeUInt16BE(blocks, 7);
  return b;
}

function rw16(opcode: number, lba: Lba, blocks: number, blockSize: number, o?: IoOptions): Buffer {
  checkLba(lba);
  checkUint(blocks, U32_MAX, 'block count');
  checkBlockSize(blockSize);
  const b = cdb(16, opcode);
  b[1] = ioFlags(o);
  b.writeBigUInt64BE(BigInt(lba), 2);
  b.writeUInt32BE(blocks, 10);
  return b;
}

export function read10Command(lba: Lba, blocks: number, blockSize: number, options?: IoOptions): ScsiCdb {
  return { cdb: rw10(ScsiOp.READ_10, lba, blocks, blockSize, options), direction: 'read', transferLength: blocks * blockSize };
}

export function read16Command(lba: Lba, blocks: number, blockSize: number, options?: IoOptions): ScsiCdb {
  return { cdb: rw16(ScsiOp.READ_16, lba, blocks, blockSize, options), direction: 'read', transferLength: blocks * blockSize };
}

export function write10Command(lba: Lba, blocks: number, blockSize: number, options?: IoOptions): ScsiCdb {
  return { cdb: rw10(ScsiOp.WRITE_10, lba, blocks, blockSize, options), direction: 'write', transferLength: blocks * blockSize };
}

export function write16Command(lba: Lba, blocks: number, blockSize: number, options?: IoOptions): ScsiCdb {
  return { cdb: rw16(ScsiOp.WRITE_16, lba, blocks, blockSize, options), direction: 'write', transferLength: blocks * blockSize };
}

/** READ(10), or READ(16) when the LBA or the block count does not fit READ(10). */
export function readCommand(lba: Lba, blocks: number, blockSize: number, options?: IoOptions): ScsiCdb {
  return blocks <= 0xffff && fits32(lba)
    ? read10Command(lba, blocks, blockSize, options)
    : read16Command(lba, blocks, blockSize, options);
}

/** WRITE(10), or WRITE(16) when the LBA or the block count does not fit WRITE(10). */
export function writeCommand(lba: Lba, blocks: number, blockSize: number, options?: IoOptions): ScsiCdb {
  return blocks <= 0xffff && fits32(lba)
    ? write10Command(lba, blocks, blockSize, options)
    : write16Command(lba, blocks, blockSize, options);
}

export interface SyncCacheOptions {
  /** IMMED: return status before the cache is flushed. */
  immediate?: boolean;
}

export function synchronizeCache10Command(lba: Lba = 0, blocks = 0, options?: SyncCacheOptions): ScsiCdb {
  checkLba(lba);
  checkUint(blocks, 0xffff, 'SYNCHRONIZE CACHE(10) block count');
  if (!fits32(lba)) throw new ScsiArgumentError(`LBA ${lba} does not fit SYNCHRONIZE CACHE(10)`);
  const b = cdb(10, ScsiOp.SYNCHRONIZE_CACHE_10);
  b[1] = options?.immediate ? 0x02 : 0;
  b.writeUInt32BE(Number(lba), 2);
  b.writeUInt16BE(blocks, 7);
  return { cdb: b, direction: 'none', transferLength: 0 };
}

export function synchronizeCache16Command(lba: Lba = 0, blocks = 0, options?: SyncCacheOptions): ScsiCdb {
  checkLba(lba);
  checkUint(blocks, U32_MAX, 'SYNCHRONIZE CACHE(16) block count');
  const b = cdb(16, ScsiOp.SYNCHRONIZE_CACHE_16);
  b[1] = options?.immediate ? 0x02 : 0;
  b.writeBigUInt64BE(BigInt(lba), 2);
  b.writeUInt32BE(blocks, 10);
  return { cdb: b, direction: 'none', transferLength: 0 };
}

/** SYNCHRONIZE CACHE for a range (blocks 0 = to the end of the LU); 16-byte CDB only when needed. */
export function synchronizeCacheCommand(lba: Lba = 0, blocks = 0, options?: SyncCacheOptions): ScsiCdb {
  return blocks <= 0xffff && fits32(lba)
    ? synchronizeCache10Command(lba, blocks, options)
    : synchronizeCache16Command(lba, blocks, options);
}
