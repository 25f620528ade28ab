// The shape of a microbenchmark suite. bench/micro/run.ts loads every file in this folder that exports `suite`
// (one suite per file), so a new suite is a new file here and nothing else.

export interface MicroCaseOptions {
  /** Bytes one call processes; the runner prints GB/s and reports bytesPerSec from it. */
  bytesPerOp?: number;
  /** Cases in one group are compared with each other (e.g. every CRC32C of 64 KiB). */
  group?: string;
  /** Marks the cases a group's ratios are measured against: each case is shown as a fraction of the fastest one. */
  reference?: boolean;
}

export interface MicroCase extends MicroCaseOptions {
  /** Unique across suites; the runner prefixes nothing, so include what is measured (e.g. "crc32c 64KiB sse4.2"). */
  name: string;
  fn: () => void;
}

export interface MicroSuite {
  name: string;
  /** Adds the suite's cases; runs once, before any case is timed. */
  cases(add: (name: string, fn: () => void, options?: MicroCaseOptions) => void): void;
}

// Benchmarked functions write their result here so the JIT cannot drop the call as dead code.
let sinkValue = 0;
export function sink(value: number): void {
  sinkValue ^= value;
}
export function sinkSnapshot(): number {
  return sinkValue;
}
