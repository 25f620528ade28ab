// Sizes and durations as people write them on a command line, parsed in one place so every command agrees:
// `4k`, `64KiB`, `1M`, `2G`, `1.5GiB` or plain bytes (binary units, as fio and tgtd take them); `500ms`, `2s`, `1m`
// or plain milliseconds. Anything else is a UnitError, which the CLI reports as a usage error (exit 2).

/** A size or duration that is not one. `code` EUNIT; the message names the option and what it accepts. */
export class UnitError extends RangeError {
  override name = 'UnitError';
  readonly code = 'EUNIT';
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
// A number, then an optional unit: B, or K/M/G/T/P optionally followed by iB or B (all binary), any case.
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(?:([kmgtp])(?:i?b)?|(b))?$/i;

export interface SizeOptions {
  /** The option being parsed, for the message (e.g. `--bs`). */
  what?: string;
  /** Smallest accepted value in bytes. Default 1: a size of nothing is refused. */
  min?: number;
}

/** Parses a byte size ("4k", "64KiB", "1.5GiB", "4096"); the result is a whole, safe number of bytes. */
export function parseSize(value: number | string, options: SizeOptions = {}): number {
  const what = options.what ?? 'size';
  const min = options.min ?? 1;
  const fail = (why: string) => new UnitError(`${what} "${value}": ${why} (e.g. 4096, 4k, 64KiB, 1M, 1.5GiB)`);
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else {
    const m = SIZE_PATTERN.exec(value.trim());
    if (!m) throw fail('not a number of bytes with an optional unit B, K, M, G, T or P');
    bytes = Number(m[1]) * SIZE_UNITS[(m[2] ?? m[3] ?? '').toLowerCase()];
  }
  if (!Number.isSafeInteger(bytes)) throw fail(Number.isFinite(bytes) && bytes < Number.MAX_SAFE_INTEGER ? 'not a whole number of bytes' : 'too large');
  if (bytes < min) throw fail(min === 1 ? 'must be above zero' : `must be at least ${min}`);
  return bytes;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i;
/** Node's timers cap here: a longer delay silently becomes 1 ms, so it is refused instead. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Parses a duration ("500ms", "2s", "1.5m", "1h", or plain milliseconds) into whole milliseconds, > 0. */
export function parseDuration(value: string, what = 'duration'): number {
  const fail = (why: string) => new UnitError(`${what} "${value}": ${why} (e.g. 500ms, 2s, 1m, or plain milliseconds)`);
  const m = DURATION_PATTERN.exec(value.trim());
  if (!m) throw fail('not a number with an optional unit ms, s, m or h');
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[(m[2] ?? '').toLowerCase()]);
  if (!(ms > 0)) throw fail('must be at least 1 ms');
  if (ms > MAX_DURATION_MS) throw fail(`must be at most ${MAX_DURATION_MS} ms (about 24 days)`);
  return ms;
}
