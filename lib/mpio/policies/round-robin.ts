// Round Robin (MSDSM policy 2, dm-multipath round-robin): every usable path in turn, `minIo` I/Os each before
// moving on (dm's rr_min_io; 1 = switch on every I/O, which keeps all paths busy at high queue depth).
import type { SelectablePath } from '../path';
import { BaseSelector, intOption } from '../path-selector';

export interface RoundRobinOptions {
  /** I/Os sent down one path before the next one takes over. Default 1. */
  minIo?: number;
}

/** The rotation itself, shared with round-robin-subset. */
export class Rotation<P> {
  private index = 0;
  private count = 0;
  private last?: P;

  constructor(readonly minIo: number) {}

  next(candidates: readonly P[]): P {
    if (this.last !== undefined && this.count < this.minIo) {
      // Stay on the current path while it is still a candidate and has I/Os left in its turn.
      const at = candidates.indexOf(this.last);
      if (at >= 0) { this.count++; this.index = at; return this.last; }
    }
    this.index = this.last === undefined ? 0 : (this.index + 1) % candidates.length;
    this.last = candidates[this.index];
    this.count = 1;
    return this.last;
  }
}

export class RoundRobinSelector<P extends SelectablePath = SelectablePath> extends BaseSelector<P> {
  readonly name = 'round-robin' as const;
  readonly options: Readonly<{ minIo: number }>;
  private readonly rotation: Rotation<P>;

  constructor(options: RoundRobinOptions = {}) {
    super();
    this.options = { minIo: intOption(options.minIo, 'minIo', 1, 1) };
    this.rotation = new Rotation(this.options.minIo);
  }

  select(candidates: readonly P[]): P { return this.rotation.next(candidates); }
}
