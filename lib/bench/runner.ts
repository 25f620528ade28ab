// The throughput runner shared by `iscsi-mpio bench`, the demo and bench/multipath.ts: `qd` workers issue
// sequential I/Os of `bs` bytes over a MultipathDevice for `seconds`, each into its own buffer (reads land in it,
// writes are sent from it), and the run reports MBps (10^6 B/s), IOPS, latency (min/mean/max, p50/p90/p99/p99.9) and
// what each path carried (from the paths' own counters, so the split is the device's, not the runner's guess). While
// it runs, an optional tick each second says what the last second moved (the CLI's live line).
import type { MultipathDevice } from '../mpio/multipath-device';
import type { PathState } from '../mpio/path';
import { checkBenchOptions, type BenchDirection, type BenchOptions } from './bench-options';
import { LatencyRecorder, type LatencySummary } from './latency-recorder';

export interface PathTraffic {
  /** The path's place in the caller's path list (RunHooks.pathIds), the same in every run of a --compare. */
  id: number;
  local: string | null;
  remote: string;
  /** State at the end of the run. */
  state: PathState;
  /** I/Os of the run's direction this path completed during the run, and their bytes. */
  ios: number;
  bytes: number;
  /** During the run: I/Os that did not complete on this path (its connection died, or a reset or reinstatement cleared them; each re-driven), and the session's reconnects. */
  failures: number;
  reconnects: number;
}

export interface BenchResult {
  rw: BenchDirection;
  bs: number;
  qd: number;
  /** Wall time from the first I/O to the last completion. */
  seconds: number;
  ios: number;
  bytes: number;
  MBps: number;
  iops: number;
  latencyUs: LatencySummary;
  /** Every path of the device, with what it carried. */
  paths: PathTraffic[];
}

/** What the last interval of a running bench moved. */
export interface BenchTick {
  /** Seconds since the run started, and the run's planned length. */
  elapsed: number;
  planned: number;
  MBps: number;
  iops: number;
  /** Each path's share of the interval's bytes (0..1; all 0 when nothing moved). */
  paths: Array<{ id: number; share: number }>;
}

export interface RunHooks {
  /** The id to report for each of the device's paths, in order (default: the device's own path ids). */
  pathIds?: number[];
  /** Called every `tickMs` while I/O is issued. */
  onTick?: (tick: BenchTick) => void;
  tickMs?: number;
}

const DEFAULT_SPAN = 1 << 30;

function counters(device: MultipathDevice, rw: BenchDirection): Array<{ ios: number; bytes: number; failures: number; reconnects: number }> {
  return device.paths.map((p) => ({
    ...(rw === 'read' ? { ios: p.stats.reads, bytes: p.stats.bytesRead } : { ios: p.stats.writes, bytes: p.stats.bytesWritten }),
    failures: p.stats.failures, reconnects: p.session.stats.reconnects,
  }));
}

/** Reports each interval's throughput and per-path split from the device's own counters; stop() ends it. */
function ticker(device: MultipathDevice, rw: BenchDirection, ids: number[], planned: number, started: number, hooks: RunHooks): { stop(): void } {
  const onTick = hooks.onTick;
  if (!onTick) return { stop() {} };
  let last = counters(device, rw);
  let lastAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const current = counters(device, rw);
    const moved = current.map((c, i) => ({ ios: c.ios - last[i].ios, bytes: c.bytes - last[i].bytes }));
    const bytes = moved.reduce((a, m) => a + m.bytes, 0);
    const interval = (now - lastAt) / 1000;
    onTick({
      elapsed: (now - started) / 1000, planned,
      MBps: Math.round((bytes / interval / 1e6) * 10) / 10,
      iops: Math.round(moved.reduce((a, m) => a + m.ios, 0) / interval),
      paths: moved.map((m, i) => ({ id: ids[i], share: bytes > 0 ? m.bytes / bytes : 0 })),
    });
    last = current;
    lastAt = now;
  }, hooks.tickMs ?? 1000);
  return { stop: () => clearInterval(timer) };
}

export async function runBench(device: MultipathDevice, options: BenchOptions, hooks: RunHooks = {}): Promise<BenchResult> {
  const { blockSize, blocks: lbaCount } = await device.capacity();
  checkBenchOptions(options, blockSize, lbaCount * blockSize);
  const { rw, bs, qd, seconds } = options;
  const ioBlocks = bs / blockSize;
  // The cursor wraps before the last whole I/O that fits, so every I/O is full size.
  const spanBlocks = Math.floor(Math.min(options.span ?? DEFAULT_SPAN, lbaCount * blockSize) / bs) * ioBlocks;
  const latency = new LatencyRecorder();
  let cursor = 0;
  let ios = 0;

  const ids = device.paths.map((p, i) => hooks.pathIds?.[i] ?? p.id);
  const before = counters(device, rw);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const ticks = ticker(device, rw, ids, seconds, started, hooks);
  await Promise.all(Array.from({ length: qd }, async (_, worker) => {
    // A recognisable pattern per worker, so a write run leaves data someone could check.
    const buffer = Buffer.alloc(bs, rw === 'write' ? 0x41 + (worker % 26) : 0);
    while (performance.now() < deadline) {
      const lba = cursor;
      cursor = (cursor + ioBlocks) % spanBlocks;
      const t0 = performance.now();
      if (rw === 'read') await device.read(lba, ioBlocks, buffer);
      else await device.write(lba, buffer);
      latency.record((performance.now() - t0) * 1000);
      ios++;
    }
  })).finally(() => ticks.stop());
  const elapsed = (performance.now() - started) / 1000;
  const after = counters(device, rw);

  const bytes = ios * bs;
  return {
    rw, bs, qd, seconds: Math.round(elapsed * 1000) / 1000, ios, bytes,
    MBps: Math.round((bytes / elapsed / 1e6) * 10) / 10,
    iops: Math.round(ios / elapsed),
    latencyUs: latency.summary(),
    paths: device.paths.map((p, i) => {
      const info = p.info();
      return {
        id: ids[i], local: info.local.address, remote: `${info.remote.address}:${info.remote.port}`, state: p.state,
        ios: after[i].ios - before[i].ios, bytes: after[i].bytes - before[i].bytes,
        failures: after[i].failures - before[i].failures, reconnects: after[i].reconnects - before[i].reconnects,
      };
    }),
  };
}
