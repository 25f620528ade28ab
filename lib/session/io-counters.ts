// The I/O counters a session and a multipath path both keep (protocol.md §0 item 18): plain integer fields updated
// once per I/O, cheap enough for the hot path and exact, so a benchmark can show what each path carried.
import type { DataDirection } from '../scsi/commands';

/** The counters at one moment, latency rounded to whole microseconds. */
export interface IoCountersSnapshot {
  reads: number;
  writes: number;
  /** Commands without data (TEST UNIT READY, SYNCHRONIZE CACHE...). */
  others: number;
  bytesRead: number;
  bytesWritten: number;
  inFlight: number;
  /** I/Os that did not complete because of the path (each was re-driven or reported). */
  failures: number;
  /** Exponentially weighted moving average of completion latency, microseconds (weight 1/16). */
  latencyUsEwma: number;
}

export class IoCounters {
  reads = 0;
  writes = 0;
  /** Commands without data (TEST UNIT READY, SYNCHRONIZE CACHE...). */
  others = 0;
  bytesRead = 0;
  bytesWritten = 0;
  inFlight = 0;
  /** I/Os that did not complete because of the path (each was re-driven or reported). */
  failures = 0;
  /** Exponentially weighted moving average of completion latency, microseconds (weight 1/16). */
  latencyUsEwma = 0;

  protected begin(): void {
    this.inFlight++;
  }

  protected complete(direction: DataDirection, bytes: number, latencyUs: number): void {
    this.inFlight--;
    if (direction === 'read') { this.reads++; this.bytesRead += bytes; }
    else if (direction === 'write') { this.writes++; this.bytesWritten += bytes; }
    else this.others++;
    this.latencyUsEwma = this.latencyUsEwma === 0 ? latencyUs : this.latencyUsEwma + (latencyUs - this.latencyUsEwma) / 16;
  }

  protected counters(): IoCountersSnapshot {
    return {
      reads: this.reads, writes: this.writes, others: this.others, bytesRead: this.bytesRead, bytesWritten: this.bytesWritten,
      inFlight: this.inFlight, failures: this.failures, latencyUsEwma: Math.round(this.latencyUsEwma),
    };
  }

  /** The I/O ended without transferring anything; `pathFailure` counts it against the path. */
  protected stop(pathFailure: boolean): void {
    this.inFlight--;
    if (pathFailure) this.failures++;
  }
}
