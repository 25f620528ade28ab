// What `read` and `write` say about a transfer, as dd does: a progress line redrawn in place on stderr while it
// runs (only when stderr is a TTY, at most 4 times a second), then one summary line on stderr, or with --json one
// JSON object (`MBps` in 10^6 bytes per second, as everywhere in the CLI).
import type { Writable } from 'node:stream';

const REDRAW_MS = 250;

export interface TransferSummary { op: 'read' | 'write'; offset: number; bytes: number; seconds: number; MBps: number; paths?: unknown[] }

/** `1073741824` → `1.1 GB, 1.0 GiB`, the two ways dd names a byte count. */
function humanBytes(bytes: number): string {
  const unit = (base: number, names: string[]) => {
    let value = bytes;
    let i = 0;
    while (value >= base && i < names.length - 1) { value /= base; i++; }
    return `${value.toFixed(i === 0 ? 0 : 1)} ${names[i]}`;
  };
  return `${unit(1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB'])}, ${unit(1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'])}`;
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
  return (hms[0] > 0 ? hms : hms.slice(1)).map((n, i) => (i === 0 ? String(n) : String(n).padStart(2, '0'))).join(':');
}

export class TransferProgress {
  private bytes = 0;
  private readonly started = process.hrtime.bigint();
  private readonly timer?: NodeJS.Timeout;
  private drawn = false;

  /** `total` is the planned byte count where known (for % and ETA); `stderr` draws only if it is a TTY. */
  constructor(private readonly op: 'read' | 'write', private readonly offset: number, private readonly total: number | undefined,
    private readonly stderr: Writable & { isTTY?: boolean } = process.stderr) {
    if (stderr.isTTY) this.timer = setInterval(() => this.draw(), REDRAW_MS).unref();
  }

  add(bytes: number): void { this.bytes += bytes; }

  private seconds(): number { return Number(process.hrtime.bigint() - this.started) / 1e9; }

  /** The progress line: bytes, percent, MB/s and ETA where the total is known. */
  line(): string {
    const seconds = this.seconds();
    const rate = seconds > 0 ? this.bytes / seconds : 0;
    const parts = [`${this.bytes} bytes (${humanBytes(this.bytes)})`];
    if (this.total !== undefined && this.total > 0) parts.push(`${Math.floor((this.bytes / this.total) * 100)}%`);
    parts.push(`${(rate / 1e6).toFixed(1)} MB/s`);
    if (this.total !== undefined && rate > 0) parts.push(`ETA ${clock((this.total - this.bytes) / rate)}`);
    return parts.join('  ');
  }

  private draw(): void {
    this.stderr.write(`\r${this.line()}\x1b[K`);
    this.drawn = true;
  }

  /** Stops redrawing and clears the line, so what is printed next starts on a clean one. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.drawn) this.stderr.write('\r\x1b[K');
    this.drawn = false;
  }

  summary(): TransferSummary {
    const seconds = this.seconds();
    return { op: this.op, offset: this.offset, bytes: this.bytes, seconds: Number(seconds.toFixed(3)), MBps: Number((seconds > 0 ? this.bytes / seconds / 1e6 : 0).toFixed(1)) };
  }

  /**
   * Stops the line and prints the summary: as JSON on `jsonTo` when given (with `paths`, what each path carried),
   * else as dd's last line on stderr.
   */
  finish(jsonTo?: Writable, paths?: unknown[]): TransferSummary {
    this.stop();
    const s: TransferSummary = { ...this.summary(), ...(paths ? { paths } : {}) };
    if (jsonTo) jsonTo.write(JSON.stringify(s) + '\n');
    else this.stderr.write(`${s.bytes} bytes (${humanBytes(s.bytes)}) ${s.op === 'read' ? 'read' : 'written'}, ${s.seconds.toFixed(2)} s, ${s.MBps.toFixed(1)} MB/s\n`);
    return s;
  }
}
