// Per-I/O completion latencies of one bench run, as fio reports them: min, mean and max exact, percentiles from an
// HDR histogram (hdr-histogram-js, 3 significant digits: within 0.1% of the true value). Bounded memory whatever the
// run's length (a few hundred kB), where keeping every sample cost 8 bytes per I/O: an hour at 100k IOPS was 2.9 GB.
import { build, type Histogram } from 'hdr-histogram-js';

/** Microseconds, rounded to 0.1 µs; all zero when nothing was recorded. `p99_9` is the 99.9th percentile. */
export interface LatencySummary {
  p50: number;
  p99: number;
  min: number;
  mean: number;
  max: number;
  p90: number;
  p99_9: number;
}

const tenth = (us: number) => Math.round(us * 10) / 10;

export class LatencyRecorder {
  // Nanoseconds, so the sub-microsecond digit survives the histogram's integer buckets.
  private readonly histogram: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 2 ** 40, numberOfSignificantValueDigits: 3 });
  private count = 0;
  private sumUs = 0;
  private minUs = Infinity;
  private maxUs = 0;

  record(microseconds: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(microseconds * 1000)));
    this.count++;
    this.sumUs += microseconds;
    if (microseconds < this.minUs) this.minUs = microseconds;
    if (microseconds > this.maxUs) this.maxUs = microseconds;
  }

  get size(): number { return this.count; }

  summary(): LatencySummary {
    if (this.count === 0) return { p50: 0, p99: 0, min: 0, mean: 0, max: 0, p90: 0, p99_9: 0 };
    // A bucket's upper edge may pass the largest sample by its 0.1% width: never report a percentile above max.
    const at = (p: number) => tenth(Math.min(this.maxUs, this.histogram.getValueAtPercentile(p) / 1000));
    return {
      p50: at(50), p99: at(99), min: tenth(this.minUs), mean: tenth(this.sumUs / this.count), max: tenth(this.maxUs), p90: at(90), p99_9: at(99.9),
    };
  }
}
