// Which (local path, target portal) pairs a device logs in on when the target has several portals and no group
// portal to redirect: `mesh` logs every local path spec into every portal (open-iscsi's every iface × every
// discovered portal, MSDSM's one path per NIC per portal), `pair` takes local path i to portal i (ports cabled one
// to one). Portals come in the order the target's SendTargets answers list them.
import type { Portal } from './portal';
import type { DiscoveredTarget } from './protocol/discovery-text';

export type PortalLayout = 'mesh' | 'pair';

/** The local side of a path spec (where it leaves this host) plus the portal it must log in to. */
interface PlannedSpec { sourceAddress?: string; device?: string; portal?: string | Portal }

/** A layout that cannot be built from the specs given (exit 2 on the CLI: nothing was logged in). */
export class PathPlanError extends RangeError {
  override name = 'PathPlanError';
  readonly code = 'EARGUMENT';
}

/** The portal's SendTargets answer did not list the target (a wrong IQN, or one this initiator may not see). */
export class TargetNotListedError extends Error {
  override name = 'TargetNotListedError';
  readonly code = 'ENOTARGET';
  constructor(readonly target: string, readonly portals: string, readonly listed: string[]) {
    super(`${portals} did not list ${target} in SendTargets${listed.length ? ` (it lists ${listed.join(', ')})` : ' (it lists no target)'}`);
  }
}

/**
 * The portals the SendTargets answers list for `target`, in their order (the first answer's first), each once. Some
 * targets (tgtd, and IET's descendants) list only the portal they were asked on, so a caller may ask several.
 */
export function targetPortals(answers: ReadonlyArray<{ via: string; targets: DiscoveredTarget[] }>, target: string): Portal[] {
  const seen = new Set<string>();
  const portals: Portal[] = [];
  for (const { targets } of answers) {
    for (const p of targets.find((t) => t.name === target)?.portals ?? []) {
      const key = `${p.address}|${p.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      portals.push({ address: p.address, port: p.port });
    }
  }
  if (portals.length === 0) {
    const listed = [...new Set(answers.flatMap((a) => a.targets.map((t) => t.name)))];
    throw new TargetNotListedError(target, answers.map((a) => a.via).join(', '), listed);
  }
  return portals;
}

/**
 * The local sides a layout starts from (none given = one path wherever routing sends it). A spec that already
 * names its portal cannot take part, since the layout chooses the portals: checked before any discovery.
 */
export function localSides<S extends PlannedSpec>(specs: readonly S[]): readonly S[] {
  const fixed = specs.findIndex((s) => s.portal !== undefined);
  if (fixed >= 0) throw new PathPlanError(`path ${fixed} names its own portal: with --all-portals or --pair the target's portals are chosen for every path`);
  return specs.length > 0 ? specs : [{} as S];
}

/** The path specs of a layout over `portals`. */
export function planPaths<S extends PlannedSpec>(specs: readonly S[], portals: readonly Portal[], layout: PortalLayout): Array<S & { portal: Portal }> {
  const locals = localSides(specs);
  if (layout === 'mesh') return locals.flatMap((local) => portals.map((portal) => ({ ...local, portal })));
  if (locals.length > portals.length) {
    throw new PathPlanError(`--pair takes local path i to portal i, but there are ${locals.length} local paths and the target lists ${portals.length} portal${portals.length === 1 ? '' : 's'}`);
  }
  return locals.map((local, i) => ({ ...local, portal: portals[i] }));
}
