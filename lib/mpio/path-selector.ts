// The shape of a policy, after dm-multipath's path selector (drivers/md/dm-path-selector.h): the device tells it
// about paths (add/fail/reinstate), asks it for one (select) among the usable paths of the best ALUA tier, and
// reports each I/O's start and end. Per-path counters live in PathStats, kept by the device, so a selector only
// keeps its own decision state (a cursor, the current failover path).
import { PolicyError } from './errors';
import type { SelectablePath } from './path';

export type PolicyName =
  | 'failover' | 'round-robin' | 'round-robin-subset' | 'least-queue-depth' | 'weighted-paths' | 'least-blocks' | 'service-time';

export const POLICY_NAMES: readonly PolicyName[] = [
  'failover', 'round-robin', 'round-robin-subset', 'least-queue-depth', 'weighted-paths', 'least-blocks', 'service-time',
];

export interface PathSelector<P extends SelectablePath = SelectablePath> {
  readonly name: PolicyName;
  /** The options in effect, defaults filled in (shown by inquiry and the 'policy' event). */
  readonly options: Readonly<Record<string, unknown>>;
  add(path: P): void;
  fail(path: P): void;
  reinstate(path: P): void;
  /** One of `candidates` (usable, best ALUA tier, in path-id order, never empty) for an I/O of `bytes`. */
  select(candidates: readonly P[], bytes: number): P;
  /** The candidates this policy sends I/O to; the others show as standby. */
  activeSet(candidates: readonly P[]): readonly P[];
  startIo(path: P, bytes: number): void;
  endIo(path: P, bytes: number, latencyUs: number): void;
}

/** No-op hooks; every candidate active. */
export abstract class BaseSelector<P extends SelectablePath = SelectablePath> implements PathSelector<P> {
  abstract readonly name: PolicyName;
  abstract readonly options: Readonly<Record<string, unknown>>;
  add(_path: P): void {}
  fail(_path: P): void {}
  reinstate(_path: P): void {}
  abstract select(candidates: readonly P[], bytes: number): P;
  activeSet(candidates: readonly P[]): readonly P[] { return candidates; }
  startIo(_path: P, _bytes: number): void {}
  endIo(_path: P, _bytes: number, _latencyUs: number): void {}
}

/**
 * The candidate with the least `cost`, scanning from a rotating start so that ties are shared out in turn rather
 * than always going to the first path. No allocation: this runs per I/O.
 */
export class LeastPicker {
  private next = 0;

  pick<P>(candidates: readonly P[], cost: (p: P) => number): P {
    const n = candidates.length;
    const start = this.next % n;
    let best = candidates[start];
    let bestCost = cost(best);
    for (let i = 1; i < n; i++) {
      const p = candidates[(start + i) % n];
      const c = cost(p);
      if (c < bestCost) { best = p; bestCost = c; }
    }
    this.next = start + 1;
    return best;
  }
}

/** Reads a whole-number option at least `min`. */
export function intOption(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new PolicyError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/** Reads a map of path id → number (weights, throughputs); accepts an object or a Map. */
export function perPathOption(value: unknown, name: string, min: number): Map<number, number> {
  const out = new Map<number, number>();
  if (value === undefined) return out;
  const entries = value instanceof Map ? [...value.entries()] : typeof value === 'object' && value !== null ? Object.entries(value) : undefined;
  if (!entries) throw new PolicyError(`${name} must map path ids to numbers`);
  for (const [k, v] of entries) {
    const id = Number(k);
    if (!Number.isInteger(id) || typeof v !== 'number' || !(v >= min)) throw new PolicyError(`${name}: path ${String(k)} → ${String(v)} is not a path id with a number >= ${min}`);
    out.set(id, v);
  }
  return out;
}
