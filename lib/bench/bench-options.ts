// What one bench run does, parsed and checked once so the runner, the CLI and the scripts agree on the limits.
import { parseSize } from '../units';

export type BenchDirection = 'read' | 'write';

export interface BenchOptions {
  rw: BenchDirection;
  /** Bytes per I/O; a whole number of the device's blocks. */
  bs: number;
  /** I/Os kept in flight. */
  qd: number;
  /** How long to issue new I/Os; the run ends when the last one in flight completes. */
  seconds: number;
  /** Bytes of the LU the sequential offset cycles over (default: the whole LU, at most 1 GiB). */
  span?: number;
  /** A mixed run: this percentage of the I/Os are reads, the rest writes, interleaved (`rw` then names the run only). */
  readPercent?: number;
}

export class BenchArgumentError extends RangeError {
  readonly code = 'EARGUMENT';
}

/** "64k" → 65536 (binary units, as fio and the target's --lun take them). */
export function parseBlockSize(text: string | number): number {
  try {
    return parseSize(text, { what: '--bs' });
  } catch (error) {
    throw new BenchArgumentError((error as Error).message);
  }
}

export function checkBenchOptions(o: BenchOptions, blockSize: number, capacityBytes: number): void {
  if (o.rw !== 'read' && o.rw !== 'write') throw new BenchArgumentError(`--rw "${o.rw}": use read or write`);
  if (!Number.isSafeInteger(o.bs) || o.bs <= 0 || o.bs % blockSize !== 0) {
    throw new BenchArgumentError(`--bs ${o.bs}: must be a whole number of the device's ${blockSize}-byte blocks`);
  }
  if (!Number.isInteger(o.qd) || o.qd < 1 || o.qd > 1024) throw new BenchArgumentError(`--qd ${o.qd}: use 1..1024`);
  if (!(o.seconds > 0) || !Number.isFinite(o.seconds)) throw new BenchArgumentError(`--time ${o.seconds}: use a positive number of seconds`);
  if (o.readPercent !== undefined && !(Number.isInteger(o.readPercent) && o.readPercent >= 0 && o.readPercent <= 100)) {
    throw new BenchArgumentError(`read percentage ${o.readPercent}: use 0..100`);
  }
  if (o.bs > capacityBytes) throw new BenchArgumentError(`--bs ${o.bs}: larger than the LU (${capacityBytes} bytes)`);
  if (o.span !== undefined && (o.span < o.bs || o.span % blockSize !== 0)) {
    throw new BenchArgumentError(`span ${o.span}: at least one I/O and a whole number of blocks`);
  }
}
