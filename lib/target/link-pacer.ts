// Emulates a member port's link rate: a token bucket in virtual time, shared by all of that member's connections.
// This is link *emulation* on loopback, not shaping of a real NIC: each Data-In burst or R2T reserves its payload
// bytes on the emulated link and is released when the link would have had room for it, so the long-run payload
// rate of the member equals the configured rate however many connections share it.
import { performance } from 'node:perf_hooks';

// Releases due within this much of now go out at once: Node timers have millisecond granularity and the
// virtual clock (not the timer) keeps the rate, so an early release only moves credit forward a little.
const RELEASE_SLACK_MS = 1;

interface Pending { at: number; run: () => void }

export class LinkPacer {
  private bytesPerMs = 0;
  /** Virtual time (ms) when the emulated link is free again. */
  private tail = 0;
  private readonly queue: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private bytes = 0;

  constructor(bitsPerSecond?: number) {
    this.setRate(bitsPerSecond);
  }

  /** undefined removes pacing; queued work is released on its existing schedule. */
  setRate(bitsPerSecond: number | undefined): void {
    this.bytesPerMs = bitsPerSecond ? bitsPerSecond / 8 / 1000 : 0;
  }

  get bitsPerSecond(): number | undefined { return this.bytesPerMs ? this.bytesPerMs * 8000 : undefined; }
  /** Payload bytes that went through this pacer. */
  get bytesPaced(): number { return this.bytes; }

  /** Runs `run` once the emulated link has room for `bytes` (synchronously when it has room now). */
  schedule(bytes: number, run: () => void): void {
    this.bytes += bytes;
    if (!this.bytesPerMs) {
      if (this.pending === 0) return run();
      this.queue.push({ at: 0, run });
      return this.arm();
    }
    const now = performance.now();
    const start = Math.max(now, this.tail);
    this.tail = start + bytes / this.bytesPerMs;
    if (start <= now + RELEASE_SLACK_MS && this.pending === 0) return run();
    this.queue.push({ at: start, run });
    this.arm();
  }

  /** Drops queued work (the member went down or the target stops). */
  clear(): void {
    this.queue.length = 0;
    this.head = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private get pending(): number { return this.queue.length - this.head; }

  private arm(): void {
    if (this.timer || this.pending === 0) return;
    const wait = Math.max(0, this.queue[this.head].at - performance.now() - RELEASE_SLACK_MS);
    this.timer = setTimeout(() => this.release(), wait);
  }

  private release(): void {
    this.timer = undefined;
    const due = performance.now() + RELEASE_SLACK_MS;
    // Entries are in time order: reservations only ever move the tail forward.
    while (this.head < this.queue.length && this.queue[this.head].at <= due) {
      const item = this.queue[this.head++];
      item.run();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }
}
