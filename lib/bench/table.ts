// The bench's text output: one row per run, then per-path bytes, then the speedup and what it is relative to.
import type { BenchReport, BenchRun } from './compare';

const pad = (s: string | number, n: number) => String(s).padStart(n);

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

export function formatRunLine(r: BenchRun): string {
  return `${r.label.padEnd(16)} ${r.policy.padEnd(12)} ${pad(r.rw, 5)} ${pad(r.bs / 1024 + 'k', 6)} ${pad(r.qd, 4)} ${pad(r.seconds.toFixed(1), 6)} ` +
    `${pad(r.MBps.toFixed(1), 8)} ${pad(r.iops, 8)} ${pad(r.latencyUs.p50.toFixed(0), 8)} ${pad(r.latencyUs.p99.toFixed(0), 8)}`;
}

export const RUN_HEADER = `${'run'.padEnd(16)} ${'policy'.padEnd(12)} ${pad('rw', 5)} ${pad('bs', 6)} ${pad('qd', 4)} ${pad('s', 6)} ` +
  `${pad('MB/s', 8)} ${pad('IOPS', 8)} ${pad('p50 µs', 8)} ${pad('p99 µs', 8)}`;

export function formatPathSplit(r: BenchRun): string[] {
  return r.paths.map((p) => `    path ${p.id} ${p.local ?? '(routed)'} -> ${p.remote}  ${p.state.padEnd(7)} ${pad(formatBytes(p.bytes), 10)}  ${pad(p.ios, 7)} I/Os`
    + `${p.failures ? `  ${p.failures} not completed here` : ''}${p.reconnects ? `  ${p.reconnects} reconnects` : ''}`);
}

export function formatBenchReport(report: BenchReport): string {
  const lines = [RUN_HEADER];
  for (const r of report.runs) lines.push(formatRunLine(r), ...formatPathSplit(r));
  if (report.speedup !== null) lines.push(`speedup ${report.speedup.toFixed(2)}x: all paths over the ${report.speedupBasis}`);
  return lines.join('\n');
}
