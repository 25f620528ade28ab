// Live per-session counters (protocol.md §0 item 18): what a multipath policy and a benchmark need to see.
import type { DataDirection } from '../scsi/commands';
import { IoCounters, type IoCountersSnapshot } from './io-counters';

export interface SessionStatsSnapshot extends IoCountersSnapshot {
  reconnects: number;
  redirects: number;
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
    return { ...this.counters(), reconnects: this.reconnects, redirects: this.redirects };
  }
}
