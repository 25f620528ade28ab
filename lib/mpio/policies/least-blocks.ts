// Least Blocks (MSDSM policy 6): the path with the fewest bytes outstanding; ties are shared out in turn.
import type { SelectablePath } from '../path';
import { BaseSelector, LeastPicker } from '../path-selector';

const bytesOutstanding = (p: SelectablePath): number => p.stats.inFlightBytes;

export class LeastBlocksSelector<P extends SelectablePath = SelectablePath> extends BaseSelector<P> {
  readonly name = 'least-blocks' as const;
  readonly options = {};
  private readonly picker = new LeastPicker();

  select(candidates: readonly P[]): P { return this.picker.pick(candidates, bytesOutstanding); }
}
