// One logical unit reached over one session: the block I/O and identity commands an application uses (READ/WRITE
// 10/16, SYNCHRONIZE CACHE, INQUIRY with VPD 0x00/0x80/0x83, READ CAPACITY 10/16, REPORT LUNS, RTPG, TEST UNIT
// READY), with the retries of scsi-retry.ts. Reads land in the caller's buffer; writes go from it without copies.
import {
  inquiryCommand, readCapacity10Command, readCapacity16Command, readCommand, reportLunsCommand,
  reportTargetPortGroupsCommand, type ScsiCdb, synchronizeCacheCommand, testUnitReadyCommand, vpdInquiryCommand, writeCommand,
} from '../scsi/commands';
import { chooseLuIdentity, parseDeviceIdentification, type Designator, type LuIdentity } from '../scsi/designators';
import { parseStandardInquiry, type StandardInquiry } from '../scsi/inquiry';
import { parseReadCapacity10, parseReadCapacity16 } from '../scsi/read-capacity';
import { parseReportLuns, type LunEntry } from '../scsi/report-luns';
import { parseReportTargetPortGroups, type ReportTargetPortGroups } from '../scsi/alua';
import { parseSupportedVpdPages, parseUnitSerialNumber } from '../scsi/vpd';
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

  private async dataIn(command: ReturnType<typeof inquiryCommand>, operation: string): Promise<Buffer> {
    const buffer = Buffer.alloc(command.transferLength);
    const result = await runScsi(this.session, this.lun, command, buffer, operation);
    // Only what arrived is data: the residual the target claims, and never more than its Data-In carried.
    const claimed = command.transferLength - (result.underflow ? result.residual : 0);
    return buffer.subarray(0, Math.max(0, Math.min(claimed, result.received ?? command.transferLength)));
  }
}
