// Live per-path counters: the I/O counters every session keeps, plus bytes in flight (for least-blocks and
// service-time) and the path's failovers and reinstatements.
import type { DataDirection } from '../scsi/commands';
import { IoCounters, type IoCountersSnapshot } from '../session/io-counters';

export interface PathStatsSnapshot extends IoCountersSnapshot {
  /** I/Os completed on this path (reads + writes + others). */
  ios: number;
  inFlightBytes: number;
  /** Times the path went failed, and came back. */
  failovers: number;
  reinstatements: number;
}

export class PathStats extends IoCounters {
  inFlightBytes = 0;
  /** Times the path went failed, and came back. */
  failovers = 0;
  reinstatements = 0;
  /** Told of every completed I/O's latency (the metrics' histograms); unset costs nothing. */
  onCompleted?: (direction: DataDirection, bytes: number, seconds: number) => void;

  start(bytes: number): void {
    this.begin();
    this.inFlightBytes += bytes;
  }

  end(direction: DataDirection, bytes: number, latencyUs: number): void {
    this.complete(direction, bytes, latencyUs);
    this.inFlightBytes -= bytes;
    this.onCompleted?.(direction, bytes, latencyUs / 1e6);
  }

  /** The I/O did not complete here (path error, or an error of the LU): nothing is counted as transferred. */
  abort(bytes: number, pathFailure: boolean): void {
    this.stop(pathFailure);
    this.inFlightBytes -= bytes;
  }

  snapshot(): PathStatsSnapshot {
    return {
      ...this.counters(), ios: this.reads + this.writes + this.others, inFlightBytes: this.inFlightBytes,
      failovers: this.failovers, reinstatements: this.reinstatements,
    };
  }
}
