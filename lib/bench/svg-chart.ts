// Standalone SVG charts, hand-written (no dependency for a few rectangles and lines): the bench runs' MB/s as bars,
// and the soak's samples as stacked line panels over time.
import type { BenchReport } from './compare';

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function benchSvg(report: BenchReport, title = 'iscsi-mpio bench'): string {
  const bar = 36, gap = 16, left = 170, width = 420, top = 44;
  const max = Math.max(1, ...report.runs.map((r) => r.MBps));
  const height = top + report.runs.length * (bar + gap) + 40;
  const rows = report.runs.map((r, i) => {
    const y = top + i * (bar + gap);
    const w = Math.max(1, Math.round((r.MBps / max) * width));
    const colour = i === report.runs.length - 1 ? '#2b7bb9' : '#9bbad6';
    return [
      `<text x="${left - 8}" y="${y + bar / 2 + 5}" text-anchor="end">${escape(`${r.label} (${r.policy})`)}</text>`,
      `<rect x="${left}" y="${y}" width="${w}" height="${bar}" fill="${colour}"/>`,
      `<text x="${left + w + 6}" y="${y + bar / 2 + 5}">${r.MBps.toFixed(1)} MB/s</text>`,
    ].join('\n  ');
  });
  const first = report.runs[0];
  const subtitle = first ? `${first.rw} ${first.bs / 1024} KiB, QD ${first.qd}` : '';
  const foot = report.speedup === null ? '' : `speedup ${report.speedup.toFixed(2)}x over the ${report.speedupBasis}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 110}" height="${height}" font-family="sans-serif" font-size="13">
  <text x="10" y="22" font-size="16" font-weight="bold">${escape(title)}</text>
  <text x="10" y="38" fill="#555">${escape(subtitle)}</text>
  ${rows.join('\n  ')}
  <text x="10" y="${height - 12}" fill="#333">${escape(foot)}</text>
</svg>
`;
}

export interface TimePanel {
  label: string;
  values: number[];
}

/** Stacked line panels over one time axis (seconds), each scaled from 0 to its own maximum: the soak's chart. */
export function timeSeriesSvg(title: string, seconds: number[], panels: TimePanel[], subtitle = ''): string {
  const left = 70, width = 560, panelHeight = 90, gap = 34, top = 66;
  const span = Math.max(1, seconds[seconds.length - 1] ?? 1);
  const height = top + panels.length * (panelHeight + gap) + 20;
  const parts = panels.map((p, i) => {
    const y0 = top + i * (panelHeight + gap);
    const max = Math.max(1e-9, ...p.values);
    const points = p.values.map((v, j) => `${(left + (seconds[j] / span) * width).toFixed(1)},${(y0 + panelHeight - (v / max) * panelHeight).toFixed(1)}`);
    return [
      `<text x="${left}" y="${y0 - 6}" font-weight="bold">${escape(p.label)}</text>`,
      `<rect x="${left}" y="${y0}" width="${width}" height="${panelHeight}" fill="none" stroke="#ccc"/>`,
      `<text x="${left - 6}" y="${y0 + 10}" text-anchor="end" fill="#555">${escape(max >= 100 ? max.toFixed(0) : max.toPrecision(3))}</text>`,
      `<text x="${left - 6}" y="${y0 + panelHeight}" text-anchor="end" fill="#555">0</text>`,
      `<polyline fill="none" stroke="#2b7bb9" stroke-width="1.5" points="${points.join(' ')}"/>`,
    ].join('\n  ');
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 20}" height="${height}" font-family="sans-serif" font-size="12">
  <text x="10" y="20" font-size="16" font-weight="bold">${escape(title)}</text>
  <text x="10" y="36" fill="#555">${escape(subtitle)}</text>
  ${parts.join('\n  ')}
  <text x="${left + width}" y="${height - 4}" text-anchor="end" fill="#555">${escape(`${span.toFixed(0)} s`)}</text>
</svg>
`;
}
