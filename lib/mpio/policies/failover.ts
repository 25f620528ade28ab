// Fail Over Only (MSDSM policy 1): one path carries every I/O, the rest stand by. When it fails the next usable path
// (the preferred one first) takes over. Failback to the preferred path when it returns is configurable: on by
// default only when a preferred path is named, as in MSDSM (PreferredPath) and VMware's FIXED; otherwise the
// working path stays (dm-multipath failback manual, VMware MRU).
import type { SelectablePath } from '../path';
import { BaseSelector, intOption } from '../path-selector';

export interface FailoverOptions {
  /** The path id to prefer. */
  preferredPath?: number;
  /** Go back to the preferred path (path 0 when none is named) as soon as it is reinstated. */
  failback?: boolean;
}

export class FailoverSelector<P extends SelectablePath = SelectablePath> extends BaseSelector<P> {
  readonly name = 'failover' as const;
  readonly options: Readonly<{ preferredPath: number; failback: boolean }>;
  private current?: P;
  private failbackTo?: P;

  constructor(options: FailoverOptions = {}) {
    super();
    const preferredPath = intOption(options.preferredPath, 'preferredPath', 0, 0);
    this.options = { preferredPath, failback: options.failback ?? options.preferredPath !== undefined };
  }

  override fail(path: P): void {
    if (path === this.current) this.current = undefined;
  }

  override reinstate(path: P): void {
    // Switch at the next selection, if the preferred path is among the candidates by then.
    if (this.options.failback && path.id === this.options.preferredPath) this.failbackTo = path;
  }

  select(candidates: readonly P[]): P {
    if (this.failbackTo) {
      if (candidates.includes(this.failbackTo)) this.current = this.failbackTo;
      this.failbackTo = undefined;
    }
    if (this.current === undefined || !candidates.includes(this.current)) {
      this.current = candidates.find((p) => p.id === this.options.preferredPath) ?? candidates[0];
    }
    return this.current;
  }

  override activeSet(candidates: readonly P[]): readonly P[] {
    return candidates.length === 0 ? [] : [this.select(candidates)];
  }
}
