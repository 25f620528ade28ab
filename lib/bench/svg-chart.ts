// A bar chart of the runs' MB/s as a standalone SVG (hand-written: no dependency for a dozen rectangles).
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
