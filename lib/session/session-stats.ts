// Live per-session counters (protocol.md §0 item 18): what a multipath policy and a benchmark need to see.
import type { DataDirection } from '../scsi/commands';

export interface SessionStatsSnapshot {
  reads: number;
  writes: number;
  /** Commands without data (TEST UNIT READY, SYNCHRONIZE CACHE...). */
  others: number;
  bytesRead: number;
  bytesWritten: number;
  inFlight: number;
  failures: number;
  reconnects: number;
  redirects: number;
  /** Exponentially weighted moving average of command latency, microseconds. */
  latencyUsEwma: number;
}

export class SessionStats {
  reads = 0;
  writes = 0;
  others = 0;
  bytesRead = 0;
  bytesWritten = 0;
  inFlight = 0;
  failures = 0;
  reconnects = 0;
  redirects = 0;
  private ewmaUs = 0;

  started(): void { this.inFlight++; }

  completed(direction: DataDirection, bytes: number, latencyMs: number): void {
    this.inFlight--;
    if (direction === 'read') { this.reads++; this.bytesRead += bytes; }
    else if (direction === 'write') { this.writes++; this.bytesWritten += bytes; }
    else this.others++;
    const us = latencyMs * 1000;
    this.ewmaUs = this.ewmaUs === 0 ? us : this.ewmaUs + (us - this.ewmaUs) / 16;
  }

  failed(): void {
    this.inFlight--;
    this.failures++;
  }

  snapshot(): SessionStatsSnapshot {
    return {
      reads: this.reads, writes: this.writes, others: this.others, bytesRead: this.bytesRead, bytesWritten: this.bytesWritten,
      inFlight: this.inFlight, failures: this.failures, reconnects: this.reconnects, redirects: this.redirects,
      latencyUsEwma: Math.round(this.ewmaUs),
    };
  }
}
