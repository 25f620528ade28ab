// Live per-path counters: the I/O counters every session keeps, plus bytes in flight (for least-blocks and
// service-time) and the path's failovers and reinstatements.
import type { DataDirection } from '../scsi/commands';
import { IoCounters } from '../session/io-counters';

export interface PathStatsSnapshot {
  /** I/Os completed on this path (reads + writes + others). */
  ios: number;
  reads: number;
  writes: number;
  others: number;
  bytesRead: number;
  bytesWritten: number;
  inFlight: number;
  inFlightBytes: number;
  /** I/Os that failed on this path with a path error (each was re-driven or reported). */
  failures: number;
  /** Times the path went failed, and came back. */
  failovers: number;
  reinstatements: number;
  /** Exponentially weighted moving average of completion latency, microseconds (weight 1/16). */
  latencyUsEwma: number;
}

export class PathStats extends IoCounters {
  inFlightBytes = 0;
  /** Times the path went failed, and came back. */
  failovers = 0;
  reinstatements = 0;

  start(bytes: number): void {
    this.begin();
    this.inFlightBytes += bytes;
  }

  end(direction: DataDirection, bytes: number, latencyUs: number): void {
    this.complete(direction, bytes, latencyUs);
    this.inFlightBytes -= bytes;
  }

  /** The I/O did not complete here (path error, or an error of the LU): nothing is counted as transferred. */
  abort(bytes: number, pathFailure: boolean): void {
    this.stop(pathFailure);
    this.inFlightBytes -= bytes;
  }

  snapshot(): PathStatsSnapshot {
    return {
      ios: this.reads + this.writes + this.others, reads: this.reads, writes: this.writes, others: this.others,
      bytesRead: this.bytesRead, bytesWritten: this.bytesWritten, inFlight: this.inFlight, inFlightBytes: this.inFlightBytes,
      failures: this.failures, failovers: this.failovers, reinstatements: this.reinstatements,
      latencyUsEwma: Math.round(this.latencyUsEwma),
    };
  }
}
