// Soak (issue 9): four paths (netns veths as root, loopback addresses otherwise) to the embedded array and to tgtd,
// 64 KiB random reads and writes verified against what was acknowledged, while a chaos loop cuts and restores
// paths, asks for async logouts, resets the LUN through a session and restarts a member. Samples RSS, open file
// descriptors, I/Os and the longest stall over time; writes JSON and an SVG chart; checks every block at the end.
// Passes when no block is wrong, every I/O completed, and RSS and fds are flat (the last quarter's median within
// 10% above the second quarter's: the first is warm-up); exits 1 otherwise. `--minutes N` (fractions too), `--json`, `--out DIR`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { PathFaults, type Fault } from '../lib/bench/path-faults';
import { ShapedPaths } from '../lib/bench/shaped-paths';
import { timeSeriesSvg } from '../lib/bench/svg-chart';
import { VerifiedWorkload } from '../lib/bench/verified-workload';
import { haveTool } from '../test/support/tools';
import { startRig, type Network, type Rig, type TargetKind } from './fault-rig';

const PATHS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type Action = 'silent-cut' | 'hard-cut' | 'slowed' | 'async-logout' | 'drop-connections' | 'lun-reset' | 'member-restart';

interface Sample { t: number; rssMB: number; heapMB: number; arrayBuffersMB: number; fds: number; ios: Record<string, number>; stallMs: number; errors: number }
interface ChaosEvent { t: number; action: Action; path: number; targets: string[]; outcome: string }

interface Subject { kind: TargetKind; rig: Rig; workload: VerifiedWorkload }

/** The JS heap and Buffer memory beside RSS: which of them grows says where a leak would be. */
function heap(): { heapMB: number; arrayBuffersMB: number } {
  const m = process.memoryUsage();
  return { heapMB: Math.round(m.heapUsed / 1e5) / 10, arrayBuffersMB: Math.round(m.arrayBuffers / 1e5) / 10 };
}

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** One chaos action on path `k`, held `holdMs` where it has an undo. Returns what happened, per target. */
async function act(action: Action, k: number, holdMs: number, subjects: Subject[], network: Network): Promise<{ targets: string[]; outcome: string }> {
  const netns = network.kind === 'netns' ? network : undefined;
  const pathFault = async (make: () => Fault) => {
    const fault = make();
    await sleep(holdMs);
    fault.restore();
    return { targets: subjects.map((s) => s.kind), outcome: 'held and restored' };
  };
  switch (action) {
    case 'silent-cut': return pathFault(() => netns!.faults.silentCut(netns!.net.paths[k]));
    case 'hard-cut': return pathFault(() => netns!.faults.hardCut(netns!.net.paths[k]));
    case 'slowed': return pathFault(() => netns!.faults.slowed(netns!.net.paths[k], '2mbit'));
    case 'async-logout':
    case 'drop-connections': {
      const s = subjects.find((x) => x.kind === 'embedded');
      if (!s) return { targets: [], outcome: 'no embedded target' };
      const n = action === 'async-logout' ? await s.rig.control!.requestLogout({ time2Wait: 1, within: 5 }) : await s.rig.control!.dropConnections({});
      return { targets: ['embedded'], outcome: `${n} sessions` };
    }
    case 'lun-reset': {
      const outcomes = await Promise.all(subjects.map(async (s) => {
        try {
          // Through a logged-in path (the one a cut just hit may still be logging in again).
          const paths = s.rig.device.paths;
          const j = [...paths.keys()].map((i) => (k + i) % paths.length).find((i) => paths[i].session.state === 'loggedIn') ?? k;
          const response = await paths[j].session.lunReset(1);
          return `${s.kind}: response ${response} via path ${j}`;
        } catch (error) {
          return `${s.kind}: ${(error as Error).message}`;
        }
      }));
      return { targets: subjects.map((s) => s.kind), outcome: outcomes.join('; ') };
    }
    case 'member-restart': {
      const undos: Array<() => Promise<void>> = [];
      const outcomes: string[] = [];
      for (const s of subjects) {
        try { undos.push(await s.rig.farEndDown(k)); outcomes.push(`${s.kind}: down ${holdMs} ms`); } catch (error) { outcomes.push(`${s.kind}: ${(error as Error).message}`); }
      }
      await sleep(holdMs);
      for (const undo of undos) await undo();
      return { targets: subjects.map((s) => s.kind), outcome: outcomes.join('; ') };
    }
  }
}

async function main(): Promise<void> {
  const program = new Command('soak')
    .option('--minutes <n>', 'how long (fractions allowed)', '5')
    .option('--targets <list>', 'embedded, tgtd', 'embedded,tgtd')
    .option('--qd <n>', 'queue depth per target', '8')
    .option('--interval <s>', 'seconds between chaos actions', '5')
    .option('--actions <list>', 'only these chaos actions (default: every one the network allows)')
    .option('--out <dir>', 'where soak.json and soak.svg go (default a new temp directory)')
    .option('--gc', 'a full garbage collection before each sample (needs node --expose-gc): growth is then memory kept, not garbage not yet collected')
    .option('--json', 'print the JSON report on stdout')
    .parse(process.argv);
  const opts = program.opts<{ minutes: string; targets: string; qd: string; interval: string; actions?: string; out?: string; gc?: boolean; json?: boolean }>();
  const minutes = Number(opts.minutes);
  const intervalMs = Number(opts.interval) * 1000;
  const qd = Number(opts.qd);
  const kinds = opts.targets.split(',') as TargetKind[];
  if (!(minutes > 0) || !(intervalMs >= 1000) || !(qd >= 1) || kinds.some((k) => k !== 'embedded' && k !== 'tgtd')) {
    throw new RangeError('bad options: --minutes > 0, --interval >= 1, --qd >= 1, --targets embedded,tgtd');
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (opts.gc && !gc) throw new Error('soak --gc needs node --expose-gc (NODE_OPTIONS=--expose-gc)');
  const root = process.getuid?.() === 0;
  if (kinds.includes('tgtd') && !haveTool('tgtd')) throw new Error('soak: tgtd is not installed (apt install tgt), or pass --targets embedded');
  const log = (line: string) => { if (!opts.json) process.stderr.write(`${line}\n`); };

  let net: ShapedPaths | undefined;
  let network: Network;
  if (root && haveTool('nft')) {
    net = ShapedPaths.create({ paths: PATHS });
    network = { kind: 'netns', net, faults: new PathFaults(net) };
  } else {
    network = { kind: 'loopback', prefix: `127.43.${process.pid % 250}` };
    log('soak: not root (or no nft): loopback paths, target-side chaos only (no path cuts)');
  }
  const cleanup = () => { if (network.kind === 'netns') network.faults.restoreAll(); net?.destroy(); };
  const interrupted = () => { cleanup(); process.exit(130); };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const subjects: Subject[] = [];
  const samples: Sample[] = [];
  const chaos: ChaosEvent[] = [];
  const durationMs = minutes * 60_000;
  let report: object;
  let passed: boolean;
  try {
    for (const [i, kind] of kinds.entries()) {
      const rig = await startRig({ kind, network, paths: PATHS, lunBytes: 128 << 20, port: 3260 + i * 2, initiatorName: `iqn.2024-01.io.iscsi-mpio:soak-${kind}` });
      subjects.push({ kind, rig, workload: await VerifiedWorkload.create(rig.device, { bs: 64 * 1024, qd, spanBytes: 64 << 20 }) });
    }
    const embedded = kinds.includes('embedded');
    const actions = (network.kind === 'netns'
      ? ['silent-cut', 'async-logout', 'hard-cut', 'lun-reset', 'member-restart', 'slowed'] as const
      : ['async-logout', 'drop-connections', 'lun-reset', 'member-restart'] as const)
      // Async logouts and drops are the embedded target's controls; tgtd alone takes the rest.
      .filter((a) => embedded || (a !== 'async-logout' && a !== 'drop-connections'))
      .filter((a) => !opts.actions || opts.actions.split(',').includes(a)) as Action[];
    if (actions.length === 0) throw new RangeError(`soak: no chaos action left of --actions ${opts.actions} on ${network.kind} paths`);
    log(`soak: ${minutes} min, ${PATHS} ${network.kind} paths to ${kinds.join(' and ')}, QD ${qd} each, chaos every ${intervalMs / 1000} s: ${actions.join(', ')}`);

    const t0 = performance.now();
    for (const s of subjects) s.workload.start();
    const sampleMs = Math.max(1000, durationMs / 600);
    const sampler = setInterval(() => {
      if (opts.gc) gc!();
      samples.push({
        t: Math.round(performance.now() - t0) / 1000, rssMB: Math.round(process.memoryUsage.rss() / 1e5) / 10,
        ...heap(), fds: fdCount(),
        ios: Object.fromEntries(subjects.map((s) => [s.kind, s.workload.ios])),
        stallMs: Math.round(Math.max(...subjects.map((s) => s.workload.gaps.mark()))),
        errors: subjects.reduce((n, s) => n + s.workload.errors, 0),
      });
    }, sampleMs);
    let n = 0;
    while (performance.now() - t0 + intervalMs < durationMs) {
      await sleep(intervalMs / 2);
      const action = actions[n % actions.length];
      const k = Math.floor(n / actions.length) % PATHS;
      n++;
      const t = Math.round(performance.now() - t0) / 1000;
      const done = await act(action, k, Math.min(3000, intervalMs / 2), subjects, network);
      chaos.push({ t, action, path: k, ...done });
      log(`  ${t.toFixed(1)} s  ${action} path ${k}: ${done.outcome}`);
      const rest = intervalMs / 2 - Math.min(3000, intervalMs / 2);
      if (rest > 0) await sleep(rest);
    }
    const left = durationMs - (performance.now() - t0);
    if (left > 0) await sleep(left);
    clearInterval(sampler);

    const results = [];
    for (const s of subjects) {
      const { hung } = await s.workload.stop(30_000);
      const final = hung ? undefined : await s.workload.verifyAll();
      const paths = s.rig.device.paths;
      results.push({
        target: s.kind, ...s.workload.counters, ios: s.workload.ios, hung,
        failovers: paths.reduce((x, p) => x + p.stats.failovers, 0), reinstatements: paths.reduce((x, p) => x + p.stats.reinstatements, 0),
        longestStallMs: Math.round(s.workload.gaps.overallMs), blocksChecked: final?.blocks ?? 0, unreadableAtEnd: final?.unreadable ?? 0,
        mismatches: s.workload.mismatches.slice(0, 10), firstErrors: s.workload.errorSamples.slice(0, 10),
      });
    }
    // The first quarter is warm-up (receive buffers grow to their working size, the JIT settles, malloc's arenas
    // fill): a leak is growth that goes on after it, so the second quarter is the baseline.
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const flat = (pick: (x: Sample) => number) => {
      const warmup = Math.round(median(samples.slice(0, quarter).map(pick)) * 10) / 10;
      const first = Math.round(median(samples.slice(quarter, 2 * quarter).map(pick)) * 10) / 10;
      const last = Math.round(median(samples.slice(-quarter).map(pick)) * 10) / 10;
      return { warmup, first, last, growth: Math.round((last / first - 1) * 1000) / 1000, pass: last <= first * 1.1 };
    };
    const criteria = {
      noMismatchedBlocks: results.every((r) => r.mismatchedBlocks === 0),
      everyIoCompleted: results.every((r) => r.hung === 0 && r.blocksChecked > 0 && r.unreadableAtEnd === 0),
      rssFlat: flat((x) => x.rssMB),
      /** Not a criterion: shown so an RSS rise can be told apart from JS heap or Buffer growth. */
      heap: flat((x) => x.heapMB),
      arrayBuffers: flat((x) => x.arrayBuffersMB),
      fdsFlat: flat((x) => x.fds),
    };
    passed = criteria.noMismatchedBlocks && criteria.everyIoCompleted && criteria.rssFlat.pass && criteria.fdsFlat.pass && samples.length >= 4;
    report = { minutes, gcBeforeSamples: opts.gc ?? false, network: network.kind, paths: PATHS, qd, intervalS: intervalMs / 1000, passed, criteria, results, chaos, samples };

    const out = opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'iscsi-mpio-soak-'));
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'soak.json'), JSON.stringify(report, null, 2) + '\n');
    const xs = samples.map((x) => x.t);
    const rate = (kind: string) => samples.map((x, i) => (i === 0 ? 0 : (x.ios[kind] - samples[i - 1].ios[kind]) / (x.t - samples[i - 1].t)));
    fs.writeFileSync(path.join(out, 'soak.svg'), timeSeriesSvg('iscsi-mpio soak', xs, [
      { label: 'RSS (MB)', values: samples.map((x) => x.rssMB) },
      { label: 'open file descriptors', values: samples.map((x) => x.fds) },
      ...kinds.map((k) => ({ label: `${k}: verified I/Os per second`, values: rate(k) })),
      { label: 'longest stall in the sample (ms)', values: samples.map((x) => x.stallMs) },
    ], `${minutes} min, ${PATHS} ${network.kind} paths, ${chaos.length} chaos actions; ${passed ? 'passed' : 'FAILED'}`));

    if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else {
      const yes = (b: boolean) => (b ? 'pass' : 'FAIL');
      for (const r of results) {
        console.log(`${r.target.padEnd(9)} ${r.ios} verified I/Os (${r.reads} reads, ${r.writes} writes), ${r.readErrors + r.writeErrors} I/O errors, ` +
          `${r.failovers} failovers, ${r.reinstatements} reinstatements, longest stall ${r.longestStallMs} ms, ${r.blocksChecked} blocks checked at the end, ` +
          `${r.mismatchedBlocks} mismatched${r.hung ? `, ${r.hung} I/Os NEVER completed` : ''}`);
      }
      for (const r of results.filter((x) => x.mismatches.length)) {
        const m = r.mismatches[0];
        const before = chaos.filter((c) => c.t * 1000 <= m.atMs).pop();
        console.log(`${r.target}: first wrong block LBA ${m.lba} at ${(m.atMs / 1000).toFixed(1)} s (${m.when}): ${m.found}, expected generation ${m.expected.join(' or ')}` +
          (before ? `; the chaos action before it: ${before.action} on path ${before.path} at ${before.t} s` : ''));
      }
      console.log(`chaos: ${chaos.length} actions (${[...new Set(chaos.map((c) => c.action))].join(', ')})`);
      console.log(`RSS MB warm-up ${criteria.rssFlat.warmup}, second quarter ${criteria.rssFlat.first} -> last ${criteria.rssFlat.last} (${(criteria.rssFlat.growth * 100).toFixed(1)}%) ` +
        `[JS heap ${criteria.heap.first} -> ${criteria.heap.last} MB, Buffers ${criteria.arrayBuffers.first} -> ${criteria.arrayBuffers.last} MB]; ` +
        `fds ${criteria.fdsFlat.first} -> ${criteria.fdsFlat.last} (${(criteria.fdsFlat.growth * 100).toFixed(1)}%); ${samples.length} samples`);
      console.log(`criteria: 0 mismatched blocks ${yes(criteria.noMismatchedBlocks)}, every I/O completed and checked ${yes(criteria.everyIoCompleted)}, ` +
        `RSS flat (≤ +10%) ${yes(criteria.rssFlat.pass)}, fds flat (≤ +10%) ${yes(criteria.fdsFlat.pass)}`);
      console.log(`report ${path.join(out, 'soak.json')}, chart ${path.join(out, 'soak.svg')}`);
    }
  } finally {
    for (const s of subjects) await s.workload.stop(1000);
    for (const s of subjects) await s.rig.close().catch(() => undefined);
    cleanup();
  }
  if (!passed) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
