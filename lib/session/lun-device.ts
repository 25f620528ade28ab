// One logical unit reached over one session: the block I/O and identity commands an application uses (READ/WRITE
// 10/16, SYNCHRONIZE CACHE, UNMAP, INQUIRY with VPD 0x00/0x80/0x83/0xB0/0xB2, READ CAPACITY 10/16, REPORT LUNS,
// RTPG, TEST UNIT READY), with the retries of scsi-retry.ts. Reads land in the caller's buffer; writes go from it
// without copies.
import {
  inquiryCommand, readCapacity10Command, readCapacity16Command, readCommand, reportLunsCommand,
  reportTargetPortGroupsCommand, type ScsiCdb, synchronizeCacheCommand, testUnitReadyCommand, vpdInquiryCommand, writeCommand,
} from '../scsi/commands';
import { chooseLuIdentity, parseDeviceIdentification, type Designator, type LuIdentity } from '../scsi/designators';
import { parseStandardInquiry, type StandardInquiry } from '../scsi/inquiry';
import { parseReadCapacity10, parseReadCapacity16 } from '../scsi/read-capacity';
import { parseReportLuns, type LunEntry } from '../scsi/report-luns';
import { parseReportTargetPortGroups, type ReportTargetPortGroups } from '../scsi/alua';
import { NO_UNMAP, planUnmap, unmapCommand, unmapSupport, type UnmapRange, type UnmapSupport } from '../scsi/unmap';
import { parseBlockLimits, parseLogicalBlockProvisioning, parseSupportedVpdPages, parseUnitSerialNumber } from '../scsi/vpd';
import { VpdPage } from '../scsi/opcodes';
import { SessionArgumentError, ShortReadError } from './errors';
import { runScsi, submitScsi } from './scsi-retry';
import type { Session } from './session';

export interface DeviceIdentity {
  inquiry: StandardInquiry;
  vendor: string;
  product: string;
  revision: string;
  vpdPages: number[];
  serial?: string;
  designators: Designator[];
  /** The LU identity multipath groups paths by (VPD 0x83, else the serial). */
  identity?: LuIdentity;
}

export interface DeviceCapacity { blocks: number; blockSize: number }

/** The most one UNMAP asks of the target, in bytes: a target that zero-fills must finish well within a timeout. */
const UNMAP_BYTES_PER_COMMAND = 64 * 1024 * 1024;

export class LunDevice {
  private capacityCache?: DeviceCapacity;

  constructor(readonly session: Session, readonly lun: number) {}

  /** Logs the session out and closes it. */
  close(): Promise<void> { return this.session.close(); }

  async testUnitReady(): Promise<void> {
    await runScsi(this.session, this.lun, testUnitReadyCommand(), undefined, 'TEST UNIT READY');
  }

  async inquiry(): Promise<DeviceIdentity> {
    const std = await this.dataIn(inquiryCommand(96), 'INQUIRY');
    const inquiry = parseStandardInquiry(std);
    const vpdPages = parseSupportedVpdPages(await this.dataIn(vpdInquiryCommand(0x00), 'INQUIRY VPD 0x00'));
    const serial = vpdPages.includes(0x80) ? parseUnitSerialNumber(await this.dataIn(vpdInquiryCommand(0x80), 'INQUIRY VPD 0x80')) : undefined;
    const designators = vpdPages.includes(0x83) ? parseDeviceIdentification(await this.dataIn(vpdInquiryCommand(0x83, 1024), 'INQUIRY VPD 0x83')) : [];
    return {
      inquiry, vendor: inquiry.vendor, product: inquiry.product, revision: inquiry.revision, vpdPages, serial, designators,
      identity: chooseLuIdentity(designators, serial),
    };
  }

  /**
   * READ CAPACITY(10), then (16) when the LU has 2^32 blocks or more. Cached after the first call; callers that
   * come while it runs share it (the first 32 writes of a queue must not send 32 READ CAPACITYs).
   */
  capacity(): Promise<DeviceCapacity> {
    if (this.capacityCache) return Promise.resolve(this.capacityCache);
    this.capacityPending ??= this.readCapacity().finally(() => { this.capacityPending = undefined; });
    return this.capacityPending;
  }

  /** What the caller already knows of the LU (a multipath device read it through another path). */
  knowCapacity(capacity: DeviceCapacity): void { this.capacityCache ??= capacity; }

  private capacityPending?: Promise<DeviceCapacity>;

  private async readCapacity(): Promise<DeviceCapacity> {
    const c10 = parseReadCapacity10(await this.dataIn(readCapacity10Command(), 'READ CAPACITY(10)'));
    let capacity: DeviceCapacity = { blocks: Number(c10.blocks), blockSize: c10.blockSize };
    if (c10.needs16) {
      const c16 = parseReadCapacity16(await this.dataIn(readCapacity16Command(), 'READ CAPACITY(16)'));
      capacity = { blocks: Number(c16.blocks), blockSize: c16.blockSize };
    }
    this.capacityCache = capacity;
    return capacity;
  }

  async reportLuns(): Promise<LunEntry[]> {
    let length = 4096;
    for (;;) {
      const r = parseReportLuns(await this.dataIn(reportLunsCommand(length), 'REPORT LUNS'));
      if (r.requiredLength <= length) return r.luns;
      length = r.requiredLength;
    }
  }

  async reportTargetPortGroups(): Promise<ReportTargetPortGroups> {
    return parseReportTargetPortGroups(await this.dataIn(reportTargetPortGroupsCommand(1024), 'REPORT TARGET PORT GROUPS'));
  }

  /** Reads `blocks` blocks at `lba`, into `into` when given (Data-In lands there directly). */
  read(lba: number, blocks: number, into?: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => this.submitRead(lba, blocks, into, resolve, reject));
  }

  /** Writes `data` (a whole number of blocks) at `lba`. */
  write(lba: number, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.submitWrite(lba, data, resolve, reject));
  }

  /**
   * read() with callbacks in place of a promise, for a layer that settles its own (one promise per I/O instead of
   * one per layer). Errors, bad arguments included, go to `reject`; nothing throws.
   */
  submitRead(lba: number, blocks: number, into: Buffer | undefined, resolve: (b: Buffer) => void, reject: (e: Error) => void): void {
    const capacity = this.capacityCache;
    if (!capacity) {
      this.capacity().then(() => this.submitRead(lba, blocks, into, resolve, reject), reject);
      return;
    }
    const bytes = blocks * capacity.blockSize;
    if (into && into.length < bytes) {
      reject(new SessionArgumentError(`read of ${blocks} blocks needs ${bytes} bytes, the buffer has ${into.length}`));
      return;
    }
    const buffer = into ?? Buffer.allocUnsafe(bytes);
    let command: ScsiCdb;
    try {
      command = readCommand(lba, blocks, capacity.blockSize);
    } catch (error) {
      reject(error as Error);
      return;
    }
    submitScsi(this.session, this.lun, command, buffer, 'READ', (result) => {
      // Every byte of the range, or an error: a GOOD status alone does not make the buffer data.
      const received = Math.min(result.received ?? bytes, result.underflow ? bytes - result.residual : bytes);
      if (received < bytes) reject(new ShortReadError(bytes, received));
      else resolve(buffer.length === bytes ? buffer : buffer.subarray(0, bytes));
    }, reject);
  }

  /** write() with callbacks in place of a promise (see submitRead). */
  submitWrite(lba: number, data: Buffer, resolve: () => void, reject: (e: Error) => void): void {
    const capacity = this.capacityCache;
    if (!capacity) {
      this.capacity().then(() => this.submitWrite(lba, data, resolve, reject), reject);
      return;
    }
    const { blockSize } = capacity;
    if (data.length === 0 || data.length % blockSize !== 0) {
      reject(new SessionArgumentError(`write of ${data.length} bytes is not a whole number of ${blockSize}-byte blocks`));
      return;
    }
    let command: ScsiCdb;
    try {
      command = writeCommand(lba, data.length / blockSize, blockSize);
    } catch (error) {
      reject(error as Error);
      return;
    }
    submitScsi(this.session, this.lun, command, data, 'WRITE', () => resolve(), reject);
  }

  async flush(): Promise<void> {
    await runScsi(this.session, this.lun, synchronizeCacheCommand(), undefined, 'SYNCHRONIZE CACHE');
  }

  /**
   * What the LU says of UNMAP (VPD 0xB2, limits from 0xB0), read once (again after a failure: a path that was down
   * then has an answer later); `vpdPages` saves asking for page 0x00.
   */
  unmapSupport(vpdPages?: readonly number[]): Promise<UnmapSupport> {
    this.unmapSupportPending ??= this.readUnmapSupport(vpdPages)
      .catch((error: Error) => { this.unmapSupportPending = undefined; throw error; });
    return this.unmapSupportPending;
  }

  private unmapSupportPending?: Promise<UnmapSupport>;

  /** Asks the LU (a multipath device asks through one of its paths). */
  protected async readUnmapSupport(known?: readonly number[]): Promise<UnmapSupport> {
    const pages = known ?? parseSupportedVpdPages(await this.dataIn(vpdInquiryCommand(0x00), 'INQUIRY VPD 0x00'));
    if (!pages.includes(VpdPage.LOGICAL_BLOCK_PROVISIONING)) return NO_UNMAP;
    const provisioning = parseLogicalBlockProvisioning(await this.dataIn(vpdInquiryCommand(VpdPage.LOGICAL_BLOCK_PROVISIONING), 'INQUIRY VPD 0xB2'));
    const limits = pages.includes(VpdPage.BLOCK_LIMITS) ? parseBlockLimits(await this.dataIn(vpdInquiryCommand(VpdPage.BLOCK_LIMITS), 'INQUIRY VPD 0xB0')) : undefined;
    return unmapSupport(provisioning, limits);
  }

  /**
   * Deallocates `blocks` blocks at `lba` (UNMAP, in commands that fit the LU's limits, one after another). An LU
   * that does not take UNMAP gets none: SessionArgumentError.
   */
  async unmap(lba: number, blocks: number): Promise<void> {
    const support = await this.unmapSupport();
    if (!support.supported) throw new SessionArgumentError('the LU does not support UNMAP (LBPU is not set in its VPD page 0xB2)');
    const { blockSize, blocks: size } = await this.capacity();
    if (!Number.isSafeInteger(lba) || !Number.isSafeInteger(blocks) || lba < 0 || blocks <= 0 || lba + blocks > size) {
      throw new SessionArgumentError(`UNMAP of ${blocks} blocks at ${lba} is outside the LU's ${size} blocks`);
    }
    for (const ranges of planUnmap(lba, blocks, support, Math.max(1, Math.floor(UNMAP_BYTES_PER_COMMAND / blockSize)))) {
      await this.unmapRanges(ranges);
    }
  }

  /** One UNMAP command with these block descriptors (unmap() splits a range into such commands). */
  async unmapRanges(ranges: readonly UnmapRange[]): Promise<void> {
    const command = unmapCommand(ranges);
    await runScsi(this.session, this.lun, command, command.parameterList, 'UNMAP');
  }

  private async dataIn(command: ReturnType<typeof inquiryCommand>, operation: string): Promise<Buffer> {
    const buffer = Buffer.alloc(command.transferLength);
    const result = await runScsi(this.session, this.lun, command, buffer, operation);
    // Only what arrived is data: the residual the target claims, and never more than its Data-In carried.
    const claimed = command.transferLength - (result.underflow ? result.residual : 0);
    return buffer.subarray(0, Math.max(0, Math.min(claimed, result.received ?? command.transferLength)));
  }
}
