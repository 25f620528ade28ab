// The verified workload of the failover bench and the soak: `qd` workers issue random reads and writes of `bs`
// bytes over a span of the LU. Each I/O owns its slot of the span while in flight (no two I/Os overlap, so every
// read has one right answer), every write carries stamped blocks (block-stamp.ts) and every read is checked
// against the model (block-model.ts). It counts I/Os and application-visible errors, and times every completion.
import { randomInt } from 'node:crypto';
import type { LunDevice } from '../session/lun-device';
import { BlockModel, type Mismatch } from './block-model';
import { stampBlocks } from './block-stamp';
import { CompletionGaps } from './completion-gaps';

export interface WorkloadOptions {
  /** Bytes per I/O, a whole number of blocks. */
  bs: number;
  qd: number;
  /** Bytes of the LU (from LBA 0) the workload uses; at least 4 I/Os per worker. */
  spanBytes: number;
  /** Share of reads, 0..1; default 0.5. */
  readFraction?: number;
  /** Tells this run's stamps from any other's; default random. */
  runId?: number;
}

export interface WorkloadErrorSample { at: number; op: 'read' | 'write'; lba: number; message: string }

export interface WorkloadCounters {
  reads: number;
  writes: number;
  readErrors: number;
  writeErrors: number;
  mismatchedBlocks: number;
  indeterminateBlocks: number;
}

const WRITE_TIMES = 1 << 18;

/** After an error: a failing device would otherwise be hammered in a tight loop. */
const pause = () => new Promise((r) => setTimeout(r, 10));

export class WorkloadArgumentError extends RangeError {
  readonly code = 'EARGUMENT';
}

export class VerifiedWorkload {
  readonly model: BlockModel;
  readonly gaps = new CompletionGaps();
  reads = 0;
  writes = 0;
  readErrors = 0;
  writeErrors = 0;
  /** The first errors the application saw (at most 20), ms since start(). */
  readonly errorSamples: WorkloadErrorSample[] = [];
  private readonly ioBlocks: number;
  private readonly slots: Uint8Array;
  private nextGeneration = 1;
  private running = false;
  private workers: Promise<void>[] = [];
  private inFlight = 0;
  private started = performance.now();
  private readonly readFraction: number;
  /**
   * When the last WRITE_TIMES generations' writes were issued and acknowledged (ms on elapsedMs' clock; -1 = not
   * acknowledged), to place a wrong block in time. A ring, so a long soak's memory stays flat.
   */
  private readonly issuedMs = new Float64Array(WRITE_TIMES);
  private readonly ackedMs = new Float64Array(WRITE_TIMES);

  private constructor(private readonly device: LunDevice, readonly options: WorkloadOptions, readonly blockSize: number) {
    this.ioBlocks = options.bs / blockSize;
    const slots = Math.floor(options.spanBytes / options.bs);
    this.slots = new Uint8Array(slots);
    this.model = new BlockModel(slots * this.ioBlocks, blockSize, options.runId ?? randomInt(1, 0xffffffff));
    this.readFraction = options.readFraction ?? 0.5;
  }

  /** Checks the options against the device (its block size and capacity). */
  static async create(device: LunDevice, options: WorkloadOptions): Promise<VerifiedWorkload> {
    const { blockSize, blocks } = await device.capacity();
    const { bs, qd, spanBytes } = options;
    if (!Number.isInteger(bs) || bs <= 0 || bs % blockSize !== 0) throw new WorkloadArgumentError(`bs ${bs}: a whole number of ${blockSize}-byte blocks`);
    if (!Number.isInteger(qd) || qd < 1) throw new WorkloadArgumentError(`qd ${qd}: at least 1`);
    if (spanBytes > blocks * blockSize) throw new WorkloadArgumentError(`span ${spanBytes} is larger than the LU (${blocks * blockSize} bytes)`);
    if (Math.floor(spanBytes / bs) < qd * 4) throw new WorkloadArgumentError(`span ${spanBytes}: at least ${qd * 4} I/Os of ${bs} bytes (4 per worker)`);
    const rf = options.readFraction ?? 0.5;
    if (!(rf >= 0 && rf <= 1)) throw new WorkloadArgumentError(`readFraction ${rf}: use 0..1`);
    return new VerifiedWorkload(device, options, blockSize);
  }

  get counters(): WorkloadCounters {
    return {
      reads: this.reads, writes: this.writes, readErrors: this.readErrors, writeErrors: this.writeErrors,
      mismatchedBlocks: this.model.mismatchedBlocks, indeterminateBlocks: this.model.indeterminateBlocks,
    };
  }

  get ios(): number { return this.reads + this.writes; }
  get errors(): number { return this.readErrors + this.writeErrors; }
  get mismatches(): readonly Mismatch[] { return this.model.mismatches; }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.started = performance.now();
    this.workers = Array.from({ length: this.options.qd }, () => this.worker());
  }

  /**
   * Stops issuing I/O and waits up to `timeoutMs` for the I/Os in flight. Resolves with how many never completed
   * (hung): the caller should report them and close the device, which fails them.
   */
  async stop(timeoutMs = 30_000): Promise<{ hung: number }> {
    this.running = false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
    const outcome = await Promise.race([Promise.all(this.workers).then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    return { hung: outcome === 'timeout' ? this.inFlight : 0 };
  }

  /** Reads every block of the span (QD `qd`) and checks it; the workload must be stopped. Returns blocks checked. */
  async verifyAll(qd = 8): Promise<{ blocks: number; mismatched: number; unreadable: number }> {
    if (this.running) throw new WorkloadArgumentError('stop the workload before the final check');
    let next = 0;
    let mismatched = 0;
    let unreadable = 0;
    await Promise.all(Array.from({ length: qd }, async () => {
      const buffer = Buffer.allocUnsafe(this.options.bs);
      while (next < this.slots.length) {
        const lba = next++ * this.ioBlocks;
        try {
          await this.device.read(lba, this.ioBlocks, buffer);
          mismatched += this.model.verify(lba, this.ioBlocks, buffer, 'final', this.elapsedMs());
        } catch (error) {
          unreadable++;
          this.sample('read', lba, error);
        }
      }
    }));
    return { blocks: this.slots.length * this.ioBlocks, mismatched, unreadable };
  }

  private async worker(): Promise<void> {
    const buffer = Buffer.allocUnsafe(this.options.bs);
    const blocks = this.ioBlocks;
    while (this.running) {
      const slot = this.claimSlot();
      const lba = slot * blocks;
      this.inFlight++;
      try {
        if (Math.random() < this.readFraction) {
          try {
            await this.device.read(lba, blocks, buffer);
            this.reads++;
            this.gaps.record();
            this.model.verify(lba, blocks, buffer, 'read', this.elapsedMs());
          } catch (error) {
            this.readErrors++;
            this.sample('read', lba, error);
            await pause();
          }
        } else {
          const generation = this.nextGeneration++;
          stampBlocks(buffer, this.blockSize, lba, blocks, generation, this.model.runId);
          this.issuedMs[generation % WRITE_TIMES] = this.elapsedMs();
          this.ackedMs[generation % WRITE_TIMES] = -1;
          try {
            await this.device.write(lba, buffer);
            this.ackedMs[generation % WRITE_TIMES] = this.elapsedMs();
            this.writes++;
            this.gaps.record();
            this.model.acknowledged(lba, blocks, generation);
          } catch (error) {
            this.writeErrors++;
            this.model.failed(lba, blocks, generation);
            this.sample('write', lba, error);
            await pause();
          }
        }
      } finally {
        this.inFlight--;
        this.slots[slot] = 0;
      }
    }
  }

  /** A random free slot (there are at least 4 per worker, so the probe is short). */
  private claimSlot(): number {
    const n = this.slots.length;
    let s = Math.floor(Math.random() * n);
    while (this.slots[s]) s = (s + 1) % n;
    this.slots[s] = 1;
    return s;
  }

  /** When generation `g`'s write was issued and acknowledged, if it is recent enough to be remembered. */
  writeTime(g: number): { issuedMs: number; ackedMs: number | null } | undefined {
    if (g <= 0 || g >= this.nextGeneration || this.nextGeneration - g > WRITE_TIMES) return undefined;
    const acked = this.ackedMs[g % WRITE_TIMES];
    return { issuedMs: this.issuedMs[g % WRITE_TIMES], ackedMs: acked < 0 ? null : acked };
  }

  /** ms since start(): the clock of error samples and mismatches. */
  elapsedMs(): number {
    return Math.round(performance.now() - this.started);
  }

  private sample(op: 'read' | 'write', lba: number, error: unknown): void {
    if (this.errorSamples.length >= 20) return;
    const e = error as Error & { code?: string };
    this.errorSamples.push({ at: this.elapsedMs(), op, lba, message: `${e.code ? `${e.code}: ` : ''}${e.message}` });
  }
}
