// The text table, laid out as Windows `netstat -nt` prints it (two-space indent, columns of 7/23/23/16),
// widened only where an address is longer, so scripts that split on whitespace keep working.
import type { NetstatRow, Endpoint } from './netstat';

export interface TableOptions {
  /** Add the Target, Session and Path columns of `--iscsi`. */
  iscsi?: boolean;
  /** Add the egress Device and its stateless Offloads. */
  verbose?: boolean;
}

export function formatEndpoint(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export function formatNetstatTable(rows: NetstatRow[], options: TableOptions = {}): string {
  const header = ['Proto', 'Local Address', 'Foreign Address', 'State', 'Offload State'];
  const minWidths = [7, 23, 23, 16, 0];
  if (options.verbose) {
    header.push('Device', 'Offloads');
    minWidths[4] = 15;
    minWidths.push(0, 0);
  }
  if (options.iscsi) {
    header.push('Target', 'Session', 'Path');
    minWidths[minWidths.length - 1] = Math.max(minWidths[minWidths.length - 1], 15);
    minWidths.push(0, 0, 0);
  }
  const body = rows.map((r) => {
    const cells = [r.proto, formatEndpoint(r.local), formatEndpoint(r.remote), r.state, r.offloadState];
    if (options.verbose) cells.push(r.device ?? '-', r.offloads.length ? r.offloads.join(',') : '-');
    if (options.iscsi) cells.push(r.iscsi?.target ?? '-', r.iscsi?.session ?? '-', r.iscsi?.path === null || r.iscsi?.path === undefined ? '-' : String(r.iscsi.path));
    return cells;
  });
  // Each column but the last is padded to its Windows width, or one past its longest cell.
  const widths = header.map((h, i) => {
    if (i === header.length - 1) return 0;
    const longest = Math.max(h.length, ...body.map((cells) => cells[i].length));
    return Math.max(minWidths[i], longest + 1);
  });
  const line = (cells: string[]): string => '  ' + cells.map((c, i) => c.padEnd(widths[i])).join('').trimEnd();
  return ['', 'Active Connections', '', line(header), '', ...body.map(line)].join('\n');
}
