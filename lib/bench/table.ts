// The bench's text output, laid out as fio's summary: one row per run (its columns wide enough for every policy
// name), the run's latency on the next line (min/mean/max, then percentiles), then what each path carried and its
// share of the bytes, and at the end the speedup and what it is relative to.
import { POLICY_NAMES } from '../mpio/path-selector';
import type { BenchReport, BenchRun } from './compare';
import type { LatencySummary } from './latency-recorder';

const pad = (s: string | number, n: number) => String(s).padStart(n);

/** "path 999 alone" and "all 999 paths" fit. */
const LABEL_WIDTH = 16;
const POLICY_WIDTH = Math.max(...POLICY_NAMES.map((name) => name.length));

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

/** Microseconds with a tenth below 100 µs, whole above (fio's usec columns). */
export function formatMicroseconds(us: number): string {
  return us < 100 ? us.toFixed(1) : us.toFixed(0);
}

export function formatRunLine(r: BenchRun): string {
  return `${r.label.padEnd(LABEL_WIDTH)} ${r.policy.padEnd(POLICY_WIDTH)} ${pad(r.rw, 5)} ${pad(r.bs / 1024 + 'k', 6)} ${pad(r.qd, 4)} ` +
    `${pad(r.seconds.toFixed(1), 6)} ${pad(r.MBps.toFixed(1), 8)} ${pad(r.iops, 8)}`;
}

export const RUN_HEADER = `${'run'.padEnd(LABEL_WIDTH)} ${'policy'.padEnd(POLICY_WIDTH)} ${pad('rw', 5)} ${pad('bs', 6)} ${pad('qd', 4)} ` +
  `${pad('s', 6)} ${pad('MB/s', 8)} ${pad('IOPS', 8)}`;

export function formatLatency(l: LatencySummary): string {
  const us = formatMicroseconds;
  return `    latency µs: min ${us(l.min)}  mean ${us(l.mean)}  max ${us(l.max)}  p50 ${us(l.p50)}  p90 ${us(l.p90)}  p99 ${us(l.p99)}  p99.9 ${us(l.p99_9)}`;
}

/** A path's share of the run's bytes, as a percentage with one decimal. */
const share = (bytes: number, total: number) => `${total > 0 ? ((bytes / total) * 100).toFixed(1) : '0.0'}%`;

export function formatPathSplit(r: BenchRun): string[] {
  return r.paths.map((p) => `    path ${p.id} ${p.local ?? '(routed)'} -> ${p.remote}  ${p.state.padEnd(7)} ${pad(formatBytes(p.bytes), 10)} ` +
    `${pad(share(p.bytes, r.bytes), 6)}  ${pad(p.ios, 7)} I/Os` +
    `${p.failures ? `  ${p.failures} not completed here` : ''}${p.reconnects ? `  ${p.reconnects} reconnects` : ''}`);
}

/** The lines of one finished run: its row, its latency, its paths. */
export function formatRun(r: BenchRun): string[] {
  return [formatRunLine(r), formatLatency(r.latencyUs), ...formatPathSplit(r)];
}

export function formatBenchReport(report: BenchReport): string {
  const lines = [RUN_HEADER];
  for (const r of report.runs) lines.push(...formatRun(r));
  if (report.speedup !== null) lines.push(`speedup ${report.speedup.toFixed(2)}x: all paths over the ${report.speedupBasis}`);
  return lines.join('\n');
}
