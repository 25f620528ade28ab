// The policies by name (DESIGN.md contract names).
import { PolicyError } from '../errors';
import type { SelectablePath } from '../path';
import { POLICY_NAMES, type PathSelector, type PolicyName } from '../path-selector';
import { FailoverSelector, type FailoverOptions } from './failover';
import { LeastBlocksSelector } from './least-blocks';
import { LeastQueueDepthSelector } from './least-queue-depth';
import { RoundRobinSelector, type RoundRobinOptions } from './round-robin';
import { RoundRobinSubsetSelector, type RoundRobinSubsetOptions } from './round-robin-subset';
import { ServiceTimeSelector, type ServiceTimeOptions } from './service-time';
import { WeightedPathsSelector, type WeightedPathsOptions } from './weighted-paths';

export type { FailoverOptions, RoundRobinOptions, RoundRobinSubsetOptions, ServiceTimeOptions, WeightedPathsOptions };

export interface PolicyOptions {
  'failover': FailoverOptions;
  'round-robin': RoundRobinOptions;
  'round-robin-subset': RoundRobinSubsetOptions;
  'least-queue-depth': Record<string, never>;
  'weighted-paths': WeightedPathsOptions;
  'least-blocks': Record<string, never>;
  'service-time': ServiceTimeOptions;
}

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

/** A new selector for `name`; PolicyError for an unknown name or bad options. */
export function createPolicy<P extends SelectablePath>(name: string, options: object = {}): PathSelector<P> {
  const o = options as never;
  switch (name) {
    case 'failover': return new FailoverSelector<P>(o);
    case 'round-robin': return new RoundRobinSelector<P>(o);
    case 'round-robin-subset': return new RoundRobinSubsetSelector<P>(o);
    case 'least-queue-depth': return new LeastQueueDepthSelector<P>();
    case 'weighted-paths': return new WeightedPathsSelector<P>(o);
    case 'least-blocks': return new LeastBlocksSelector<P>();
    case 'service-time': return new ServiceTimeSelector<P>(o);
    default: throw new PolicyError(`unknown policy "${name}" (one of ${POLICY_NAMES.join(', ')})`);
  }
}
