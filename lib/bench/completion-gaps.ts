// The longest time between two I/O completions: what an application sees as a stall during a failover. A window
// (one fault event, one soak sample) starts at mark(); the gap from its start to its first completion and from
// its last completion to now count too, so a window with no completion at all reports its whole length.

export class CompletionGaps {
  private last: number;
  private windowStart: number;
  private windowMax = 0;
  /** The longest gap since the workload started, ms. */
  overallMs = 0;
  completions = 0;

  constructor(now = performance.now()) {
    this.last = now;
    this.windowStart = now;
  }

  record(now = performance.now()): void {
    const gap = now - Math.max(this.last, this.windowStart);
    if (gap > this.windowMax) this.windowMax = gap;
    if (now - this.last > this.overallMs) this.overallMs = now - this.last;
    this.last = now;
    this.completions++;
  }

  /** The longest gap in the window so far, ms (the open gap up to `now` included). */
  windowMs(now = performance.now()): number {
    return Math.max(this.windowMax, now - Math.max(this.last, this.windowStart));
  }

  /** Ends the window (returning its longest gap, ms) and starts the next. */
  mark(now = performance.now()): number {
    const longest = this.windowMs(now);
    this.windowStart = now;
    this.windowMax = 0;
    return longest;
  }
}
