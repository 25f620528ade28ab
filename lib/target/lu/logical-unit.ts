// The embedded target's logical unit: an SBC direct-access disk over a memory or file backing store.
// execute() takes a CDB (+ Data-Out scatter list) and returns status, Data-In and sense; no iSCSI in here.
import { AluaStateCode } from '../../scsi/alua';
import { MaintenanceIn, ScsiOp, ServiceActionIn, VpdPage } from '../../scsi/opcodes';
import { Asc, SenseKey } from '../../scsi/sense-codes';
import { reportTargetPortGroupsData } from './alua-data';
import type { BackingStore } from './backing-store';
import { ExtentLock } from './extent-lock';
import { FileStore, type FileStoreOptions } from './file-store';
import { makeIdentity, type LogicalUnitIdentity, type LogicalUnitIdentityOptions } from './identity';
import { standardInquiryData } from './inquiry-data';
import { lbaStatusData } from './lba-status';
import { MemoryStore } from './memory-store';
import { modeSense10Data, modeSense6Data } from './mode-pages';
import { reportSupportedOpcodesData } from './opcode-table';
import { reportLunsData } from './report-luns-data';
import { SbcOp, SbcServiceActionIn } from './sbc-ops';
import { CheckCondition, checkCondition, fixedSense, good, invalidField } from './sense-data';
import type { PortIdentity, ScsiRequest, ScsiResult, TargetPortGroupConfig } from './types';
import { UnitAttentionQueue } from './unit-attention';
import {
  blockDeviceCharacteristicsPage, blockLimitsPage, deviceIdentificationPage, logicalBlockProvisioningPage,
  supportedPagesPage, unitSerialNumberPage, type BlockLimitsConfig,
} from './vpd-pages';

export interface LogicalUnitOptions extends LogicalUnitIdentityOptions {
  blockSize?: 512 | 4096;
  readOnly?: boolean;
  /** Limits advertised in VPD 0xB0 and enforced (0 = no limit). */
  limits?: Partial<BlockLimitsConfig>;
  /** The LUNs REPORT LUNS returns (the target's inventory); defaults to [0]. */
  listLuns?: () => readonly number[];
  /** ALUA target port groups; when left out, RTPG reports the caller's port alone, active/optimized. */
  portGroups?: readonly TargetPortGroupConfig[];
}

/** Where a write's Data-Out lands in the LU, for receiving it in place. */
export interface DataOutPlacement {
  byteOffset: number;
  length: number;
}

const DEFAULT_LIMITS: BlockLimitsConfig = {
  maximumTransferLength: 0, optimalTransferLength: 0, maximumUnmapLbaCount: 0xffffffff,
  maximumUnmapDescriptors: 256, maximumWriteSameLength: 0, maximumCompareAndWriteLength: 255,
};

/** How a reset reaches the LU, for its unit attention (SAM-5 §6.3.3, RFC 7143 §11.5.1). */
export type ResetKind = 'logical-unit' | 'target' | 'power-on';
const RESET_ASCQ: Record<ResetKind, number> = {
  'power-on': 0x01,          // 29/01 POWER ON OCCURRED (target cold reset)
  target: 0x02,              // 29/02 SCSI BUS RESET OCCURRED (target warm reset)
  'logical-unit': 0x03,      // 29/03 BUS DEVICE RESET FUNCTION OCCURRED (LOGICAL UNIT RESET)
};

// How many blocks one GET LBA STATUS looks at: the initiator asks again from where the answer ends.
const LBA_STATUS_WINDOW = 2048;

// Commands an ALUA standby / unavailable / transitioning port still serves (SPC-4 §5.15.2.4).
const ALLOWED_WHEN_NOT_ACTIVE = new Set<number>([
  ScsiOp.INQUIRY, ScsiOp.REPORT_LUNS, ScsiOp.REQUEST_SENSE, ScsiOp.MAINTENANCE_IN,
]);
const ALLOWED_IN_STANDBY = new Set<number>([...ALLOWED_WHEN_NOT_ACTIVE, ScsiOp.MODE_SENSE_6, ScsiOp.MODE_SENSE_10]);
// Commands that neither report nor clear a pending unit attention (SPC-4 §5.14).
const UA_EXEMPT = new Set<number>([ScsiOp.INQUIRY, ScsiOp.REPORT_LUNS, ScsiOp.REQUEST_SENSE]);

const WRITES = new Set<number>([
  ScsiOp.WRITE_6, ScsiOp.WRITE_10, ScsiOp.WRITE_12, ScsiOp.WRITE_16,
  ScsiOp.WRITE_AND_VERIFY_10, ScsiOp.WRITE_AND_VERIFY_12, ScsiOp.WRITE_AND_VERIFY_16,
]);

type Result = ScsiResult | Promise<ScsiResult>;

interface IoArgs { lba: number; blocks: number }

/** LBA and transfer length of a READ/WRITE/VERIFY CDB of any size (the size follows from the group code). */
function ioArgs(cdb: Buffer): IoArgs {
  switch (cdbLength(cdb[0])) {
    case 6: return { lba: ((cdb[1] & 0x1f) << 16) | cdb.readUInt16BE(2), blocks: cdb[4] === 0 ? 256 : cdb[4] };
    case 12: return { lba: cdb.readUInt32BE(2), blocks: cdb.readUInt32BE(6) };
    // LBAs past 2^53 lose precision but stay far beyond any capacity, so range checks still fail them.
    case 16: return { lba: Number(cdb.readBigUInt64BE(2)), blocks: cdb.readUInt32BE(10) };
    default: return { lba: cdb.readUInt32BE(2), blocks: cdb.readUInt16BE(7) };
  }
}

/** Minimum CDB length for an opcode's group code (SPC-4 §4.2.5.1). */
function cdbLength(opcode: number): number {
  return [6, 10, 10, 0, 16, 12, 0, 0][opcode >> 5];
}

function totalLength(buffers: readonly Buffer[]): number {
  let n = 0;
  for (const b of buffers) n += b.length;
  return n;
}

/** The first `length` bytes of a scatter list, as a scatter list (views, no copies). */
function takeScatter(buffers: readonly Buffer[], length: number): Buffer[] {
  const out: Buffer[] = [];
  let left = length;
  for (const b of buffers) {
    if (left === 0) break;
    const piece = b.length <= left ? b : b.subarray(0, left);
    out.push(piece);
    left -= piece.length;
  }
  return out;
}

/** Offset of the first byte where a and b (of equal length) differ, or -1. */
function firstDifference(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1;
  let i = 0;
  while (a[i] === b[i]) i++;
  return i;
}

/**
 * READ DEFECT DATA(10/12) (SBC-4 §5.13, §5.14): the emulated medium has no defects, so the lists asked for are
 * reported valid and empty in the format asked for.
 */
function readDefectData(cdb: Buffer): Buffer {
  if (cdb[0] === SbcOp.READ_DEFECT_DATA_10) {
    const d = Buffer.alloc(4);
    d[1] = cdb[2] & 0x1f;                              // PLISTV, GLISTV as requested, DEFECT LIST FORMAT
    return d.subarray(0, cdb.readUInt16BE(7));
  }
  const d = Buffer.alloc(8);
  d[1] = cdb[1] & 0x1f;
  return d.subarray(0, cdb.readUInt32BE(6));
}

function then<T>(value: T | Promise<T>, fn: (v: T) => Result): Result {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

export class LogicalUnit {
  readonly identity: LogicalUnitIdentity;
  readonly blockSize: number;
  /** Capacity in logical blocks. */
  readonly blocks: number;
  readonly readOnly: boolean;
  readonly limits: BlockLimitsConfig;
  private readonly unitAttentions = new UnitAttentionQueue();
  private readonly extents = new ExtentLock();
  private readonly listLuns: () => readonly number[];
  private portGroups: readonly TargetPortGroupConfig[] | undefined;
  private readonly inquiryData: Buffer;

  /** A memory-backed LU of `byteLength` bytes (a multiple of the block size). */
  static memory(byteLength: number, options: LogicalUnitOptions = {}): LogicalUnit {
    return new LogicalUnit(new MemoryStore(byteLength), options);
  }

  /** A file-backed LU; capacity is the file size (give `size` to create or grow it sparsely). */
  static async file(path: string, options: LogicalUnitOptions & FileStoreOptions = {}): Promise<LogicalUnit> {
    const store = await FileStore.open(path, { size: options.size, readOnly: options.readOnly });
    try {
      return new LogicalUnit(store, options);
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  constructor(readonly store: BackingStore, options: LogicalUnitOptions = {}) {
    const blockSize = options.blockSize ?? 512;
    if (blockSize !== 512 && blockSize !== 4096) throw new RangeError(`block size must be 512 or 4096, got ${String(blockSize)}`);
    if (store.byteLength < blockSize) throw new RangeError(`LU of ${store.byteLength} bytes is smaller than one ${blockSize}-byte block`);
    this.blockSize = blockSize;
    this.blocks = Math.floor(store.byteLength / blockSize);
    this.readOnly = options.readOnly ?? false;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.identity = makeIdentity(options);
    this.listLuns = options.listLuns ?? (() => [0]);
    this.portGroups = options.portGroups;
    this.inquiryData = standardInquiryData(this.identity, true);
  }

  // --- unit attentions and ALUA, driven by the target ---

  queueUnitAttention(nexus: string, asc: number, ascq: number): void { this.unitAttentions.queue(nexus, asc, ascq); }
  /** Queues for every I_T nexus that has sent a command (or was registered). */
  queueUnitAttentionForAll(asc: number, ascq: number): void { this.unitAttentions.queueAll(asc, ascq); }
  /** A reset of this LU: its unit attention for every nexus, also those that first send a command later. */
  reset(kind: ResetKind = 'logical-unit'): void { this.unitAttentions.queueReset(RESET_ASCQ[kind]); }
  registerNexus(nexus: string): void { this.unitAttentions.register(nexus); }
  forgetNexus(nexus: string): void { this.unitAttentions.forget(nexus); }
  hasUnitAttention(nexus: string): boolean { return this.unitAttentions.has(nexus); }

  /** Replaces the ALUA configuration; by default every nexus gets UA 2A/06 (asymmetric access state changed). */
  setPortGroups(groups: readonly TargetPortGroupConfig[], notify = true): void {
    this.portGroups = groups;
    if (notify) this.unitAttentions.queueAll(0x2a, 0x06);
  }

  // --- direct data access for the target's data path ---

  /** Bytes at a byte offset; a view of the memory for memory LUs. */
  readAt(byteOffset: number, length: number): Buffer | Promise<Buffer> {
    this.checkByteRange(byteOffset, length);
    return this.store.read(byteOffset, length);
  }

  /** Writes a buffer or a scatter list at a byte offset, without concatenating. */
  writeAt(byteOffset: number, data: Buffer | readonly Buffer[]): void | Promise<void> {
    const buffers = Buffer.isBuffer(data) ? [data] : data;
    this.checkByteRange(byteOffset, totalLength(buffers));
    return this.store.write(byteOffset, buffers);
  }

  /** The LU's own memory for [byteOffset, byteOffset + length) (memory LUs only) to receive Data-Out into. */
  writableRegion(byteOffset: number, length: number): Buffer | undefined {
    this.checkByteRange(byteOffset, length);
    return this.store.region(byteOffset, length);
  }

  /**
   * For a plain WRITE that will succeed up to its data phase, where its Data-Out belongs. Undefined when the
   * command is no such write or will fail before touching data (unit attention, ALUA state, range, write
   * protect): then receive the data into a buffer of your own and let execute() report.
   */
  dataOutPlacement(request: Pick<ScsiRequest, 'cdb' | 'nexus' | 'port'>): DataOutPlacement | undefined {
    const { cdb } = request;
    if (!WRITES.has(cdb[0]) || cdb.length < cdbLength(cdb[0]) || this.readOnly) return undefined;
    this.unitAttentions.register(request.nexus);       // a nexus new since a reset has that reset pending
    if (this.unitAttentions.has(request.nexus) || this.aluaRefusal(cdb[0], request.port)) return undefined;
    if (cdb[0] !== ScsiOp.WRITE_6 && (cdb[1] & 0xe0) !== 0) return undefined;
    const { lba, blocks } = ioArgs(cdb);
    if (blocks === 0 || lba + blocks > this.blocks) return undefined;
    if (this.limits.maximumTransferLength !== 0 && blocks > this.limits.maximumTransferLength) return undefined;
    return { byteOffset: lba * this.blockSize, length: blocks * this.blockSize };
  }

  close(): void | Promise<void> {
    return this.store.close();
  }

  // --- command execution ---

  /** Runs one command. Synchronous for memory LUs except when the store is asynchronous (file LUs). */
  execute(request: ScsiRequest): Result {
    const { cdb } = request;
    if (cdb.length === 0) return invalidField(0).toResult();
    const opcode = cdb[0];
    if (cdb.length < cdbLength(opcode)) return invalidField(0).toResult();
    this.unitAttentions.register(request.nexus);
    if (!UA_EXEMPT.has(opcode)) {
      const ua = this.unitAttentions.take(request.nexus);
      if (ua !== undefined) return checkCondition(SenseKey.UNIT_ATTENTION, ua);
    }
    const refusal = this.aluaRefusal(opcode, request.port);
    if (refusal) return refusal;
    try {
      const result = this.dispatch(request);
      return result instanceof Promise ? result.catch((err: unknown) => this.failure(err, opcode)) : result;
    } catch (err) {
      return this.failure(err, opcode);
    }
  }

  private failure(err: unknown, opcode: number): ScsiResult {
    if (err instanceof CheckCondition) return err.toResult();
    // A backing-store I/O error: report it as the medium's, never crash the target.
    if (WRITES.has(opcode)) return checkCondition(SenseKey.MEDIUM_ERROR, Asc.WRITE_ERROR);
    if ([ScsiOp.READ_6, ScsiOp.READ_10, ScsiOp.READ_12, ScsiOp.READ_16].includes(opcode as 0x08)) {
      return checkCondition(SenseKey.MEDIUM_ERROR, Asc.UNRECOVERED_READ_ERROR);
    }
    return checkCondition(SenseKey.HARDWARE_ERROR, Asc.INTERNAL_TARGET_FAILURE);
  }

  private dispatch(request: ScsiRequest): Result {
    const { cdb } = request;
    switch (cdb[0]) {
      case ScsiOp.TEST_UNIT_READY:
      case ScsiOp.START_STOP_UNIT:
      case ScsiOp.PREVENT_ALLOW_MEDIUM_REMOVAL:
        return good();
      case ScsiOp.REQUEST_SENSE: return this.requestSense(request);
      case ScsiOp.INQUIRY: return this.inquiry(cdb, request.port);
      case ScsiOp.MODE_SENSE_6: return good(modeSense6Data(cdb, this.modeContext()));
      case ScsiOp.MODE_SENSE_10: return good(modeSense10Data(cdb, this.modeContext()));
      case ScsiOp.READ_CAPACITY_10: return this.readCapacity10(cdb);
      case ScsiOp.SERVICE_ACTION_IN_16:
        switch (cdb[1] & 0x1f) {
          case ServiceActionIn.READ_CAPACITY_16: return this.readCapacity16(cdb);
          case SbcServiceActionIn.GET_LBA_STATUS: return this.getLbaStatus(cdb);
          default: throw invalidField(1, 4);
        }
      case ScsiOp.READ_6: case ScsiOp.READ_10: case ScsiOp.READ_12: case ScsiOp.READ_16:
        return this.read(cdb);
      case ScsiOp.WRITE_6: case ScsiOp.WRITE_10: case ScsiOp.WRITE_12: case ScsiOp.WRITE_16:
      case ScsiOp.WRITE_AND_VERIFY_10: case ScsiOp.WRITE_AND_VERIFY_12: case ScsiOp.WRITE_AND_VERIFY_16:
        return this.write(request);
      case ScsiOp.VERIFY_10: case ScsiOp.VERIFY_12: case ScsiOp.VERIFY_16:
        return this.verify(request);
      case ScsiOp.SYNCHRONIZE_CACHE_10: case ScsiOp.SYNCHRONIZE_CACHE_16:
        return this.synchronizeCache(cdb);
      case SbcOp.PRE_FETCH_10: case SbcOp.PRE_FETCH_16:
        return this.preFetch(cdb);
      case SbcOp.COMPARE_AND_WRITE: return this.compareAndWrite(request);
      case SbcOp.ORWRITE_16: return this.orWrite(request);
      case SbcOp.READ_DEFECT_DATA_10: case SbcOp.READ_DEFECT_DATA_12:
        return good(readDefectData(cdb));
      case ScsiOp.WRITE_SAME_10: case ScsiOp.WRITE_SAME_16:
        return this.writeSame(request);
      case ScsiOp.UNMAP: return this.unmap(request);
      case ScsiOp.REPORT_LUNS:
        this.unitAttentions.clear(request.nexus, 0x3f, 0x0e);
        return good(reportLunsData(cdb, this.listLuns()));
      case ScsiOp.MAINTENANCE_IN:
        switch (cdb[1] & 0x1f) {
          case MaintenanceIn.REPORT_TARGET_PORT_GROUPS:
            return good(reportTargetPortGroupsData(cdb, this.effectivePortGroups(request.port)));
          case MaintenanceIn.REPORT_SUPPORTED_OPERATION_CODES:
            return good(reportSupportedOpcodesData(cdb));
          default:
            throw invalidField(1, 4);
        }
      default:
        throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_COMMAND_OPERATION_CODE, { fieldPointer: { byte: 0, bit: 7 } });
    }
  }

  // --- SPC ---

  private requestSense(request: ScsiRequest): ScsiResult {
    const { cdb } = request;
    if ((cdb[1] & 0x01) !== 0) throw invalidField(1, 0); // DESC: we only produce fixed format
    const ua = this.unitAttentions.take(request.nexus);
    const sense = ua === undefined
      ? fixedSense(SenseKey.NO_SENSE, Asc.NO_ADDITIONAL_SENSE)
      : fixedSense(SenseKey.UNIT_ATTENTION, ua);
    return good(sense.subarray(0, cdb[4]));
  }

  private inquiry(cdb: Buffer, port?: PortIdentity): ScsiResult {
    if ((cdb[1] & 0x02) !== 0) throw invalidField(1, 1);   // CMDDT is obsolete
    const allocationLength = cdb.readUInt16BE(3);
    let data: Buffer;
    if ((cdb[1] & 0x01) === 0) {
      if (cdb[2] !== 0) throw invalidField(2);
      data = this.inquiryData;
    } else {
      switch (cdb[2]) {
        case VpdPage.SUPPORTED_PAGES: data = supportedPagesPage(); break;
        case VpdPage.UNIT_SERIAL_NUMBER: data = unitSerialNumberPage(this.identity); break;
        case VpdPage.DEVICE_IDENTIFICATION: data = deviceIdentificationPage(this.identity, port); break;
        case VpdPage.BLOCK_LIMITS: data = blockLimitsPage(this.limits); break;
        case VpdPage.BLOCK_DEVICE_CHARACTERISTICS: data = blockDeviceCharacteristicsPage(); break;
        case VpdPage.LOGICAL_BLOCK_PROVISIONING: data = logicalBlockProvisioningPage(); break;
        default: throw invalidField(2);
      }
    }
    return good(data.subarray(0, allocationLength));
  }

  private modeContext() {
    return { blocks: this.blocks, blockSize: this.blockSize, writeCacheEnabled: this.store.volatileCache, readOnly: this.readOnly };
  }

  private effectivePortGroups(port?: PortIdentity): readonly TargetPortGroupConfig[] {
    if (this.portGroups) return this.portGroups;
    if (!port) return [];
    return [{ id: port.targetPortGroupId, state: AluaStateCode.ACTIVE_OPTIMIZED, relativeTargetPorts: [port.relativeTargetPortId] }];
  }

  /** NOT READY when the caller's target port group is not active for this command (SPC-4 §5.15.2.4). */
  private aluaRefusal(opcode: number, port?: PortIdentity): ScsiResult | undefined {
    if (!this.portGroups || !port) return undefined;
    const group = this.portGroups.find((g) => g.id === port.targetPortGroupId);
    if (!group) return undefined;
    switch (group.state) {
      case AluaStateCode.ACTIVE_OPTIMIZED:
      case AluaStateCode.ACTIVE_NON_OPTIMIZED:
        return undefined;
      case AluaStateCode.STANDBY:
        return ALLOWED_IN_STANDBY.has(opcode) ? undefined
          : checkCondition(SenseKey.NOT_READY, Asc.LU_NOT_READY_TARGET_PORT_STANDBY);
      case AluaStateCode.TRANSITIONING:
        return ALLOWED_WHEN_NOT_ACTIVE.has(opcode) ? undefined
          : checkCondition(SenseKey.NOT_READY, Asc.LU_NOT_READY_ASYMMETRIC_ACCESS_TRANSITION);
      default:
        return ALLOWED_WHEN_NOT_ACTIVE.has(opcode) ? undefined
          : checkCondition(SenseKey.NOT_READY, Asc.LU_NOT_READY_TARGET_PORT_UNAVAILABLE);
    }
  }

  // --- SBC ---

  private readCapacity10(cdb: Buffer): ScsiResult {
    if ((cdb[8] & 0x01) === 0 && cdb.readUInt32BE(2) !== 0) throw invalidField(2); // LBA needs PMI
    const d = Buffer.alloc(8);
    d.writeUInt32BE(Math.min(this.blocks - 1, 0xffffffff), 0);
    d.writeUInt32BE(this.blockSize, 4);
    return good(d);
  }

  private readCapacity16(cdb: Buffer): ScsiResult {
    const d = Buffer.alloc(32);
    d.writeBigUInt64BE(BigInt(this.blocks - 1), 0);
    d.writeUInt32BE(this.blockSize, 8);
    d[14] = 0x80 | 0x40;                                // LBPME (UNMAP works), LBPRZ (unmapped reads zero)
    return good(d.subarray(0, cdb.readUInt32BE(10)));
  }

  /** LBA OUT OF RANGE unless [lba, lba + blocks) is inside the LU; 0 blocks still needs lba inside it. */
  private checkRange(lba: number, blocks: number): void {
    if (lba + Math.max(blocks, 1) > this.blocks) throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
  }

  private checkByteRange(byteOffset: number, length: number): void {
    if (!Number.isSafeInteger(byteOffset) || !Number.isSafeInteger(length) || byteOffset < 0 || length < 0
      || byteOffset + length > this.blocks * this.blockSize) {
      throw new RangeError(`byte range ${byteOffset}+${length} is outside the LU (${this.blocks * this.blockSize} bytes)`);
    }
  }

  private checkTransferLength(blocks: number, cdb: Buffer): void {
    const max = this.limits.maximumTransferLength;
    if (max !== 0 && blocks > max) throw invalidField({ 6: 4, 10: 7, 12: 6, 16: 10 }[cdbLength(cdb[0])] ?? 0);
  }

  private checkWritable(): void {
    if (this.readOnly) throw new CheckCondition(SenseKey.DATA_PROTECT, Asc.WRITE_PROTECTED);
  }

  private read(cdb: Buffer): Result {
    if (cdb[0] !== ScsiOp.READ_6 && (cdb[1] & 0xe0) !== 0) throw invalidField(1, 7); // RDPROTECT: no protection info
    const { lba, blocks } = ioArgs(cdb);
    this.checkRange(lba, blocks);
    if (blocks === 0) return good();
    this.checkTransferLength(blocks, cdb);
    return then(this.store.read(lba * this.blockSize, blocks * this.blockSize), (data) => good(data));
  }

  private write(request: ScsiRequest): Result {
    const { cdb } = request;
    if (cdb[0] !== ScsiOp.WRITE_6 && (cdb[1] & 0xe0) !== 0) throw invalidField(1, 7); // WRPROTECT
    this.checkWritable();
    const { lba, blocks: cdbBlocks } = ioArgs(cdb);
    this.checkRange(lba, cdbBlocks);
    if (cdbBlocks === 0) return good();
    this.checkTransferLength(cdbBlocks, cdb);
    const done = this.afterWrite(cdb);
    if (request.dataOutPlaced) return done();
    const blocks = this.receivedBlocks(request, cdbBlocks);
    if (blocks === 0) return good();
    const data = takeScatter(this.dataOutOf(request, blocks * this.blockSize), blocks * this.blockSize);
    return this.extents.run(lba, blocks, () => then(this.store.write(lba * this.blockSize, data), done));
  }

  /**
   * The blocks of a write that the initiator sends: iSCSI can carry less than the CDB asks for (Expected Data
   * Transfer Length short of it), and then the whole blocks that arrive are written and the target reports the
   * rest as residual (RFC 7143 §11.4.5.2), which is what libiscsi's residual tests and tgtd do.
   */
  private receivedBlocks(request: ScsiRequest, cdbBlocks: number): number {
    if (request.expectedLength === undefined) return cdbBlocks;
    return Math.min(cdbBlocks, Math.floor(request.expectedLength / this.blockSize));
  }

  /** Data-Out of at least `length` bytes, or INVALID FIELD IN COMMAND IU when the initiator sent less. */
  private dataOutOf(request: ScsiRequest, length: number): readonly Buffer[] {
    const dataOut = request.dataOut ?? [];
    if (totalLength(dataOut) < length) throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_COMMAND_IU);
    return dataOut;
  }

  /** What completes a write: with FUA on a store with a volatile cache, a flush first. */
  private afterWrite(cdb: Buffer): () => Result {
    const fua = cdb[0] !== ScsiOp.WRITE_6 && (cdb[1] & 0x08) !== 0;
    return () => (fua && this.store.volatileCache ? then(this.store.flush(), () => good()) : good());
  }

  /**
   * COMPARE AND WRITE (SBC-4 §5.3): the Data-Out holds the compare data then the write data, NUMBER OF LOGICAL
   * BLOCKS each; the write happens only if the medium matches, atomically with respect to other writes.
   */
  private compareAndWrite(request: ScsiRequest): Result {
    const { cdb } = request;
    if ((cdb[1] & 0xe0) !== 0) throw invalidField(1, 7);                // WRPROTECT
    this.checkWritable();
    const lba = Number(cdb.readBigUInt64BE(2));
    const blocks = cdb[13];
    if (blocks > this.limits.maximumCompareAndWriteLength) throw invalidField(13);
    const length = blocks * this.blockSize;
    // Anything but both halves in full means the CDB and the transfer disagree (as LIO and tgtd answer it).
    if (request.expectedLength !== undefined && request.expectedLength !== 2 * length) throw invalidField(13);
    this.checkRange(lba, blocks);
    if (blocks === 0) return good();
    const data = Buffer.concat(takeScatter(this.dataOutOf(request, 2 * length), 2 * length));
    const done = this.afterWrite(cdb);
    return this.extents.run(lba, blocks, () => then(this.store.read(lba * this.blockSize, length), (current) => {
      const at = firstDifference(data.subarray(0, length), current);
      if (at >= 0) return checkCondition(SenseKey.MISCOMPARE, Asc.MISCOMPARE_DURING_VERIFY, { information: at });
      return then(this.store.write(lba * this.blockSize, [data.subarray(length)]), done);
    }));
  }

  /** ORWRITE(16) (SBC-4 §5.10) without a write-protection bitmap: each block becomes itself OR the Data-Out. */
  private orWrite(request: ScsiRequest): Result {
    const { cdb } = request;
    if ((cdb[1] & 0xe0) !== 0) throw invalidField(1, 7);                // ORPROTECT
    this.checkWritable();
    const { lba, blocks: cdbBlocks } = ioArgs(cdb);
    this.checkRange(lba, cdbBlocks);
    if (cdbBlocks === 0) return good();
    this.checkTransferLength(cdbBlocks, cdb);
    const blocks = this.receivedBlocks(request, cdbBlocks);
    if (blocks === 0) return good();
    const length = blocks * this.blockSize;
    const data = Buffer.concat(takeScatter(this.dataOutOf(request, length), length));
    const done = this.afterWrite(cdb);
    return this.extents.run(lba, blocks, () => then(this.store.read(lba * this.blockSize, length), (current) => {
      for (let i = 0; i < length; i++) data[i] |= current[i];
      return then(this.store.write(lba * this.blockSize, [data]), done);
    }));
  }

  /** PRE-FETCH(10/16): the stores have no cache to load, so nothing fits and the answer is GOOD (SBC-4 §5.11). */
  private preFetch(cdb: Buffer): ScsiResult {
    const sixteen = cdb[0] === SbcOp.PRE_FETCH_16;
    const lba = sixteen ? Number(cdb.readBigUInt64BE(2)) : cdb.readUInt32BE(2);
    const blocks = sixteen ? cdb.readUInt32BE(10) : cdb.readUInt16BE(7);
    this.checkRange(lba, blocks);
    return good();
  }

  private getLbaStatus(cdb: Buffer): Result {
    const lba = Number(cdb.readBigUInt64BE(2));
    const allocationLength = cdb.readUInt32BE(10);
    this.checkRange(lba, 1);
    const blocks = Math.min(this.blocks - lba, LBA_STATUS_WINDOW);
    const maxDescriptors = Math.floor((allocationLength - 8) / 16);
    return then(this.store.read(lba * this.blockSize, blocks * this.blockSize),
      (data) => good(lbaStatusData(data, lba, this.blockSize, maxDescriptors).subarray(0, allocationLength)));
  }

  private verify(request: ScsiRequest): Result {
    const { cdb } = request;
    if ((cdb[1] & 0xe0) !== 0) throw invalidField(1, 7);                // VRPROTECT
    const byteCheck = (cdb[1] >> 1) & 0x03;
    if (byteCheck === 2) throw invalidField(1, 2);
    const { lba, blocks } = ioArgs(cdb);
    this.checkRange(lba, blocks);
    if (blocks === 0 || byteCheck === 0) return good();                  // the medium is always readable
    this.checkTransferLength(blocks, cdb);
    const length = blocks * this.blockSize;
    const expected = Buffer.concat(takeScatter(request.dataOut ?? [], byteCheck === 1 ? length : this.blockSize));
    if (expected.length < (byteCheck === 1 ? length : this.blockSize)) {
      throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_COMMAND_IU);
    }
    return then(this.store.read(lba * this.blockSize, length), (actual) => {
      for (let off = 0; off < length; off += this.blockSize) {
        const want = byteCheck === 1 ? expected.subarray(off, off + this.blockSize) : expected;
        const got = actual.subarray(off, off + this.blockSize);
        const at = firstDifference(want, got);
        if (at >= 0) return checkCondition(SenseKey.MISCOMPARE, Asc.MISCOMPARE_DURING_VERIFY, { information: off + at });
      }
      return good();
    });
  }

  private synchronizeCache(cdb: Buffer): Result {
    const sixteen = cdb[0] === ScsiOp.SYNCHRONIZE_CACHE_16;
    const lba = sixteen ? Number(cdb.readBigUInt64BE(2)) : cdb.readUInt32BE(2);
    const blocks = sixteen ? cdb.readUInt32BE(10) : cdb.readUInt16BE(7);
    this.checkRange(lba, blocks);
    return then(this.store.flush(), () => good());
  }

  private writeSame(request: ScsiRequest): Result {
    const { cdb } = request;
    const sixteen = cdb[0] === ScsiOp.WRITE_SAME_16;
    if ((cdb[1] & 0xe0) !== 0) throw invalidField(1, 7);                // WRPROTECT
    if ((cdb[1] & 0x10) !== 0) throw invalidField(1, 4);                // ANCHOR
    const noDataOut = sixteen && (cdb[1] & 0x01) !== 0;                 // NDOB
    const unmap = (cdb[1] & 0x08) !== 0;
    this.checkWritable();
    const lba = sixteen ? Number(cdb.readBigUInt64BE(2)) : cdb.readUInt32BE(2);
    let blocks = sixteen ? cdb.readUInt32BE(10) : cdb.readUInt16BE(7);
    const max = this.limits.maximumWriteSameLength;
    if (max !== 0 && blocks > max) throw invalidField(sixteen ? 10 : 7);
    this.checkRange(lba, blocks);
    if (blocks === 0) blocks = this.blocks - lba;                      // WSNZ = 0: to the end of the LU
    let pattern: Buffer;
    if (noDataOut) {
      pattern = Buffer.alloc(this.blockSize);
    } else {
      const dataOut = request.dataOutPlaced ? [] : request.dataOut ?? [];
      if (totalLength(dataOut) < this.blockSize) throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_COMMAND_IU);
      // UNMAP asks to deallocate whatever the block holds (SBC-3 §5.43): we do, so with LBPRZ the range reads zero.
      pattern = unmap ? Buffer.alloc(this.blockSize) : Buffer.concat(takeScatter(dataOut, this.blockSize));
    }
    return this.extents.run(lba, blocks, () => then(this.store.fill(lba * this.blockSize, blocks * this.blockSize, pattern), () => good()));
  }

  private unmap(request: ScsiRequest): Result {
    const { cdb } = request;
    if ((cdb[1] & 0x01) !== 0) throw invalidField(1, 0);                // ANCHOR
    const parameterLength = cdb.readUInt16BE(7);
    if (parameterLength === 0) return good();
    if (parameterLength < 8) throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.PARAMETER_LIST_LENGTH_ERROR);
    this.checkWritable();
    const data = Buffer.concat(takeScatter(request.dataOut ?? [], parameterLength));
    if (data.length < 8) throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.PARAMETER_LIST_LENGTH_ERROR);
    const descriptorBytes = Math.min(data.readUInt16BE(2), data.length - 8);
    const count = Math.floor(descriptorBytes / 16);
    if (count > this.limits.maximumUnmapDescriptors) {
      throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_PARAMETER_LIST, { fieldPointer: { byte: 2, inCdb: false } });
    }
    const ranges: IoArgs[] = [];
    for (let i = 0; i < count; i++) {
      const off = 8 + 16 * i;
      const range = { lba: Number(data.readBigUInt64BE(off)), blocks: data.readUInt32BE(off + 8) };
      if (range.blocks > this.limits.maximumUnmapLbaCount) {
        throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_PARAMETER_LIST, { fieldPointer: { byte: off + 8, inCdb: false } });
      }
      if (range.blocks > 0) this.checkRange(range.lba, range.blocks);
      ranges.push(range);
    }
    const zero = Buffer.alloc(this.blockSize);
    const fills = ranges.filter((r) => r.blocks > 0)
      .map((r) => this.extents.run(r.lba, r.blocks, () => this.store.fill(r.lba * this.blockSize, r.blocks * this.blockSize, zero)));
    return fills.some((f) => f instanceof Promise) ? Promise.all(fills).then(() => good()) : good();
  }
}
