// Performance target "Multipath scaling on shaped paths" (DESIGN.md): over 1, 2 and 4 veth pairs shaped with tbf
// 1gbit on both ends, iperf3 in parallel (one stream per path) against our device under round-robin, in the same
// run against three far ends: the embedded target (a group portal handing each login to its own member), a stock
// tgtd (one portal per path; 8 KiB segments, InitialR2T=Yes) and `tgtd-big`, the same tgtd with large segments and
// bursts (`--targets` picks some). Reads, writes and a 70/30 read/write mix, at 64 KiB and at 4 KiB; `--rounds N`
// (default 3) rounds of every configuration, the table of medians. Prints ours against iperf3's aggregate over the
// same paths (target >= 0.97 for 2 and 4 paths at 64 KiB) and the scaling over one path; a mix has no iperf3 peer.
// Each device is preconditioned first (every block written once, unmeasured).
// Root only: without root it says so and exits 1, or 0 with `--allow-skip`. `--time S` per run (default 5),
// `--qd N` per path (default 32), `--paths 1,2,4`, `--json`; `--net-prefix P --net-id N` name the namespace and veths
// P<N>... and take 198.18.<N & 255>.0/24 (default mpb and the pid). Everything it creates is torn down at exit, on
// failure and on Ctrl-C.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { Initiator } from '../lib/initiator';
import { startTargetInNamespace } from '../lib/bench/netns-target';
import { runBench } from '../lib/bench/runner';
import { requireRootForNetns, ShapedPaths, ShapedPathsError } from '../lib/bench/shaped-paths';
import { MultipathDevice } from '../lib/mpio/multipath-device';
import { Path } from '../lib/mpio/path';
import { haveTool, Tgtd } from '../test/support/tgtd';

const run = promisify(execFile);
const SIZES = [64 * 1024, 4 * 1024];
const WORKLOADS = ['write', 'read', 'mix'] as const; // writes first: reads then come from written pages
const TARGETS = ['embedded', 'tgtd', 'tgtd-big'] as const;
const LUN_BYTES = 256 << 20;
const TGTD_IQN = 'iqn.2024-01.io.iscsi-mpio.bench:multipath-tgtd';
/**
 * The same tgtd with the segment and burst sizes raised (its defaults: 8 KiB MaxRecvDataSegmentLength, InitialR2T=Yes):
 * a 64 KiB write is then one PDU with its data instead of 8 KiB immediate, an R2T and seven Data-Out PDUs, so the
 * row shows what tgtd's per-PDU cost takes off the stock row.
 */
const TGTD_BIG_IQN = 'iqn.2024-01.io.iscsi-mpio.bench:multipath-tgtd-big';
const TGTD_BIG_PARAMS = { MaxRecvDataSegmentLength: 262144, InitialR2T: 'No', FirstBurstLength: 262144, MaxBurstLength: 1048576 };
const TGTD_PORT = 3262;
const MIX_READ_PERCENT = 70;

type Workload = typeof WORKLOADS[number];
type TargetKind = typeof TARGETS[number];
interface Sample { target: TargetKind; paths: number; bs: number; rw: Workload; MBps: number; iops: number; p99Us: number; perPathMBps: number[] }
/** `scaling`: over the same configuration on one path; NaN when one path was not measured (`--paths 2,4`). */
interface Row extends Sample { iperf3MBps: number | null; ratio: number | null; scaling: number; meetsTarget: boolean | null }

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** One iperf3 stream per path at once; reads are target -> initiator (-R). MB/s of TCP payload received. */
async function iperf3(net: ShapedPaths, n: number, rw: 'read' | 'write', seconds: number): Promise<number> {
  const results = await Promise.all(net.paths.slice(0, n).map(async (p) => {
    const args = ['-c', p.peerAddress, '-B', p.hostAddress, '-t', String(seconds), '-J', ...(rw === 'read' ? ['-R'] : [])];
    const { stdout } = await run('iperf3', args, { maxBuffer: 16 << 20 });
    return JSON.parse(stdout).end.sum_received.bits_per_second as number;
  }));
  return results.reduce((a, b) => a + b, 0) / 8 / 1e6;
}

/** A device over the first `n` paths to the given far end, and how to let go of it (and of the far end). */
async function open(kind: TargetKind, net: ShapedPaths, n: number): Promise<{ device: MultipathDevice; close(): Promise<void> }> {
  const initiator = new Initiator({ name: `iqn.2024-01.io.iscsi-mpio:bench-multipath-${kind}` });
  const paths = net.paths.slice(0, n);
  if (kind !== 'embedded') {
    const opened: Path[] = [];
    try {
      for (const [i, p] of paths.entries()) {
        const session = await initiator.openSession({ target: kind === 'tgtd' ? TGTD_IQN : TGTD_BIG_IQN, portal: `${p.peerAddress}:${TGTD_PORT}`, path: { sourceAddress: p.hostAddress, device: p.hostDevice }, pathId: i });
        opened.push(new Path(i, session, 1));
      }
      const device = await MultipathDevice.open(opened, 1, { policy: 'round-robin' });
      return { device, close: () => device.close() };
    } catch (error) {
      await Promise.all(opened.map((p) => p.session.close().catch(() => undefined)));
      throw error;
    }
  }
  // A fresh embedded target per configuration, so its group portal hands logins 0..n-1 to members 0..n-1.
  const target = await startTargetInNamespace(net, [
    '--group', `${net.paths[0].peerAddress}:3260`, ...net.paths.flatMap((p) => ['--portal', `${p.peerAddress}:3261`]), '--lun', `${LUN_BYTES >> 20}M`,
  ]);
  try {
    const device = await initiator.connect({
      target: target.summary.iqn, portal: target.group, lun: 1, policy: 'round-robin', nopIntervalMs: 60_000,
      paths: paths.map((p) => ({ sourceAddress: p.hostAddress, device: p.hostDevice })),
    });
    const remotes = device.paths.map((p) => p.info().remote.address);
    if (new Set(remotes).size !== n) {
      await device.close();
      throw new ShapedPathsError(`the ${n} paths landed on ${remotes.join(', ')}, not one member per veth`);
    }
    return { device, close: async () => { await device.close(); await target.stop(); } };
  } catch (error) {
    await target.stop();
    throw error;
  }
}

/**
 * Writes every block once, unmeasured, as storage benches precondition a device: a fresh far end (the embedded
 * target's sparse memory LU, tgtd's sparse backing file) pays for the first touch of each page, which no array in
 * service does, and which otherwise lands in whichever run comes first.
 */
async function precondition(device: MultipathDevice): Promise<void> {
  const { blocks, blockSize } = await device.capacity();
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  const perChunk = chunk.length / blockSize;
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let lba = next; lba < blocks; lba = next) {
      next += perChunk;
      await device.write(lba, Math.min(perChunk, blocks - lba) === perChunk ? chunk : chunk.subarray(0, (blocks - lba) * blockSize));
    }
  }));
}

async function measure(kind: TargetKind, net: ShapedPaths, n: number, seconds: number, qdPerPath: number): Promise<Sample[]> {
  const { device, close } = await open(kind, net, n);
  try {
    await precondition(device);
    const samples: Sample[] = [];
    for (const bs of SIZES) {
      for (const rw of WORKLOADS) {
        const r = await runBench(device, { rw: rw === 'mix' ? 'read' : rw, bs, qd: qdPerPath * n, seconds, ...(rw === 'mix' ? { readPercent: MIX_READ_PERCENT } : {}) });
        samples.push({ target: kind, paths: n, bs, rw, MBps: r.MBps, iops: r.iops, p99Us: r.latencyUs.p99, perPathMBps: r.paths.map((p) => Math.round(p.bytes / r.seconds / 1e5) / 10) });
      }
    }
    return samples;
  } finally {
    await close();
  }
}

async function main(): Promise<void> {
  const seconds = Number(arg('--time', '5'));
  const qd = Number(arg('--qd', '32'));
  const rounds = Number(arg('--rounds', '3'));
  const counts = arg('--paths', '1,2,4').split(',').map(Number);
  const targets = arg('--targets', TARGETS.join(',')).split(',') as TargetKind[];
  if (targets.some((t) => !TARGETS.includes(t))) throw new Error(`--targets takes ${TARGETS.join(', ')}`);
  const json = process.argv.includes('--json');
  try {
    requireRootForNetns('bench:multipath');
    await run('iperf3', ['--version']);
    if (!haveTool('tgtd') || !haveTool('tgtadm')) throw new Error('tgtd is not installed (apt install tgt)');
  } catch (error) {
    // Nothing was measured: that is a failure unless the caller said a skip is fine.
    const allowed = process.argv.includes('--allow-skip');
    console.log(`bench:multipath ${allowed ? 'skipped' : 'NOT RUN'}: ${(error as Error).message}${allowed ? ' (--allow-skip)' : ''}`);
    process.exitCode = allowed ? 0 : 1;
    return;
  }
  const net = ShapedPaths.create({ paths: Math.max(...counts), prefix: arg('--net-prefix', 'mpb'), id: Number(arg('--net-id', String(process.pid))) });
  const interrupted = () => { net.destroy(); process.exit(130); };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const samples: Sample[] = [];
  const baselines: Array<{ paths: number; rw: 'read' | 'write'; MBps: number }> = [];
  const load: number[] = [];
  let tgtd: Tgtd | undefined;
  try {
    for (const p of net.paths) net.spawnInside('iperf3', ['-s', '-B', p.peerAddress]);
    tgtd = await Tgtd.start(net.paths.map((p) => `${p.peerAddress}:${TGTD_PORT}`), [
      { name: TGTD_IQN, luns: [{ sizeBytes: LUN_BYTES }] }, { name: TGTD_BIG_IQN, luns: [{ sizeBytes: LUN_BYTES }], params: TGTD_BIG_PARAMS },
    ], { namespace: net.namespace });
    await new Promise((r) => setTimeout(r, 500));
    for (let round = 1; round <= rounds; round++) {
      load.push(os.loadavg()[0]);
      for (const n of counts) {
        for (const rw of ['read', 'write'] as const) {
          const MBps = await iperf3(net, n, rw, seconds);
          baselines.push({ paths: n, rw, MBps });
          if (!json) process.stderr.write(`  round ${round}, ${n} path(s) ${rw}: iperf3 ${MBps.toFixed(1)} MB/s\n`);
        }
        for (const kind of targets) {
          const got = await measure(kind, net, n, seconds, qd);
          samples.push(...got);
          if (!json) for (const s of got) process.stderr.write(`  round ${round}, ${n} path(s) ${kind} ${s.bs / 1024}k ${s.rw}: ${s.MBps} MB/s\n`);
        }
      }
    }
  } finally {
    await tgtd?.stop();
    net.destroy();
  }

  const rows: Row[] = [];
  for (const kind of targets) for (const n of counts) for (const bs of SIZES) for (const rw of WORKLOADS) {
    const group = samples.filter((s) => s.target === kind && s.paths === n && s.bs === bs && s.rw === rw);
    const mid = [...group].sort((a, b) => a.MBps - b.MBps)[Math.floor(group.length / 2)];
    const iperf = rw === 'mix' ? null : median(baselines.filter((b) => b.paths === n && b.rw === rw).map((b) => b.MBps));
    const ratio = iperf === null ? null : Math.round((mid.MBps / iperf) * 1000) / 1000;
    rows.push({ ...mid, iperf3MBps: iperf === null ? null : Math.round(iperf * 10) / 10, ratio, scaling: 0, meetsTarget: ratio === null || n === 1 || bs !== 65536 ? null : ratio >= 0.97 });
  }
  for (const r of rows) {
    const one = rows.find((o) => o.target === r.target && o.paths === 1 && o.bs === r.bs && o.rw === r.rw);
    r.scaling = one ? Math.round((r.MBps / one.MBps) * 100) / 100 : NaN;
  }
  if (json) {
    process.stdout.write(JSON.stringify({ qdPerPath: qd, seconds, rounds, rate: net.rate, loadAverage: load, rows, samples, baselines }, null, 2) + '\n');
    return;
  }
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`multipath scaling: ${net.rate} tbf on both ends of each veth pair, QD ${qd} per path, round-robin, ${seconds} s per run, medians of ${rounds} rounds; 1-min load average at each round ${load.map((l) => l.toFixed(2)).join(', ')}`);
  console.log(`${'target'.padEnd(9)} ${pad('paths', 5)} ${pad('bs', 4)} ${pad('rw', 5)} ${pad('iperf3 MB/s', 12)} ${pad('ours MB/s', 10)} ${pad('ratio', 6)} ${pad('scaling', 8)} ${pad('p99 µs', 8)}  per path MB/s        target >= 0.97 (2, 4 paths, 64k)`);
  for (const r of rows) {
    console.log(`${r.target.padEnd(9)} ${pad(r.paths, 5)} ${pad(r.bs / 1024 + 'k', 4)} ${pad(r.rw, 5)} ${pad(r.iperf3MBps === null ? '-' : r.iperf3MBps.toFixed(1), 12)} ${pad(r.MBps.toFixed(1), 10)} ${pad(r.ratio === null ? '-' : r.ratio.toFixed(3), 6)} ${pad(Number.isNaN(r.scaling) ? '-' : r.scaling.toFixed(2) + 'x', 8)} ${pad(Math.round(r.p99Us), 8)}  ${r.perPathMBps.join(' / ').padEnd(20)} ${r.meetsTarget === null ? '-' : r.meetsTarget ? 'met' : 'NOT met'}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
