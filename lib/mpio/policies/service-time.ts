// Service time (dm-multipath service-time, the kernel's default selector): the path where this I/O would finish
// first, estimated as (bytes outstanding + this I/O) / relative throughput. Ties go to the faster path; a path of
// throughput 0 is used only when no path has a positive one (dm-service-time.rst).
import { PolicyError } from '../errors';
import type { SelectablePath } from '../path';
import { BaseSelector, perPathOption } from '../path-selector';

export interface ServiceTimeOptions {
  /** Path id → relative throughput 0..100; unnamed paths have 1. */
  throughput?: Record<number, number> | Map<number, number>;
}

export class ServiceTimeSelector<P extends SelectablePath = SelectablePath> extends BaseSelector<P> {
  readonly name = 'service-time' as const;
  readonly options: Readonly<{ throughput: Record<number, number> }>;
  private readonly throughput: Map<number, number>;
  private next = 0;

  constructor(options: ServiceTimeOptions = {}) {
    super();
    this.throughput = perPathOption(options.throughput, 'throughput', 0);
    for (const [id, t] of this.throughput) if (t > 100) throw new PolicyError(`throughput of path ${id} is ${t}, above 100`);
    this.options = { throughput: Object.fromEntries(this.throughput) };
  }

  select(candidates: readonly P[], bytes: number): P {
    const n = candidates.length;
    const start = this.next++ % n; // equal paths take turns
    let best = candidates[start];
    for (let i = 1; i < n; i++) {
      const p = candidates[(start + i) % n];
      if (this.better(p, best, bytes)) best = p;
    }
    return best;
  }

  /** dm-service-time's st_compare_load: compare (sz1 / t1) < (sz2 / t2) without dividing. */
  private better(a: P, b: P, bytes: number): boolean {
    const ta = this.throughput.get(a.id) ?? 1;
    const tb = this.throughput.get(b.id) ?? 1;
    if (ta === 0 || tb === 0) return ta > tb;
    const sa = a.stats.inFlightBytes + bytes;
    const sb = b.stats.inFlightBytes + bytes;
    if (sa * tb !== sb * ta) return sa * tb < sb * ta;
    return ta > tb;
  }
}
