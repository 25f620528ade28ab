// Accounting of the scratch memory write commands hold until they execute: one budget for the whole target and
// one per connection. A command reserves before anything is allocated and gives its bytes back when it ends, so
// an initiator announcing gigabytes gets BUSY instead of the target's heap.

export class BufferBudget {
  private used = 0;
  private peak = 0;

  constructor(readonly totalCap: number, readonly perConnectionCap: number) {}

  /** Bytes reserved now, and the most ever reserved at once (for tests and benchmarks). */
  get bytes(): number { return this.used; }
  get peakBytes(): number { return this.peak; }

  /** A connection's share: reserve() says whether both its cap and the total cap allow `bytes` more. */
  account(): ConnectionBudget { return new ConnectionBudget(this); }

  /** @internal */
  take(bytes: number): boolean {
    if (this.used + bytes > this.totalCap) return false;
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  /** @internal */
  give(bytes: number): void { this.used -= bytes; }
}

export class ConnectionBudget {
  private used = 0;

  constructor(private readonly budget: BufferBudget) {}

  get bytes(): number { return this.used; }

  reserve(bytes: number): boolean {
    if (this.used + bytes > this.budget.perConnectionCap || !this.budget.take(bytes)) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.budget.give(bytes);
  }
}
