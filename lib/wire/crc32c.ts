// CRC32C (Castagnoli), the iSCSI header and data digest (RFC 7143 §13.1), computed in the addon on the caller's
// bytes in place. The addon picks the fastest implementation the CPU supports; the others stay callable by
// name for tests and benchmarks.
import { native } from '../native';

export interface Crc32cImplementation {
  /** e.g. 'sse4.2', 'armv8-crc', 'slicing-by-8'. */
  name: string;
  /** Whether this CPU can run it. */
  supported: boolean;
}

interface Crc32cBinding {
  crc32c(buf: Uint8Array, crc?: number): number;
  crc32cWith(name: string, buf: Uint8Array, crc?: number): number;
  crc32cImplementations(): Crc32cImplementation[];
  crc32cActive: string;
}

const binding = native as Crc32cBinding;

/** Size of a digest on the wire. */
export const DIGEST_LENGTH = 4;

/**
 * CRC32C of `buf`, extending `crc` (the finished CRC of the bytes before it; 0, the default, for none), so
 * `crc32c(b, crc32c(a)) === crc32c(a‖b)`. Throws a TypeError for a non-Uint8Array and a RangeError for a `crc`
 * outside 0..0xffffffff.
 */
export const crc32c: (buf: Uint8Array, crc?: number) => number = binding.crc32c;

/** The same CRC with a named implementation; throws with code 'ECRC32CIMPL' (unknown) or 'ENOTSUP' (this CPU). */
export const crc32cWith: (name: string, buf: Uint8Array, crc?: number) => number = binding.crc32cWith;

/** Every implementation compiled into the addon, fastest first. */
export function crc32cImplementations(): Crc32cImplementation[] {
  return binding.crc32cImplementations();
}

/** The name of the implementation crc32c() uses. */
export function activeCrc32cImplementation(): string {
  return binding.crc32cActive;
}

/** Writes a digest at `offset` as iSCSI sends it: least-significant byte first (RFC 7143 §13.1). */
export function writeDigest(buf: Uint8Array, offset: number, crc: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + DIGEST_LENGTH > buf.length)
    throw new RangeError(`writeDigest: offset ${offset} does not leave ${DIGEST_LENGTH} bytes in a buffer of ${buf.length}`);
  if (!Number.isInteger(crc) || crc < 0 || crc > 0xffffffff)
    throw new RangeError(`writeDigest: crc ${crc} is not an integer from 0 to 0xffffffff`);
  buf[offset] = crc & 0xff;
  buf[offset + 1] = (crc >>> 8) & 0xff;
  buf[offset + 2] = (crc >>> 16) & 0xff;
  buf[offset + 3] = crc >>> 24;
}
