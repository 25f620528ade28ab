// Live per-path counters (protocol.md §0 item 18). Plain integer fields updated once per I/O: cheap enough for the
// hot path and exact, so a benchmark can show that two paths carry twice the bytes of one.
import type { DataDirection } from '../scsi/commands';

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

export class PathStats {
  reads = 0;
  writes = 0;
  others = 0;
  bytesRead = 0;
  bytesWritten = 0;
  inFlight = 0;
  inFlightBytes = 0;
  failures = 0;
  failovers = 0;
  reinstatements = 0;
  latencyUsEwma = 0;

  start(bytes: number): void {
    this.inFlight++;
    this.inFlightBytes += bytes;
  }

  end(direction: DataDirection, bytes: number, latencyUs: number): void {
    this.inFlight--;
    this.inFlightBytes -= bytes;
    if (direction === 'read') { this.reads++; this.bytesRead += bytes; }
    else if (direction === 'write') { this.writes++; this.bytesWritten += bytes; }
    else this.others++;
    this.latencyUsEwma = this.latencyUsEwma === 0 ? latencyUs : this.latencyUsEwma + (latencyUs - this.latencyUsEwma) / 16;
  }

  /** The I/O did not complete here (path error, or an error of the LU): nothing is counted as transferred. */
  abort(bytes: number, pathFailure: boolean): void {
    this.inFlight--;
    this.inFlightBytes -= bytes;
    if (pathFailure) this.failures++;
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
