// Failover under verified I/O (DESIGN.md "Performance targets", failover): 2 and 4 shaped netns paths (1 Gbit/s
// tbf) to stock tgtd (a portal per path) and to the embedded array's redirecting group portal; 64 KiB random reads
// and writes at QD 32, round-robin, every read checked against what was acknowledged (lib/bench/verified-workload).
// Per run, in sequence on one path: a silent cut, restored; a hard cut (TCP resets), restored; its far end down
// (member down, or tgtd's portal refusing), up. Per event: the longest gap between completions, I/Os re-driven,
// application I/O errors, and the time from restore until the path carries I/O again; after the run every block
// is read and checked. `--rounds N` (3) and the table's medians; `--json`. Root only: without it, says why and
// exits 1 (0 with --allow-skip). `--hold S` keeps each fault on S seconds (5), `--observe S` waits at most S
// seconds for the path after restore (8).
import { Command } from 'commander';
import { PathFaults, type Fault } from '../lib/bench/path-faults';
import { requireRootForNetns, ShapedPaths } from '../lib/bench/shaped-paths';
import type { Mismatch } from '../lib/bench/block-model';
import { VerifiedWorkload } from '../lib/bench/verified-workload';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import { haveTool } from '../test/support/tools';
import { startRig, type Rig, type TargetKind } from './fault-rig';

const EVENTS = ['silent-cut', 'hard-cut', 'member-down'] as const;
type EventName = typeof EVENTS[number];

/** The targets the bench compares against (DESIGN.md); printed as pass/fail, never adjusted to the result. */
const GOALS = { silentCutGapMs: 2000, reinstateMs: 5000 };

interface EventResult {
  event: EventName;
  path: number;
  /** When the fault was applied and undone, ms on the workload's clock (the clock of mismatches). */
  faultAtMs: number;
  restoredAtMs: number;
  /** Paths the fault took down: 1 for a cut; for member down, every path logged in to that member then. */
  pathsHit: number;
  /** Longest time between two completions from the fault until 1 s after the path is back, ms. */
  gapMs: number;
  /** Path attempts that failed (each re-driven or reported) minus the errors the application saw. */
  redriven: number;
  errors: number;
  /** Whether multipath marked the path failed, and how long after the fault. */
  detectedMs: number | null;
  /** From restore until the path completed I/O again, ms; null when it did not within --observe. */
  reinstatedMs: number | null;
}

interface RunResult {
  target: TargetKind;
  paths: number;
  round: number;
  events: EventResult[];
  ios: number;
  errors: number;
  hung: number;
  mismatchedBlocks: number;
  blocksChecked: number;
  unreadableAtEnd: number;
  failovers: number;
  reinstatements: number;
  errorSamples: string[];
  /** The first wrong blocks (LBA, what was acknowledged, what was read, when), beside the events' times. */
  mismatches: (Mismatch & { writes: Record<number, { issuedMs: number; ackedMs: number | null } | null> })[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function pathFailures(device: MultipathDevice): number {
  return device.paths.reduce((n, p) => n + p.stats.failures, 0);
}

/** Resolves with ms since `since` once path `k` is usable and has completed an I/O after `since`; null at timeout. */
async function carriesIo(device: MultipathDevice, k: number, since: number, timeoutMs: number): Promise<number | null> {
  const path = device.paths[k];
  const base = path.stats.reads + path.stats.writes;
  while (performance.now() - since < timeoutMs) {
    if (path.state !== 'failed' && path.stats.reads + path.stats.writes > base) return Math.round(performance.now() - since);
    await sleep(20);
  }
  return null;
}

async function runEvent(rig: Rig, net: ShapedPaths, faults: PathFaults, workload: VerifiedWorkload, event: EventName, k: number,
  o: { holdMs: number; observeMs: number }): Promise<EventResult> {
  const { device } = rig;
  // Start from every path carrying I/O, so one event's tail is not the next one's gap.
  for (let i = 0; i < device.paths.length; i++) await carriesIo(device, i, performance.now(), o.observeMs);
  let detected: number | null = null;
  const onFailed = (e: { path: { id: number } }) => { if (e.path.id === k && detected === null) detected = performance.now(); };
  device.on('path-failed', onFailed);
  const failures0 = pathFailures(device);
  const errors0 = workload.errors;
  const remote = (i: number) => { const r = device.paths[i].info().remote; return `${r.address}:${r.port}`; };
  const pathsHit = event === 'member-down' ? device.paths.filter((_, i) => remote(i) === remote(k)).length : 1;
  workload.gaps.mark();
  const faultAt = performance.now();
  const faultAtMs = workload.elapsedMs();
  let undo: () => Promise<void>;
  if (event === 'member-down') undo = await rig.farEndDown(k);
  else {
    const fault: Fault = event === 'silent-cut' ? faults.silentCut(net.paths[k]) : faults.hardCut(net.paths[k]);
    undo = async () => fault.restore();
  }
  await sleep(o.holdMs);
  const restoredAt = performance.now();
  const restoredAtMs = workload.elapsedMs();
  await undo();
  const reinstatedMs = await carriesIo(device, k, restoredAt, o.observeMs);
  await sleep(1000);
  device.off('path-failed', onFailed);
  const errors = workload.errors - errors0;
  return {
    event, path: k, faultAtMs, restoredAtMs, pathsHit, gapMs: Math.round(workload.gaps.mark()), errors,
    redriven: Math.max(0, pathFailures(device) - failures0 - errors),
    detectedMs: detected === null ? null : Math.round((detected as number) - faultAt), reinstatedMs,
  };
}

async function runOnce(net: ShapedPaths, faults: PathFaults, target: TargetKind, paths: number, round: number,
  o: { holdMs: number; observeMs: number; qd: number; bs: number }): Promise<RunResult> {
  const rig = await startRig({
    kind: target, network: { kind: 'netns', net, faults }, paths, lunBytes: 128 << 20, port: 3260,
    initiatorName: 'iqn.2024-01.io.iscsi-mpio:bench-failover',
  });
  try {
    const workload = await VerifiedWorkload.create(rig.device, { bs: o.bs, qd: o.qd, spanBytes: 64 << 20 });
    workload.start();
    await sleep(1500);
    const events: EventResult[] = [];
    const k = round % paths; // a different path each round
    for (const event of EVENTS) {
      events.push(await runEvent(rig, net, faults, workload, event, k, o));
      if (!process.argv.includes('--json')) {
        const e = events[events.length - 1];
        process.stderr.write(`  ${target} ${paths} paths round ${round + 1} ${event} on path ${k} (${e.pathsHit} hit): gap ${e.gapMs} ms, re-driven ${e.redriven}, ` +
          `errors ${e.errors}, detected ${e.detectedMs ?? '-'} ms, back ${e.reinstatedMs ?? 'never'} ms\n`);
      }
    }
    const { hung } = await workload.stop(30_000);
    const final = hung ? { blocks: 0, mismatched: 0, unreadable: 0 } : await workload.verifyAll();
    return {
      target, paths, round, events, ios: workload.ios, errors: workload.errors, hung,
      mismatchedBlocks: workload.model.mismatchedBlocks, blocksChecked: final.blocks, unreadableAtEnd: final.unreadable,
      failovers: rig.device.paths.reduce((n, p) => n + p.stats.failovers, 0),
      reinstatements: rig.device.paths.reduce((n, p) => n + p.stats.reinstatements, 0),
      errorSamples: workload.errorSamples.map((e) => `${e.op} LBA ${e.lba} at ${e.at} ms: ${e.message}`),
      mismatches: workload.mismatches.slice(0, 100).map((m) => {
        const found = /generation (\d+)/.exec(m.found);
        return { ...m, writes: Object.fromEntries([...m.expected, m.previous, ...(found ? [Number(found[1])] : [])].map((g) => [g, workload.writeTime(g) ?? null])) };
      }),
    };
  } finally {
    faults.restoreAll();
    await rig.close();
  }
}

interface Row {
  target: TargetKind; paths: number; event: EventName;
  gapMs: number; redriven: number; errors: number; reinstatedMs: number | null; detectedMs: number | null;
  mismatchedBlocks: number; hung: number;
  pass: { gap: boolean | null; errors: boolean; mismatches: boolean; reinstated: boolean };
}

function summarise(runs: RunResult[]): Row[] {
  const rows: Row[] = [];
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) groups.set(`${r.target}/${r.paths}`, [...(groups.get(`${r.target}/${r.paths}`) ?? []), r]);
  for (const group of groups.values()) {
    for (const event of EVENTS) {
      const es = group.map((r) => r.events.find((e) => e.event === event)!);
      const back = es.map((e) => e.reinstatedMs);
      const gapMs = median(es.map((e) => e.gapMs));
      const reinstatedMs = back.includes(null) ? null : median(back as number[]);
      const detected = es.map((e) => e.detectedMs).filter((d): d is number => d !== null);
      const errors = es.reduce((n, e) => n + e.errors, 0);
      const mismatchedBlocks = group.reduce((n, r) => n + r.mismatchedBlocks, 0);
      const hung = group.reduce((n, r) => n + r.hung, 0);
      rows.push({
        target: group[0].target, paths: group[0].paths, event, gapMs, redriven: median(es.map((e) => e.redriven)), errors,
        reinstatedMs, detectedMs: detected.length ? median(detected) : null, mismatchedBlocks, hung,
        pass: {
          gap: event === 'silent-cut' ? gapMs <= GOALS.silentCutGapMs : null,
          errors: errors === 0 && hung === 0,
          mismatches: mismatchedBlocks === 0 && hung === 0,
          reinstated: reinstatedMs !== null && reinstatedMs <= GOALS.reinstateMs,
        },
      });
    }
  }
  return rows;
}

function printTable(rows: Row[], runs: RunResult[], o: { holdMs: number; rounds: number; qd: number }): void {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const yes = (b: boolean | null) => (b === null ? '-' : b ? 'pass' : 'FAIL');
  console.log(`failover: 1gbit tbf veths, 64 KiB random read/write 50/50 verified, QD ${o.qd}, round-robin; each fault held ${o.holdMs / 1000} s; medians of ${o.rounds} rounds (errors, mismatches: totals)`);
  console.log(`${'target'.padEnd(9)}${pad('paths', 5)}  ${'event'.padEnd(12)}${pad('gap ms', 8)}${pad('detect ms', 10)}${pad('re-driven', 10)}${pad('errors', 7)}` +
    `${pad('back ms', 8)}${pad('mismatch', 9)}   gap≤2s  0 err  0 bad  back≤5s`);
  for (const r of rows) {
    console.log(`${r.target.padEnd(9)}${pad(r.paths, 5)}  ${r.event.padEnd(12)}${pad(r.gapMs, 8)}${pad(r.detectedMs ?? '-', 10)}${pad(r.redriven, 10)}${pad(r.errors, 7)}` +
      `${pad(r.reinstatedMs ?? 'never', 8)}${pad(r.mismatchedBlocks, 9)}   ${yes(r.pass.gap).padEnd(6)}  ${yes(r.pass.errors).padEnd(5)}  ${yes(r.pass.mismatches).padEnd(5)}  ${yes(r.pass.reinstated)}`);
  }
  for (const key of new Set(runs.map((r) => `${r.target}/${r.paths}`))) {
    const group = runs.filter((r) => `${r.target}/${r.paths}` === key);
    console.log(`${key}: ${median(group.map((r) => r.ios))} verified I/Os per run (median), path failovers ${group.map((r) => r.failovers).join('/')}, reinstatements ${group.map((r) => r.reinstatements).join('/')}`);
  }
  const checked = runs.reduce((n, r) => n + r.blocksChecked, 0);
  const hung = runs.reduce((n, r) => n + r.hung, 0);
  console.log(`after each run every block of the 64 MiB span was read and checked: ${checked} blocks in all, ${runs.reduce((n, r) => n + r.mismatchedBlocks, 0)} mismatched` +
    (hung ? `; ${hung} I/Os never completed (runs not checked)` : ''));
  for (const r of runs.filter((run) => run.mismatches.length > 0)) {
    const events = r.events.map((e) => `${e.event} ${e.faultAtMs}-${e.restoredAtMs} ms`).join(', ');
    console.log(`${r.target}/${r.paths} round ${r.round + 1}: wrong blocks (events: ${events}):`);
    const at = (w: { issuedMs: number; ackedMs: number | null } | null) => (w ? `${w.issuedMs}->${w.ackedMs ?? 'failed'}` : '?');
    for (const m of r.mismatches.slice(0, 8)) {
      console.log(`  LBA ${m.lba} at ${m.atMs} ms (${m.when}): acknowledged ${m.expected.join(' or ')}, found ${m.found} (previous ${m.previous}); ` +
        `writes issued->acked ms: ${Object.entries(m.writes).map(([g, w]) => `${g} ${at(w)}`).join(', ')}`);
    }
  }
  const samples = runs.flatMap((r) => r.errorSamples.slice(0, 3).map((s) => `  ${r.target}/${r.paths} round ${r.round + 1}: ${s}`));
  if (samples.length) console.log(['first application errors:', ...samples.slice(0, 12)].join('\n'));
}

async function main(): Promise<void> {
  const program = new Command('bench:failover')
    .option('--rounds <n>', 'rounds (the table shows medians)', '3')
    .option('--hold <s>', 'seconds each fault is held', '5')
    .option('--observe <s>', 'seconds to wait for a path after restore', '8')
    .option('--paths <list>', 'path counts', '2,4')
    .option('--targets <list>', 'tgtd, embedded', 'tgtd,embedded')
    .option('--qd <n>', 'queue depth', '32')
    .option('--json', 'machine-readable output')
    .option('--allow-skip', 'exit 0 when it cannot run (not root, tools missing)')
    .parse(process.argv);
  const opts = program.opts<{ rounds: string; hold: string; observe: string; paths: string; targets: string; qd: string; json?: boolean; allowSkip?: boolean }>();
  const o = { rounds: Number(opts.rounds), holdMs: Number(opts.hold) * 1000, observeMs: Number(opts.observe) * 1000, qd: Number(opts.qd), bs: 64 * 1024 };
  const counts = opts.paths.split(',').map(Number);
  const targets = opts.targets.split(',') as TargetKind[];
  if (!(o.rounds >= 1) || !(o.holdMs > 0) || !(o.observeMs > 0) || counts.some((n) => !(n >= 1 && n <= 8)) || targets.some((t) => t !== 'tgtd' && t !== 'embedded')) {
    throw new RangeError('bad options: --rounds >= 1, --hold/--observe > 0, --paths 1..8, --targets tgtd,embedded');
  }
  try {
    if (process.getuid?.() !== 0) throw new Error('it needs root: it builds a network namespace with veth pairs, shapes them with tc and cuts them with nftables');
    requireRootForNetns('bench:failover');
    const missing = ['nft', 'ss', ...(targets.includes('tgtd') ? ['tgtd', 'tgtadm'] : [])].filter((t) => !haveTool(t));
    if (missing.length) throw new Error(`bench:failover needs ${missing.join(', ')}`);
  } catch (error) {
    console.error(`bench:failover cannot run: ${(error as Error).message}`);
    process.exitCode = opts.allowSkip ? 0 : 1;
    return;
  }
  const net = ShapedPaths.create({ paths: Math.max(...counts) });
  const faults = new PathFaults(net);
  const interrupted = () => { faults.restoreAll(); net.destroy(); process.exit(130); };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const runs: RunResult[] = [];
  try {
    for (const target of targets) {
      for (const n of counts) for (let round = 0; round < o.rounds; round++) runs.push(await runOnce(net, faults, target, n, round, o));
    }
  } finally {
    faults.restoreAll();
    net.destroy();
  }
  const rows = summarise(runs);
  if (opts.json) process.stdout.write(JSON.stringify({ ...o, goals: GOALS, rows, runs }, null, 2) + '\n');
  else printTable(rows, runs, o);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
