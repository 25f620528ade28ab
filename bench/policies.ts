// Every path policy on the same two paths, for docs/policies.md: the embedded target in this process with two
// member ports paced to emulated links (no root needed), path 0 logged in to member 0 and path 1 to member 1, one
// bench run per policy and round. Two topologies: equal links (1 Gbit/s each) and unequal ones (1 Gbit/s and
// 200 Mbit/s), where the policies part ways. Prints each policy's median MB/s over the rounds, the share of bytes
// each path carried and the median p99 latency; `--json` for the numbers.
//   npm run bench:policies [-- --time 3 --rounds 3 --qd 32 --bs 64k --rw read --json]
import os from 'node:os';
import { Initiator } from '../lib/initiator';
import { parseBlockSize } from '../lib/bench/bench-options';
import { runBench, type BenchResult } from '../lib/bench/runner';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import { POLICY_NAMES, type PolicyName } from '../lib/mpio/path-selector';
import { Target } from '../lib/target/target';

const NET = '127.63.9';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

interface Topology { name: string; rates: [string, string] }
interface Case { policy: PolicyName; options?: object; label: string }
interface Row { topology: string; policy: string; MBps: number; share: number[]; p99Us: number; rounds: number[] }

const TOPOLOGIES: Topology[] = [
  { name: 'equal links (1 Gbit/s + 1 Gbit/s)', rates: ['1gbit', '1gbit'] },
  { name: 'unequal links (1 Gbit/s + 200 Mbit/s)', rates: ['1gbit', '200mbit'] },
];

const CASES: Case[] = [
  ...POLICY_NAMES.map((policy) => ({ policy, label: policy })),
  // service-time as meant for unequal paths: told their relative throughput (5:1 here).
  { policy: 'service-time', options: { throughput: { 0: 100, 1: 20 } }, label: 'service-time 100:20' },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(device: MultipathDevice, c: Case, o: { rw: 'read' | 'write'; bs: number; qd: number; seconds: number }): Promise<BenchResult> {
  device.setPolicy(c.policy, c.options ?? {});
  return runBench(device, { ...o, span: 64 << 20 });
}

async function main(): Promise<void> {
  const seconds = Number(arg('--time', '3'));
  const rounds = Number(arg('--rounds', '3'));
  const o = { rw: arg('--rw', 'read') as 'read' | 'write', bs: parseBlockSize(arg('--bs', '64k')), qd: Number(arg('--qd', '32')), seconds };
  const json = process.argv.includes('--json');
  const rows: Row[] = [];
  // The target shares this process and the host's cores: a busy machine shows as spread between the rounds.
  const load = [os.loadavg()[0]];
  for (const topology of TOPOLOGIES) {
    const target = await Target.start({
      portals: topology.rates.map((rate, i) => ({ address: `${NET}.${i + 1}`, rate })), luns: ['128M'],
    });
    const device = await new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio:bench-policies' }).connect({
      target: target.iqn, portal: target.members[0], lun: 1, nopIntervalMs: 60_000,
      paths: target.members.map((m, i) => ({ sourceAddress: `${NET}.${21 + i}`, portal: { address: m.address, port: m.port } })),
    });
    try {
      await measure(device, CASES[0], { ...o, seconds: 1 }); // warm-up: sockets, JIT, the LU's pages
      for (const c of CASES) {
        const results: BenchResult[] = [];
        for (let r = 0; r < rounds; r++) results.push(await measure(device, c, o));
        const mid = results.find((x) => x.MBps === median(results.map((y) => y.MBps)))!;
        const total = mid.paths.reduce((a, p) => a + p.bytes, 0) || 1;
        rows.push({
          topology: topology.name, policy: c.label, MBps: mid.MBps, share: mid.paths.map((p) => Math.round((p.bytes / total) * 100)),
          p99Us: median(results.map((x) => x.latencyUs.p99)), rounds: results.map((x) => x.MBps),
        });
        if (!json) {
          const row = rows[rows.length - 1];
          console.log(`${topology.name.padEnd(38)} ${row.policy.padEnd(20)} ${row.MBps.toFixed(1).padStart(7)} MB/s  `
            + `path 0/1 ${row.share.map((s) => `${s}%`).join('/').padEnd(9)}  p99 ${(row.p99Us / 1000).toFixed(1).padStart(6)} ms  `
            + `rounds ${row.rounds.join(', ')}`);
        }
      }
    } finally {
      await device.close();
      await target.stop();
    }
  }
  load.push(os.loadavg()[0]);
  if (json) console.log(JSON.stringify({ rw: o.rw, bs: o.bs, qd: o.qd, seconds, rounds, cpus: os.cpus().length, loadAverage: load, rows }, null, 2));
  else console.log(`${os.cpus().length} CPUs, 1-minute load average ${load.map((l) => l.toFixed(1)).join(' at the start, ')} at the end`);
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
