// Performance target "Multipath scaling on shaped paths" (DESIGN.md): over 1, 2 and 4 veth pairs shaped with tbf
// 1gbit on both ends, iperf3 in parallel (one stream per path) against our device under round-robin, reads and
// writes at 64 KiB; prints both, the ratio (target >= 0.97 for 2 and 4 paths) and the scaling over one path.
// Root only (it skips with a message otherwise). `--time S` per run (default 5), `--qd N` per path (default 32),
// `--json`. Everything it creates is torn down at exit, on failure and on Ctrl-C.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Initiator } from '../lib/initiator';
import { startTargetInNamespace } from '../lib/bench/netns-target';
import { runBench } from '../lib/bench/runner';
import { requireRootForNetns, ShapedPaths, ShapedPathsError } from '../lib/bench/shaped-paths';

const run = promisify(execFile);
const COUNTS = [1, 2, 4];
const BS = 64 * 1024;

interface Row { paths: number; rw: 'read' | 'write'; iperf3MBps: number; oursMBps: number; ratio: number; oursIops: number; p99Us: number; perPathMBps: number[] }

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** One iperf3 stream per path at once; reads are target -> initiator (-R). MB/s of TCP payload received. */
async function iperf3(net: ShapedPaths, n: number, rw: 'read' | 'write', seconds: number): Promise<number> {
  const results = await Promise.all(net.paths.slice(0, n).map(async (p) => {
    const args = ['-c', p.peerAddress, '-B', p.hostAddress, '-t', String(seconds), '-J', ...(rw === 'read' ? ['-R'] : [])];
    const { stdout } = await run('iperf3', args, { maxBuffer: 16 << 20 });
    return JSON.parse(stdout).end.sum_received.bits_per_second as number;
  }));
  return results.reduce((a, b) => a + b, 0) / 8 / 1e6;
}

async function ours(net: ShapedPaths, n: number, seconds: number, qdPerPath: number): Promise<Record<'read' | 'write', Omit<Row, 'iperf3MBps' | 'ratio'>>> {
  // A fresh target per path count, so its group portal hands logins 0..n-1 to members 0..n-1 (one per veth).
  const target = await startTargetInNamespace(net, [
    '--group', `${net.paths[0].peerAddress}:3260`, ...net.paths.flatMap((p) => ['--portal', `${p.peerAddress}:3261`]), '--lun', '256M',
  ]);
  try {
    const device = await new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio:bench-multipath' }).connect({
      target: target.summary.iqn, portal: target.group, lun: 1, policy: 'round-robin', nopIntervalMs: 60_000,
      paths: net.paths.slice(0, n).map((p) => ({ sourceAddress: p.hostAddress, device: p.hostDevice })),
    });
    try {
      const remotes = device.paths.map((p) => p.info().remote.address);
      if (new Set(remotes).size !== n) throw new ShapedPathsError(`the ${n} paths landed on ${remotes.join(', ')}, not one member per veth`);
      const out = {} as Record<'read' | 'write', Omit<Row, 'iperf3MBps' | 'ratio'>>;
      for (const rw of ['write', 'read'] as const) { // write first: reads then come from written pages
        const r = await runBench(device, { rw, bs: BS, qd: qdPerPath * n, seconds });
        out[rw] = { paths: n, rw, oursMBps: r.MBps, oursIops: r.iops, p99Us: r.latencyUs.p99, perPathMBps: r.paths.map((p) => Math.round(p.bytes / r.seconds / 1e5) / 10) };
      }
      return out;
    } finally {
      await device.close();
    }
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const seconds = Number(arg('--time', '5'));
  const qd = Number(arg('--qd', '32'));
  const json = process.argv.includes('--json');
  try {
    requireRootForNetns('bench:multipath');
    await run('iperf3', ['--version']);
  } catch (error) {
    console.log(`bench:multipath skipped: ${(error as Error).message}`);
    return;
  }
  const net = ShapedPaths.create({ paths: Math.max(...COUNTS) });
  const interrupted = () => { net.destroy(); process.exit(130); };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const rows: Row[] = [];
  try {
    for (const p of net.paths) net.spawnInside('iperf3', ['-s', '-B', p.peerAddress]);
    await new Promise((r) => setTimeout(r, 500));
    for (const n of COUNTS) {
      const mine = await ours(net, n, seconds, qd);
      for (const rw of ['read', 'write'] as const) {
        const theirs = await iperf3(net, n, rw, seconds);
        rows.push({ ...mine[rw], iperf3MBps: Math.round(theirs * 10) / 10, ratio: Math.round((mine[rw].oursMBps / theirs) * 1000) / 1000 });
        if (!json) process.stderr.write(`  ${n} path(s) ${rw}: iperf3 ${theirs.toFixed(1)} MB/s, ours ${mine[rw].oursMBps} MB/s\n`);
      }
    }
  } finally {
    net.destroy();
  }
  const one = (rw: string) => rows.find((r) => r.paths === 1 && r.rw === rw)!;
  const verdict = rows.map((r) => ({ ...r, scaling: Math.round((r.oursMBps / one(r.rw).oursMBps) * 100) / 100, meetsTarget: r.paths === 1 ? null : r.ratio >= 0.97 }));
  if (json) {
    process.stdout.write(JSON.stringify({ bs: BS, qdPerPath: qd, seconds, rate: net.rate, rows: verdict }, null, 2) + '\n');
    return;
  }
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`multipath scaling: ${net.rate} tbf on both ends of each veth pair, 64 KiB, QD ${qd} per path, round-robin, ${seconds} s per run`);
  console.log(`${pad('paths', 5)} ${pad('rw', 5)} ${pad('iperf3 MB/s', 12)} ${pad('ours MB/s', 10)} ${pad('ratio', 6)} ${pad('scaling', 8)} ${pad('p99 µs', 8)}  per path MB/s   target >= 0.97`);
  for (const r of verdict) {
    console.log(`${pad(r.paths, 5)} ${pad(r.rw, 5)} ${pad(r.iperf3MBps.toFixed(1), 12)} ${pad(r.oursMBps.toFixed(1), 10)} ${pad(r.ratio.toFixed(3), 6)} ${pad(r.scaling.toFixed(2) + 'x', 8)} ${pad(Math.round(r.p99Us), 8)}  ${r.perPathMBps.join(' / ').padEnd(14)} ${r.meetsTarget === null ? '-' : r.meetsTarget ? 'met' : 'NOT met'}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
