// (Dynamic) Least Queue Depth (MSDSM policy 4, dm-multipath queue-length): the path with the fewest I/Os
// outstanding; ties are shared out in turn.
import type { SelectablePath } from '../path';
import { BaseSelector, LeastPicker } from '../path-selector';

const queueDepth = (p: SelectablePath): number => p.stats.inFlight;

export class LeastQueueDepthSelector<P extends SelectablePath = SelectablePath> extends BaseSelector<P> {
  readonly name = 'least-queue-depth' as const;
  readonly options = {};
  private readonly picker = new LeastPicker();

  select(candidates: readonly P[]): P { return this.picker.pick(candidates, queueDepth); }
}
