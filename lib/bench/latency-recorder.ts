// Per-I/O completion latencies of one bench run, kept exactly (a Float64Array that doubles as it fills) so p50 and
// p99 are true percentiles, not bucket estimates. 8 bytes per I/O: a million I/Os cost 8 MB.

export class LatencyRecorder {
  private samples = new Float64Array(4096);
  private count = 0;

  record(microseconds: number): void {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = microseconds;
  }

  get size(): number { return this.count; }

  /** Nearest-rank percentiles in microseconds (rounded to 0.1 µs); zeros when nothing was recorded. */
  percentiles(): { p50: number; p99: number } {
    if (this.count === 0) return { p50: 0, p99: 0 };
    const sorted = this.samples.slice(0, this.count).sort();
    const rank = (p: number) => sorted[Math.min(this.count - 1, Math.max(0, Math.ceil(p * this.count) - 1))];
    return { p50: Math.round(rank(0.5) * 10) / 10, p99: Math.round(rank(0.99) * 10) / 10 };
  }
}
