// Weighted Paths (MSDSM policy 5): each path has a weight, lower = preferred; I/O goes to the usable path with the
// least weight (a priority, not a proportional share). Paths of equal weight share in turn; unnamed paths weigh 0.
import type { SelectablePath } from '../path';
import { BaseSelector, LeastPicker, perPathOption } from '../path-selector';

export interface WeightedPathsOptions {
  /** Path id → weight (>= 0). */
  weights?: Record<number, number> | Map<number, number>;
}

export class WeightedPathsSelector<P extends SelectablePath = SelectablePath> extends BaseSelector<P> {
  readonly name = 'weighted-paths' as const;
  readonly options: Readonly<{ weights: Record<number, number> }>;
  private readonly weights: Map<number, number>;
  private readonly picker = new LeastPicker();
  private readonly weightOf = (p: SelectablePath): number => this.weights.get(p.id) ?? 0;
  private seen?: readonly P[];
  private lightest: readonly P[] = [];

  constructor(options: WeightedPathsOptions = {}) {
    super();
    this.weights = perPathOption(options.weights, 'weights', 0);
    this.options = { weights: Object.fromEntries(this.weights) };
  }

  select(candidates: readonly P[]): P { return this.picker.pick(this.activeSet(candidates), () => 0); }

  override activeSet(candidates: readonly P[]): readonly P[] {
    if (candidates !== this.seen) {
      this.seen = candidates;
      const least = Math.min(...candidates.map(this.weightOf));
      this.lightest = candidates.filter((p) => this.weightOf(p) === least);
    }
    return this.lightest;
  }
}
