// RFC 1982 serial-number arithmetic on 32 bits, for CmdSN, ExpCmdSN, MaxCmdSN, StatSN, DataSN and R2TSN
// (RFC 7143 §4.2.2.1): a plain `<` breaks when the numbers wrap past 2^32.

/** a < b in serial arithmetic. */
export function serialLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in serial arithmetic. */
export function serialLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a + n modulo 2^32. */
export function serialAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a - b as a signed 32-bit serial distance. */
export function serialDiff(a: number, b: number): number {
  return (a - b) | 0;
}
