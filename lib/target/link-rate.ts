// Parses the emulated link rates the target's pacing takes: "1gbit", "100mbit", "2.5gbps", "125MB/s", or bits/s.
// Units follow tc(8): bit suffixes are bits per second, "B"/"bps"-with-capital-B suffixes are bytes per second.

const BIT_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12, bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9 };
const BYTE_UNITS: Record<string, number> = { 'b/s': 8, 'kb/s': 8e3, 'mb/s': 8e6, 'gb/s': 8e9 };

/** Bits per second for a rate like "1gbit"; throws RangeError naming the bad value. */
export function parseLinkRate(rate: string | number): number {
  if (typeof rate === 'number') {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`link rate ${rate} must be a positive number of bits per second`);
    return rate;
  }
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z/]*)\s*$/.exec(rate);
  if (!m) throw new RangeError(`link rate "${rate}" is not a number with a unit such as 1gbit, 100mbit or 125MB/s`);
  const value = Number(m[1]);
  const unit = m[2];
  let factor: number | undefined;
  if (unit === '') factor = 1;
  else if (/B\/s$/.test(unit)) factor = BYTE_UNITS[unit.toLowerCase()];
  else factor = BIT_UNITS[unit.toLowerCase()];
  if (factor === undefined) throw new RangeError(`link rate "${rate}": unknown unit "${unit}" (use bit, kbit, mbit, gbit or B/s, kB/s, MB/s, GB/s)`);
  const bits = value * factor;
  if (!(bits > 0)) throw new RangeError(`link rate "${rate}" must be above zero`);
  return bits;
}

export function formatLinkRate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1e9) return `${+(bitsPerSecond / 1e9).toFixed(3)}gbit`;
  if (bitsPerSecond >= 1e6) return `${+(bitsPerSecond / 1e6).toFixed(3)}mbit`;
  return `${bitsPerSecond}bit`;
}
