// Live per-session counters (protocol.md §0 item 18): what a multipath policy and a benchmark need to see.
import type { DataDirection } from '../scsi/commands';
import { IoCounters } from './io-counters';

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

export class SessionStats extends IoCounters {
  reconnects = 0;
  redirects = 0;

  started(): void { this.begin(); }

  completed(direction: DataDirection, bytes: number, latencyMs: number): void {
    this.complete(direction, bytes, latencyMs * 1000);
  }

  failed(): void { this.stop(true); }

  snapshot(): SessionStatsSnapshot {
    return {
      reads: this.reads, writes: this.writes, others: this.others, bytesRead: this.bytesRead, bytesWritten: this.bytesWritten,
      inFlight: this.inFlight, failures: this.failures, reconnects: this.reconnects, redirects: this.redirects,
      latencyUsEwma: Math.round(this.latencyUsEwma),
    };
  }
}
