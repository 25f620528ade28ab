// Two `iscsi-mpio bench` processes at once against one target from this host (the same two paths, one per portal):
// each must keep its sessions (no reconnect, no command it had to re-drive, as its JSON says) and the target must
// see neither a session reinstatement nor cleared tasks (the embedded target's event log; tgtd logs nothing, so
// its session list is sampled and every I_T nexus seen counted); together they must carry >= 90% of what one
// carries alone. Alone and together alternate for `--rounds` (default 3); medians are printed. Run it under
// `flock /tmp/bench.lock`. `--target embedded|tgtd|both` (default both), `--time S` per run (default 5),
// `--rw read|write` (default read), `--json`. Exit 1 when a check fails.
import { Command } from 'commander';
import { Target } from '../lib/target/target';
import { runCli } from '../test/support/cli';
import { Tgtd } from '../test/support/tgtd';

const NETS = { embedded: '127.60.31', tgtd: '127.60.30' } as const;
type Kind = keyof typeof NETS;
const IQN = 'iqn.2024-01.io.iscsi-mpio.bench:concurrent';
const LU_BYTES = 256 << 20;

interface BenchPath { ios: number; reconnects: number; failures: number }
interface BenchJson { runs: Array<{ MBps: number; paths: BenchPath[] }> }

/** One target under test: its URL, the path specs, and what it saw during a run. */
interface Rig {
  url: string;
  paths: string[];
  /** Starts watching; the returned function stops and says what the target saw. */
  watch(): () => Promise<{ sessions: number; reinstatements: number; clearedTasks: number; log: string[] }>;
  stop(): Promise<void>;
}

async function embeddedRig(net: string): Promise<Rig> {
  const target = await Target.start({ iqn: IQN, portals: [`${net}.1:3260`, `${net}.2:3260`], luns: [LU_BYTES], nopInterval: 0 });
  const log: string[] = [];
  target.on('login', (e) => log.push(`login ${e.initiatorName} isid ${e.isid} member ${e.member}`));
  target.on('reinstated', (e) => log.push(`reinstated ${e.initiatorName} isid ${e.isid} (${e.tasks} tasks ended)`));
  target.on('tasks-cleared', (e) => log.push(`tasks-cleared lun ${e.lun} ${e.kind} (${e.tasks} tasks)`));
  target.on('warning', (e: Error) => log.push(`warning ${e.message}`));
  return {
    url: target.url(0), paths: [`${net}.11=${net}.1:3260`, `${net}.12=${net}.2:3260`],
    watch: () => {
      const from = log.length;
      return async () => {
        const seen = log.slice(from);
        return {
          sessions: seen.filter((l) => l.startsWith('login ')).length, reinstatements: seen.filter((l) => l.startsWith('reinstated ')).length,
          clearedTasks: seen.filter((l) => l.startsWith('tasks-cleared ')).length, log: seen,
        };
      };
    },
    stop: () => target.stop(),
  };
}

async function tgtdRig(net: string): Promise<Rig> {
  const portals = [`${net}.1:3260`, `${net}.2:3260`];
  const tgtd = await Tgtd.start(portals, [{ name: IQN, luns: [{ sizeBytes: LU_BYTES }] }]);
  return {
    url: `iscsi://${portals[0]}/${IQN}/1`, paths: [`${net}.11=${portals[0]}`, `${net}.12=${portals[1]}`],
    watch: () => {
      // Every 200 ms: the I_T nexus ids tgtd lists. A reconnect or a reinstatement shows as a nexus id more.
      const nexuses = new Set<string>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const { stdout } = await tgtd.tgtadm('--lld', 'iscsi', '--op', 'show', '--mode', 'target');
          for (const m of stdout.matchAll(/I_T nexus: (\d+)/g)) nexuses.add(m[1]);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      return async () => {
        sampling = false;
        await sampler;
        return { sessions: nexuses.size, reinstatements: 0, clearedTasks: 0, log: [`tgtd I_T nexus ids seen: ${[...nexuses].join(' ')}`] };
      };
    },
    stop: () => tgtd.stop(),
  };
}

async function bench(rig: Rig, seconds: number, rw: string): Promise<{ MBps: number; reconnects: number; failures: number }> {
  const args = ['bench', rig.url, '--json', '--policy', 'round-robin', '--rw', rw, '--bs', '64k', '--qd', '32', '--time', String(seconds),
    ...rig.paths.flatMap((p) => ['--path', p])];
  const run = await runCli(args);
  if (run.code !== 0) throw new Error(`bench exited ${run.code}: ${run.stderr}`);
  const [result] = (JSON.parse(run.stdout.toString()) as BenchJson).runs;
  const sum = (k: keyof BenchPath) => result.paths.reduce((n, p) => n + p[k], 0);
  return { MBps: result.MBps, reconnects: sum('reconnects'), failures: sum('failures') };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Round { aloneMBps: number; pairMBps: [number, number]; ratio: number; reconnects: number; failures: number; target: { sessions: number; reinstatements: number; clearedTasks: number } }

async function measure(kind: Kind, rounds: number, seconds: number, rw: string, say: (line: string) => void) {
  const rig = await (kind === 'embedded' ? embeddedRig : tgtdRig)(NETS[kind]);
  const results: Round[] = [];
  const problems: string[] = [];
  try {
    if (rw === 'read') await bench(rig, 1, 'write'); // reads then come from written blocks
    for (let i = 0; i < rounds; i++) {
      const alone = await bench(rig, seconds, rw);
      const seen = rig.watch();
      const pair = await Promise.all([bench(rig, seconds, rw), bench(rig, seconds, rw)]);
      const target = await seen();
      const round: Round = {
        aloneMBps: alone.MBps, pairMBps: [pair[0].MBps, pair[1].MBps], ratio: (pair[0].MBps + pair[1].MBps) / alone.MBps,
        reconnects: pair[0].reconnects + pair[1].reconnects, failures: pair[0].failures + pair[1].failures,
        target: { sessions: target.sessions, reinstatements: target.reinstatements, clearedTasks: target.clearedTasks },
      };
      results.push(round);
      say(`  ${kind} round ${i + 1}: alone ${alone.MBps} MB/s; together ${pair[0].MBps} + ${pair[1].MBps} = ${(pair[0].MBps + pair[1].MBps).toFixed(1)} MB/s `
        + `(${(round.ratio * 100).toFixed(0)}%); reconnects ${round.reconnects}, uncompleted I/Os ${round.failures}; target: ${target.sessions} sessions, `
        + `${target.reinstatements} reinstatements, ${target.clearedTasks} task-set clears`);
      if (round.reconnects > 0 || round.failures > 0) problems.push(`${kind} round ${i + 1}: ${round.reconnects} reconnects, ${round.failures} I/Os not completed on their path`);
      if (target.sessions !== 4 || target.reinstatements > 0 || target.clearedTasks > 0) problems.push(`${kind} round ${i + 1}: the target saw ${target.log.join('; ')}`);
    }
  } finally {
    await rig.stop();
  }
  const ratio = median(results.map((r) => r.ratio));
  if (ratio < 0.9) problems.push(`${kind}: together ${(ratio * 100).toFixed(0)}% of one alone (median), below 90%`);
  return {
    target: kind, rw, seconds, rounds: results,
    median: { aloneMBps: median(results.map((r) => r.aloneMBps)), togetherMBps: median(results.map((r) => r.pairMBps[0] + r.pairMBps[1])), ratio: Math.round(ratio * 1000) / 1000 },
    problems,
  };
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--target <kind>', 'embedded, tgtd or both', 'both')
    .option('--rounds <n>', 'alternating alone/together rounds', '3')
    .option('--time <seconds>', 'seconds per bench run', '5')
    .option('--rw <read|write>', 'direction', 'read')
    .option('--json', 'one JSON object')
    .parse().opts<{ target: string; rounds: string; time: string; rw: string; json?: boolean }>();
  const kinds: Kind[] = o.target === 'both' ? ['embedded', 'tgtd'] : [o.target as Kind];
  if (!kinds.every((k) => k in NETS)) throw new Error(`--target ${o.target}: embedded, tgtd or both`);
  const say = (line: string) => { if (!o.json) process.stdout.write(line + '\n'); };
  say(`bench:concurrent: two bench processes at once vs one alone, ${o.rw} 64 KiB QD 32, 2 paths each, ${o.time} s per run, ${o.rounds} rounds`);
  const reports = [];
  for (const kind of kinds) reports.push(await measure(kind, Number(o.rounds), Number(o.time), o.rw, say));
  for (const r of reports) {
    say(`${r.target}: median alone ${r.median.aloneMBps} MB/s, together ${r.median.togetherMBps.toFixed(1)} MB/s, ratio ${(r.median.ratio * 100).toFixed(0)}% (target >= 90%)`);
  }
  const problems = reports.flatMap((r) => r.problems);
  if (o.json) process.stdout.write(JSON.stringify({ reports, ok: problems.length === 0 }, null, 2) + '\n');
  for (const p of problems) process.stderr.write(`bench:concurrent: ${p}\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

main().catch((error: Error) => {
  process.stderr.write(`bench:concurrent: ${error.message}\n`);
  process.exitCode = 1;
});
