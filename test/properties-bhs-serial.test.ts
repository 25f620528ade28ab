// Properties of the BHS codec (every opcode of RFC 7143 §11 round-trips through encode and decode; any 48 bytes
// decode or fail with BhsError) and of serial-number arithmetic (RFC 1982 §3 on 32 bits, against a BigInt model).
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Bhs, BhsError, BhsInit, decodeBhs, encodeBhs, encodeScsiCommand } from '../lib/wire/bhs';
import { Opcode } from '../lib/wire/opcodes';
import { serialAdd, serialDiff, serialLe, serialLt } from '../lib/wire/serial';

const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });
const u8 = fc.nat({ max: 0xff });
const lun = fc.nat({ max: 16383 });
const common = { ahsLength: fc.nat({ max: 255 }).map((n) => n * 4), dataLength: fc.nat({ max: 0xffffff }), itt: u32 };
const initiatorSeq = { cmdSN: u32, expStatSN: u32 };
const targetSeq = { statSN: u32, expCmdSN: u32, maxCmdSN: u32 };
const isid = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b));
const op = <T extends number>(o: T) => fc.constant(o);

/** A BHS object for each opcode, with every field over its whole width. */
const bhs: fc.Arbitrary<Bhs> = fc.oneof(
  fc.record({ opcode: op(Opcode.NopOut), immediate: fc.boolean(), ...common, lun, ttt: u32, ...initiatorSeq }),
  fc.record({
    opcode: op(Opcode.ScsiCommand), immediate: fc.boolean(), ...common, final: fc.boolean(), read: fc.boolean(), write: fc.boolean(),
    attr: fc.nat({ max: 7 }), lun, expectedDataTransferLength: u32, ...initiatorSeq, cdb: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b)),
  }),
  fc.record({ opcode: op(Opcode.TaskManagementRequest), immediate: fc.boolean(), ...common, func: fc.nat({ max: 0x7f }), lun, referencedTaskTag: u32, ...initiatorSeq, refCmdSN: u32, expDataSN: u32 }),
  fc.record({
    opcode: op(Opcode.LoginRequest), ...common, transit: fc.boolean(), cont: fc.boolean(), csg: fc.nat({ max: 3 }), nsg: fc.nat({ max: 3 }),
    versionMax: u8, versionMin: u8, isid, tsih: u16, cid: u16, ...initiatorSeq,
  }),
  fc.record({ opcode: op(Opcode.TextRequest), immediate: fc.boolean(), ...common, final: fc.boolean(), cont: fc.boolean(), lun, ttt: u32, ...initiatorSeq }),
  fc.record({ opcode: op(Opcode.DataOut), ...common, final: fc.boolean(), lun, ttt: u32, expStatSN: u32, dataSN: u32, bufferOffset: u32 }),
  fc.record({ opcode: op(Opcode.LogoutRequest), immediate: fc.boolean(), ...common, reason: fc.nat({ max: 0x7f }), cid: u16, ...initiatorSeq }),
  fc.record({ opcode: op(Opcode.SnackRequest), ...common, type: fc.nat({ max: 15 }), lun, ttt: u32, expStatSN: u32, begRun: u32, runLength: u32 }),
  fc.record({ opcode: op(Opcode.NopIn), ...common, lun, ttt: u32, ...targetSeq }),
  fc.record({
    opcode: op(Opcode.ScsiResponse), ...common, bidiOverflow: fc.boolean(), bidiUnderflow: fc.boolean(), overflow: fc.boolean(), underflow: fc.boolean(),
    response: u8, status: u8, snackTag: u32, ...targetSeq, expDataSN: u32, bidiResidualCount: u32, residualCount: u32,
  }),
  fc.record({ opcode: op(Opcode.TaskManagementResponse), ...common, response: u8, ...targetSeq }),
  fc.record({
    opcode: op(Opcode.LoginResponse), ...common, transit: fc.boolean(), cont: fc.boolean(), csg: fc.nat({ max: 3 }), nsg: fc.nat({ max: 3 }),
    versionMax: u8, versionActive: u8, isid, tsih: u16, ...targetSeq, statusClass: u8, statusDetail: u8,
  }),
  fc.record({ opcode: op(Opcode.TextResponse), ...common, final: fc.boolean(), cont: fc.boolean(), lun, ttt: u32, ...targetSeq }),
  // The status byte is only meaningful (and only encoded) with the S bit.
  fc.record({
    opcode: op(Opcode.DataIn), ...common, final: fc.boolean(), acknowledge: fc.boolean(), overflow: fc.boolean(), underflow: fc.boolean(),
    hasStatus: fc.boolean(), status: u8, lun, ttt: u32, ...targetSeq, dataSN: u32, bufferOffset: u32, residualCount: u32,
  }).map((p) => (p.hasStatus ? p : { ...p, status: 0 })),
  fc.record({ opcode: op(Opcode.LogoutResponse), ...common, response: u8, ...targetSeq, time2Wait: u16, time2Retain: u16 }),
  fc.record({ opcode: op(Opcode.R2T), ...common, lun, ttt: u32, ...targetSeq, r2tSN: u32, bufferOffset: u32, desiredDataTransferLength: u32 }),
  fc.record({
    opcode: op(Opcode.AsyncMessage), ...common, lun, ...targetSeq, asyncEvent: u8, asyncVCode: u8, parameter1: u16, parameter2: u16, parameter3: u16,
  }),
  fc.record({ opcode: op(Opcode.Reject), ...common, reason: u8, ...targetSeq, dataSN: u32 }),
) as fc.Arbitrary<Bhs>;

const OPCODES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x31, 0x32, 0x3f];

describe('properties: BHS codec', () => {
  it('decode(encode(bhs)) is the same BHS, for every opcode and every field value', () => {
    const seen = new Set<number>();
    fc.assert(fc.property(bhs, fc.nat({ max: 64 }), (pdu, offset) => {
      seen.add(pdu.opcode);
      const buf = Buffer.alloc(offset + 48 + 8, 0xa5);
      encodeBhs(pdu as BhsInit, buf, offset);
      assert.ok(buf.subarray(0, offset).every((b) => b === 0xa5) && buf.subarray(offset + 48).every((b) => b === 0xa5), 'wrote outside its 48 bytes');
      // (fast-check's records have a null prototype: compare a plain copy.)
      assert.deepEqual(decodeBhs(buf, offset), { ...pdu });
    }), { numRuns: 3000 });
    assert.deepEqual([...seen].sort((a, b) => a - b), OPCODES);
  });

  it('any 48 bytes decode, or fail with BhsError for an unknown opcode; decoding is stable under re-encoding', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), fc.constantFrom(...OPCODES, -1), (raw, opcode) => {
      const buf = Buffer.from(raw);
      if (opcode >= 0) buf[0] = (buf[0] & 0xc0) | opcode;
      let first: Bhs;
      try {
        first = decodeBhs(buf);
      } catch (error) {
        assert.ok(error instanceof BhsError && error.code === 'EOPCODE', String(error));
        assert.ok(!OPCODES.includes(buf[0] & 0x3f));
        return;
      }
      const again = Buffer.alloc(48);
      try {
        encodeBhs(first as BhsInit, again);
      } catch (error) {
        // LUNs other than peripheral and flat space addressing decode raw and cannot be written back.
        assert.ok(error instanceof BhsError && error.code === 'ELUN', String(error));
        assert.ok(buf[8] >> 6 >= 2);
        return;
      }
      // Without the S bit a Data-In's status byte is reserved: read as it came, written as 0.
      if (first.opcode === Opcode.DataIn && !first.hasStatus) first.status = 0;
      assert.deepEqual(decodeBhs(again), first);
    }), { numRuns: 3000 });
  });

  it('encodeScsiCommand writes the bytes encodeBhs writes for the same command', () => {
    const cmd = fc.record({
      flags: fc.nat({ max: 0xff }), lun, itt: u32, edtl: u32, cmdSN: u32, expStatSN: u32,
      cdb: fc.uint8Array({ minLength: 6, maxLength: 16 }).map((b) => Buffer.from(b)),
    });
    fc.assert(fc.property(cmd, (c) => {
      const fast = Buffer.alloc(48, 0xff);
      encodeScsiCommand(fast, c.flags, c.lun, c.itt, c.edtl, c.cmdSN, c.expStatSN, c.cdb);
      const cdb = Buffer.alloc(16);
      c.cdb.copy(cdb);
      const slow = Buffer.alloc(48, 0xff);
      encodeBhs({
        opcode: Opcode.ScsiCommand, immediate: false, final: !!(c.flags & 0x80), read: !!(c.flags & 0x40), write: !!(c.flags & 0x20),
        attr: c.flags & 7, lun: c.lun, itt: c.itt, expectedDataTransferLength: c.edtl, cmdSN: c.cmdSN, expStatSN: c.expStatSN, cdb,
      }, slow);
      // Bits 3-4 of the flags byte are reserved; the field encoder takes the byte as given.
      fast[1] &= ~0x18;
      assert.deepEqual(fast, slow);
    }), { numRuns: 1000 });
  });
});

// RFC 1982 §3.2, written with BigInt on the definition's own terms: i1 < i2 iff (i1 < i2 and i2 - i1 < 2^31) or
// (i1 > i2 and i1 - i2 > 2^31); undefined at a distance of exactly 2^31.
const HALF = 2n ** 31n;
function rfcLt(a: number, b: number): boolean {
  const [i1, i2] = [BigInt(a), BigInt(b)];
  return (i1 < i2 && i2 - i1 < HALF) || (i1 > i2 && i1 - i2 > HALF);
}
const distance = (a: number, b: number) => { const d = BigInt(a) - BigInt(b); return d < 0n ? -d : d; };
const definedPair = fc.tuple(u32, u32).filter(([a, b]) => distance(a, b) !== HALF);

describe('properties: serial-number arithmetic (RFC 1982, 32 bits)', () => {
  it('serialLt and serialLe agree with the RFC definition wherever it is defined', () => {
    fc.assert(fc.property(definedPair, ([a, b]) => {
      assert.equal(serialLt(a, b), rfcLt(a, b));
      assert.equal(serialLe(a, b), a === b || rfcLt(a, b));
    }), { numRuns: 5000 });
  });

  it('around the wrap: exactly one of a < b, a = b, b < a', () => {
    const nearWrap = fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 })).map(([x, y]) => [x >>> 0, y >>> 0] as const);
    fc.assert(fc.property(fc.oneof(definedPair, nearWrap), ([a, b]) => {
      assert.equal([serialLt(a, b), a === b, serialLt(b, a)].filter(Boolean).length, 1);
    }), { numRuns: 5000 });
  });

  it('adding n in 1..2^31-1 gives a larger number; serialDiff undoes serialAdd', () => {
    fc.assert(fc.property(u32, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (a, n) => {
      const b = serialAdd(a, n);
      assert.ok(b >= 0 && b <= 0xffffffff && Number.isInteger(b));
      assert.equal(BigInt(b), (BigInt(a) + BigInt(n)) % 2n ** 32n);
      assert.ok(serialLt(a, b) && !serialLt(b, a) && serialLe(a, b));
      assert.equal(serialDiff(b, a), n);
      assert.equal(serialDiff(a, b), -n);
    }), { numRuns: 5000 });
  });
});
