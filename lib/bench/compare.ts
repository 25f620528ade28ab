// `bench --compare`: each path alone (its own device, one session), then all paths under the policy, and the
// speedup of the all-paths run over the best single path. Devices are opened and closed per run so a single-path
// run carries no standby sessions and every run starts from logged-in, idle paths. A path keeps its place in the
// request's list as its id in every run: "path 1 alone" reports path 1, as the all-paths run does.
import type { PathSpec } from '../initiator';
import type { MultipathDevice } from '../mpio/multipath-device';
import type { PolicyName } from '../mpio/path-selector';
import type { BenchOptions } from './bench-options';
import { runBench, type BenchResult, type BenchTick } from './runner';

export interface BenchRun extends BenchResult {
  /** What ran: "path 0 alone", "all 2 paths". */
  label: string;
  policy: PolicyName;
}

export interface BenchReport {
  runs: BenchRun[];
  /** All-paths MBps over the best single path's MBps; null without --compare. */
  speedup: number | null;
  /** What the speedup is relative to. */
  speedupBasis: 'best single path' | null;
}

export type OpenDevice = (paths: PathSpec[], policy: PolicyName) => Promise<MultipathDevice>;

export interface CompareRequest extends BenchOptions {
  paths: PathSpec[];
  policy: PolicyName;
  compare: boolean;
  /** Called after each run (the CLI prints progress). */
  onRun?: (run: BenchRun) => void;
  /** Called each second while a run issues I/O (the CLI's live line). */
  onTick?: (label: string, policy: PolicyName, tick: BenchTick) => void;
}

interface Planned { label: string; policy: PolicyName; specs: PathSpec[]; pathIds: number[] }

/** The runs a request makes, in order: each path alone (with --compare), then all paths. */
function plan(specs: PathSpec[], policy: PolicyName, compare: boolean): Planned[] {
  const alone: Planned[] = compare ? specs.map((spec, i) => ({ label: `path ${i} alone`, policy: 'failover', specs: [spec], pathIds: [i] })) : [];
  const label = specs.length === 1 ? '1 path' : `all ${specs.length} paths`;
  return [...alone, { label, policy, specs, pathIds: specs.map((_, i) => i) }];
}

async function measured(open: OpenDevice, run: Planned, o: BenchOptions, onTick: CompareRequest['onTick']): Promise<BenchRun> {
  const device = await open(run.specs, run.policy);
  try {
    // The device numbers its paths from 0 in the order given, so the request's index is each one's id.
    const hooks = { pathIds: run.pathIds, onTick: onTick && ((tick: BenchTick) => onTick(run.label, run.policy, tick)) };
    return { label: run.label, policy: run.policy, ...(await runBench(device, o, hooks)) };
  } finally {
    await device.close();
  }
}

export async function benchCompare(open: OpenDevice, request: CompareRequest): Promise<BenchReport> {
  const { paths, policy, compare, onRun, onTick, ...o } = request;
  const specs = paths.length ? paths : [{}];
  const runs: BenchRun[] = [];
  for (const planned of plan(specs, policy, compare)) {
    const run = await measured(open, planned, o, onTick);
    runs.push(run);
    onRun?.(run);
  }
  if (!compare) return { runs, speedup: null, speedupBasis: null };
  const best = Math.max(...runs.slice(0, -1).map((r) => r.MBps));
  const all = runs[runs.length - 1].MBps;
  return { runs, speedup: best > 0 ? Math.round((all / best) * 100) / 100 : null, speedupBasis: 'best single path' };
}
