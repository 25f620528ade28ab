// How long netstat takes with 10,000 TCP sockets open: the sock_diag dump alone (with and without tcp_info)
// and the whole netstat() (route lookups, ethtool features, classification). Target: under 200 ms for the dump.
// Usage: tsx bench/netstat-enumerate.ts [--sockets N] [--runs N] [--json]
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { offloadNative } from '../lib/offload/native-offload';
import { netstat } from '../lib/offload/netstat';
import { ALL_STATES } from '../lib/offload/tcp-states';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SOCKETS = option('--sockets', 10_000);
const RUNS = option('--runs', 15);
const JSON_OUT = args.includes('--json');
const HOST = '127.0.0.1';

// Each connection is two sockets here (client and accepted end); raise the fd limit by re-executing if needed.
function ensureFdLimit(): void {
  const needed = SOCKETS + 2048;
  const current = Number(execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  if (current >= needed || process.env.NETSTAT_BENCH_REEXEC) return;
  const r = spawnSync('prlimit', [`--nofile=${needed}:${needed}`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, NETSTAT_BENCH_REEXEC: '1' },
  });
  process.exit(r.status ?? 1);
}

async function openSockets(count: number): Promise<{ server: net.Server; sockets: net.Socket[] }> {
  const server = net.createServer();
  const sockets: net.Socket[] = [];
  server.on('connection', (s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen({ port: 0, host: HOST, backlog: 4096 }, () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  const connections = Math.ceil(count / 2);
  for (let done = 0; done < connections; done += 500) {
    const batch = Array.from({ length: Math.min(500, connections - done) }, () => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, HOST, () => resolve(s));
      s.once('error', reject);
    }));
    sockets.push(...(await Promise.all(batch)));
  }
  while (sockets.length < connections * 2) await new Promise((r) => setTimeout(r, 5));
  return { server, sockets };
}

function measure(label: string, fn: () => number): { label: string; rows: number; medianMs: number; minMs: number; maxMs: number } {
  fn(); // warm up
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    rows = fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { label, rows, medianMs: times[Math.floor(times.length / 2)], minMs: times[0], maxMs: times[times.length - 1] };
}

async function main(): Promise<void> {
  ensureFdLimit();
  const { server, sockets } = await openSockets(SOCKETS);
  const results = [
    measure('sock_diag dump + tcp_info (native)', () => offloadNative.offloadTcpConnections({ states: ALL_STATES }).length),
    measure('sock_diag dump, no tcp_info (native)', () => offloadNative.offloadTcpConnections({ states: ALL_STATES, tcpInfo: false }).length),
    measure('netstat({all: true}) full rows', () => netstat({ all: true }).length),
    measure('ss -tani (process spawn included, reference)', () => execFileSync('ss', ['-tani'], { maxBuffer: 1 << 28 }).toString().split('\n').length),
  ];
  for (const s of sockets) s.destroy();
  server.close();
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ openSockets: sockets.length + 1, runs: RUNS, results }, null, 2) + '\n');
  } else {
    console.log(`${sockets.length + 1} TCP sockets open in this process (plus whatever else runs), ${RUNS} runs each`);
    for (const r of results) console.log(`${r.label.padEnd(48)} rows ${String(r.rows).padStart(6)}  median ${r.medianMs.toFixed(1).padStart(7)} ms  min ${r.minMs.toFixed(1).padStart(7)} ms  max ${r.maxMs.toFixed(1).padStart(7)} ms`);
    const dump = results[0];
    console.log(`target: enumerate 10,000 sockets < 200 ms -> ${dump.medianMs < 200 ? 'met' : 'NOT met'} (median ${dump.medianMs.toFixed(1)} ms)`);
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
