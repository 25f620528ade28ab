// Round Robin with Subset (MSDSM policy 3): round robin over an administrator-chosen primary set; the other paths
// stand by and carry I/O only while every primary path is unusable, and stop as soon as any primary returns.
import { PolicyError } from '../errors';
import type { SelectablePath } from '../path';
import { BaseSelector, intOption } from '../path-selector';
import { Rotation } from './round-robin';

export interface RoundRobinSubsetOptions {
  /** Path ids of the primary set. Default: path 0 only. */
  primary?: number[];
  minIo?: number;
}

export class RoundRobinSubsetSelector<P extends SelectablePath = SelectablePath> extends BaseSelector<P> {
  readonly name = 'round-robin-subset' as const;
  readonly options: Readonly<{ primary: readonly number[]; minIo: number }>;
  private readonly primary: ReadonlySet<number>;
  private readonly rotation: Rotation<P>;
  // The filtered candidate list is rebuilt only when the candidate list itself changes (the device caches it).
  private seen?: readonly P[];
  private subset: readonly P[] = [];

  constructor(options: RoundRobinSubsetOptions = {}) {
    super();
    const primary = options.primary ?? [0];
    if (!Array.isArray(primary) || primary.length === 0) throw new PolicyError('round-robin-subset needs a non-empty primary path list');
    primary.forEach((id, i) => intOption(id, `primary[${i}]`, 0, 0));
    this.options = { primary: [...primary], minIo: intOption(options.minIo, 'minIo', 1, 1) };
    this.primary = new Set(primary);
    this.rotation = new Rotation(this.options.minIo);
  }

  select(candidates: readonly P[]): P { return this.rotation.next(this.activeSet(candidates)); }

  override activeSet(candidates: readonly P[]): readonly P[] {
    if (candidates !== this.seen) {
      this.seen = candidates;
      const primaries = candidates.filter((p) => this.primary.has(p.id));
      this.subset = primaries.length > 0 ? primaries : candidates;
    }
    return this.subset;
  }
}
