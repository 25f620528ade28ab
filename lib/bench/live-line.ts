// The bench's live line, as fio's status line: redrawn in place once a second while a run goes (the run, its
// progress, MB/s and IOPS of the last second, each path's share of its bytes), only on a terminal, and cleared before
// anything else is printed so the table and JSON on stdout stay exactly what they are without a terminal.
import type { Writable } from 'node:stream';
import type { BenchDirection } from './bench-options';
import type { BenchTick } from './runner';

/** `[path 0 alone failover] [r 245.3 MB/s 3743 IOPS] [path 0 100%] [3/10 s]` */
export function formatLiveLine(label: string, policy: string, rw: BenchDirection, tick: BenchTick): string {
  const split = tick.paths.map((p) => `path ${p.id} ${Math.round(p.share * 100)}%`).join(' ');
  return `[${label} ${policy}] [${rw === 'read' ? 'r' : 'w'} ${tick.MBps.toFixed(1)} MB/s ${tick.iops} IOPS] [${split}] ` +
    `[${Math.min(tick.elapsed, tick.planned).toFixed(0)}/${tick.planned} s]`;
}

export class LiveLine {
  private drawn = false;

  constructor(private readonly stream: Writable & { isTTY?: boolean }) {}

  /** Whether it draws at all: only on a terminal. */
  get enabled(): boolean { return this.stream.isTTY === true; }

  draw(line: string): void {
    if (!this.enabled) return;
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** Erases the line, so what is printed next starts on a clean one. */
  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
