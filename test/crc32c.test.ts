// CRC32C in the addon: the RFC 7143 vectors on every implementation this CPU runs, agreement with an independent
// implementation (@node-rs/crc32, the Rust crc32c crate) over every length that exercises the 3-lane split and
// its tail, unaligned and pooled buffers, extension, and typed errors.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32c as oracle } from '@node-rs/crc32';
import {
  activeCrc32cImplementation, crc32c, crc32cImplementations, crc32cWith, writeDigest,
} from '../lib/wire/crc32c';
import { notApplicable } from './support/tools';

const supported = crc32cImplementations().filter((impl) => impl.supported).map((impl) => impl.name);

// RFC 7143 appendix A.4 (RFC 3720 B.4) lists each digest as sent on the wire, least-significant byte first.
const readPdu = Buffer.from(
  '01c00000' + '00'.repeat(12) + '14000000' + '00000400' + '00000014' + '00000018' + '28000000' + '00'.repeat(4) +
    '02000000' + '00'.repeat(4),
  'hex',
);
const rfcVectors: Array<{ name: string; data: Buffer; wire: string }> = [
  { name: '32 bytes of zeroes', data: Buffer.alloc(32, 0x00), wire: 'aa36918a' },
  { name: '32 bytes of ones', data: Buffer.alloc(32, 0xff), wire: '43aba862' },
  { name: '32 incrementing bytes 00..1f', data: Buffer.from(Array.from({ length: 32 }, (_, i) => i)), wire: '4e79dd46' },
  { name: '32 decrementing bytes 1f..00', data: Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), wire: '5cdb3f11' },
  { name: 'an iSCSI Read (10) command PDU', data: readPdu, wire: '563a96d9' },
];

// Lengths around every boundary of the hardware paths: whole rounds of 3 x 4 KiB lanes (12288) and the 24-byte
// granularity of the last round (crc32 paths), the 1 KiB start and 256-byte steps of the folding path.
// (The single-stream cutoffs, 80 and 216 bytes, sit inside the 0..300 sweep.)
const boundaryLengths = [
  1023, 1024, 1025, 1024 + 255, 1280, 1280 + 1,
  12287, 12288, 12289, 12288 + 215, 12288 + 216, 12288 + 239, 2 * 12288, 2 * 12288 + 23, 8192, 8192 + 48,
  65536, 65536 + 7, (1 << 20) + 3,
];

function wireDigest(crc: number): string {
  const out = Buffer.alloc(4);
  writeDigest(out, 0, crc);
  return out.toString('hex');
}

/** A view of `length` random bytes starting `misalign` bytes into a larger allocation. */
function unaligned(length: number, misalign: number): Buffer {
  return randomBytes(length + misalign + 8).subarray(misalign, misalign + length);
}

describe('CRC32C', () => {
  it('lists its implementations and uses a supported one, the hardware one where the CPU has it', () => {
    const names = crc32cImplementations().map((impl) => impl.name);
    assert.ok(names.includes('slicing-by-8'));
    assert.ok(supported.includes('slicing-by-8'));
    assert.ok(supported.includes(activeCrc32cImplementation()), `active ${activeCrc32cImplementation()} is not supported`);
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const has = (flag: string) => new RegExp(`\\b${flag}\\b`).test(cpuinfo);
    if (process.arch === 'x64' && has('sse4_2') && has('pclmulqdq'))
      assert.equal(activeCrc32cImplementation(), has('avx512f') && has('vpclmulqdq') ? 'avx512-vpclmul' : 'sse4.2');
    if (process.arch === 'arm64' && /^Features\s*:.*\bcrc32\b/m.test(cpuinfo))
      assert.equal(activeCrc32cImplementation(), 'armv8-crc');
  });

  it('computes the CRC-32C check value through the active implementation', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(0), 0x12345678), 0x12345678);
  });

  for (const name of ['active', ...supported]) {
    describe(`implementation: ${name}`, () => {
      const digest = (buf: Uint8Array, crc?: number) => (name === 'active' ? crc32c(buf, crc) : crc32cWith(name, buf, crc));

      for (const vector of rfcVectors) {
        it(`matches RFC 7143 for ${vector.name}`, () => {
          assert.equal(wireDigest(digest(vector.data)), vector.wire);
        });
      }

      it('agrees with @node-rs/crc32 for every length 0..300 at every misalignment 0..7', () => {
        for (let length = 0; length <= 300; length++) {
          for (let misalign = 0; misalign < 8; misalign++) {
            const buf = unaligned(length, misalign);
            const seed = (length * 2654435761) >>> 0;
            assert.equal(digest(buf), oracle(buf), `length ${length} misalign ${misalign}`);
            assert.equal(digest(buf, seed), oracle(buf, seed), `length ${length} misalign ${misalign} seed ${seed}`);
          }
        }
      });

      it('agrees with @node-rs/crc32 on large buffers across lane boundaries', () => {
        for (const length of boundaryLengths) {
          for (const misalign of [0, 3]) {
            const buf = unaligned(length, misalign);
            assert.equal(digest(buf), oracle(buf), `length ${length} misalign ${misalign}`);
          }
        }
      });

      it('extends a finished CRC: crc(a‖b) == extend(crc(a), b)', () => {
        const whole = randomBytes(70_000);
        for (const split of [0, 1, 7, 47, 48, 215, 216, 4096, 12288, 40_001, 70_000]) {
          const a = whole.subarray(0, split);
          const b = whole.subarray(split);
          assert.equal(digest(b, digest(a)), digest(whole), `split at ${split}`);
        }
      });
    });
  }

  it('reads the bytes a Buffer views, not its backing store, for pooled Buffers', () => {
    const pooled = Buffer.from('a small buffer from the shared pool');
    assert.notEqual(pooled.byteOffset, 0, 'expected a pooled Buffer with a non-zero byteOffset');
    assert.equal(crc32c(pooled), oracle(Buffer.from(pooled)));
    const view = new Uint8Array(pooled.buffer, pooled.byteOffset + 2, 9);
    assert.equal(crc32c(view), oracle(Buffer.from(view)));
  });

  it('rejects what is not a Uint8Array or a valid CRC with typed errors', () => {
    assert.throws(() => crc32c('123456789' as unknown as Uint8Array), TypeError);
    assert.throws(() => crc32c(new Uint16Array(4) as unknown as Uint8Array), TypeError);
    assert.throws(() => crc32c(undefined as unknown as Uint8Array), TypeError);
    assert.throws(() => crc32c(Buffer.alloc(1), -1), RangeError);
    assert.throws(() => crc32c(Buffer.alloc(1), 2 ** 32), RangeError);
    assert.throws(() => crc32c(Buffer.alloc(1), 1.5), RangeError);
    assert.throws(() => crc32c(Buffer.alloc(1), Number.NaN), RangeError);
    assert.throws(() => crc32c(Buffer.alloc(1), '1' as unknown as number), TypeError);
    assert.throws(() => crc32cWith('no-such-crc', Buffer.alloc(1)), { code: 'ECRC32CIMPL' });
    assert.throws(() => crc32cWith(1 as unknown as string, Buffer.alloc(1)), TypeError);
  });

  it('refuses an implementation this CPU cannot run', function () {
    const unsupported = crc32cImplementations().find((impl) => !impl.supported);
    if (!unsupported) notApplicable(this, 'this CPU runs every compiled CRC32C implementation');
    assert.throws(() => crc32cWith(unsupported!.name, Buffer.alloc(1)), { code: 'ENOTSUP' });
  });

  it('writes and reads digests least-significant byte first', () => {
    const frame = Buffer.alloc(10, 0xee);
    writeDigest(frame, 3, 0x8a9136aa);
    assert.equal(frame.toString('hex'), 'eeeeeeaa36918aeeeeee');
    assert.deepEqual(frame.subarray(3, 7), Buffer.from('aa36918a', 'hex'));
    assert.throws(() => writeDigest(frame, 7, 0), RangeError);
    assert.throws(() => writeDigest(frame, -1, 0), RangeError);
    assert.throws(() => writeDigest(frame, 0, 2 ** 32), RangeError);
  });
});
