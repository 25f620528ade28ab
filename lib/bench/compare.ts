// `bench --compare`: each path alone (its own device, one session), then all paths under the policy, and the
// speedup of the all-paths run over the best single path. Devices are opened and closed per run so a single-path
// run carries no standby sessions and every run starts from logged-in, idle paths.
import type { PathSpec } from '../initiator';
import type { MultipathDevice } from '../mpio/multipath-device';
import type { PolicyName } from '../mpio/path-selector';
import type { BenchOptions } from './bench-options';
import { runBench, type BenchResult } from './runner';

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
}

async function measured(open: OpenDevice, paths: PathSpec[], policy: PolicyName, label: string, o: BenchOptions): Promise<BenchRun> {
  const device = await open(paths, policy);
  try {
    return { label, policy, ...(await runBench(device, o)) };
  } finally {
    await device.close();
  }
}

export async function benchCompare(open: OpenDevice, request: CompareRequest): Promise<BenchReport> {
  const { paths, policy, compare, onRun, ...o } = request;
  const specs = paths.length ? paths : [{}];
  const runs: BenchRun[] = [];
  const add = (run: BenchRun) => { runs.push(run); onRun?.(run); };
  if (compare) {
    for (const [i, spec] of specs.entries()) add(await measured(open, [spec], 'failover', `path ${i} alone`, o));
  }
  add(await measured(open, specs, policy, specs.length === 1 ? '1 path' : `all ${specs.length} paths`, o));
  if (!compare) return { runs, speedup: null, speedupBasis: null };
  const best = Math.max(...runs.slice(0, -1).map((r) => r.MBps));
  const all = runs[runs.length - 1].MBps;
  return { runs, speedup: best > 0 ? Math.round((all / best) * 100) / 100 : null, speedupBasis: 'best single path' };
}
