// The demo's text output: each step numbered as it finishes, what it shows, its result and supporting lines.
import type { DemoReport, StepEvent } from './walkthrough';

export function formatStep(e: StepEvent): string {
  const mark = e.step.ok ? 'ok' : 'FAILED';
  return [
    `${e.number}. ${e.step.name} [${mark}]`,
    `   ${e.explain}`,
    `   -> ${e.step.detail}`,
    ...e.lines.map((l) => `      ${l}`),
    '',
  ].join('\n');
}

export function formatSummary(report: DemoReport): string {
  if (report.failed) return `demo FAILED at step "${report.failed}": ${report.steps.find((s) => s.name === report.failed)?.detail ?? ''}`;
  const [fo, rr] = [report.measurements.find((m) => m.policy === 'failover'), report.measurements.find((m) => m.policy === 'round-robin')];
  return `demo ok: failover ${fo?.MBps} MB/s on one path, round-robin ${rr?.MBps} MB/s on two: ${report.speedup}x`;
}
