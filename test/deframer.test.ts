// The native deframer on byte streams built by the framer: PDUs split at every byte, many PDUs per read, direct
// placement with its copy counter, and a hostile peer's malformed input.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { type BhsInit, type DataIn } from '../lib/wire/bhs';
import { Deframer, type ReceivedPdu } from '../lib/wire/deframer';
import { framePdu, type Digests } from '../lib/wire/framer';
import { Opcode } from '../lib/wire/opcodes';

const NO_DIGESTS: Digests = { headerDigest: false, dataDigest: false };
const ALL_DIGESTS: Digests = { headerDigest: true, dataDigest: true };

function dataIn(itt: number, bufferOffset: number, length: number, final = false): BhsInit<DataIn> {
  return {
    opcode: Opcode.DataIn, final, acknowledge: false, overflow: false, underflow: false, hasStatus: final, status: 0,
    lun: 0, itt, ttt: 0xffffffff, statSN: 1, expCmdSN: 2, maxCmdSN: 33, dataSN: 0, bufferOffset, residualCount: 0,
    dataLength: length,
  };
}
const nopIn = (itt: number): BhsInit => ({ opcode: Opcode.NopIn, lun: 0, itt, ttt: 0xffffffff, statSN: 5, expCmdSN: 6, maxCmdSN: 7 });
const textResponse = (itt: number): BhsInit => ({
  opcode: Opcode.TextResponse, final: true, cont: false, lun: 0, itt, ttt: 0xffffffff, statSN: 1, expCmdSN: 1, maxCmdSN: 1,
});
const scsiResponse = (itt: number): BhsInit => ({
  opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: false, overflow: false, underflow: false, response: 0,
  status: 2, itt, snackTag: 0, statSN: 9, expCmdSN: 10, maxCmdSN: 40, expDataSN: 0, bidiResidualCount: 0, residualCount: 0,
});

interface Seen { opcode: number; itt: number; data: Buffer | null; placed: boolean; ahs: Buffer | null }
function collect(into: Seen[]) {
  return (pdu: ReceivedPdu) => into.push({
    opcode: pdu.bhs.opcode, itt: pdu.bhs.itt, data: pdu.data && Buffer.from(pdu.data), placed: pdu.placed, ahs: pdu.ahs,
  });
}

/** A stream of every kind of data segment: none, odd length (padding), placed, unregistered, with an AHS. */
function mixedStream(digests: Digests) {
  const sense = crypto.randomBytes(18);
  const text = Buffer.from('TargetName=iqn.2026-11.test:disk\0TargetAddress=127.0.0.1:3260,1\0');
  const payloadA = crypto.randomBytes(20_000);
  const payloadB = crypto.randomBytes(777);
  const unregistered = crypto.randomBytes(4096);
  const ahs = Buffer.from([0x00, 0x05, 0x01, 0, 1, 2, 3, 4]); // extended-CDB style AHS: 3 + 5 bytes
  const pdus: Buffer[][] = [
    framePdu(nopIn(1), [], digests),
    framePdu(textResponse(2), [text], digests),
    framePdu(dataIn(10, 0, 12_000), [payloadA.subarray(0, 12_000)], digests),
    framePdu(dataIn(10, 12_000, 8_000), [payloadA.subarray(12_000, 16_000), payloadA.subarray(16_000)], digests),
    framePdu(dataIn(11, 100, 777, true), [payloadB], digests),
    framePdu(dataIn(99, 0, 4096, true), [unregistered], digests),
    framePdu(scsiResponse(3), [sense], digests, ahs),
  ];
  const expected = [
    { opcode: Opcode.NopIn, itt: 1, data: null, placed: false },
    { opcode: Opcode.TextResponse, itt: 2, data: text, placed: false },
    { opcode: Opcode.DataIn, itt: 10, data: payloadA.subarray(0, 12_000), placed: true },
    { opcode: Opcode.DataIn, itt: 10, data: payloadA.subarray(12_000), placed: true },
    { opcode: Opcode.DataIn, itt: 11, data: payloadB, placed: true },
    { opcode: Opcode.DataIn, itt: 99, data: unregistered, placed: false },
    { opcode: Opcode.ScsiResponse, itt: 3, data: sense, placed: false },
  ];
  return { stream: Buffer.concat(pdus.flat()), expected, payloadA, payloadB, ahs };
}

function newDeframer(seen: Seen[], digests: Digests, stagingSize?: number) {
  const deframer = new Deframer('initiator', collect(seen), stagingSize);
  deframer.setDigests(digests.headerDigest, digests.dataDigest);
  deframer.setMaxDataSegmentLength(262_144);
  const bufferA = Buffer.alloc(20_000);
  const bufferB = Buffer.alloc(1000);
  deframer.registerTask(10, bufferA);
  deframer.registerTask(11, bufferB);
  return { deframer, bufferA, bufferB };
}

function check(seen: Seen[], expected: ReturnType<typeof mixedStream>['expected']) {
  assert.equal(seen.length, expected.length, 'every PDU delivered once');
  expected.forEach((want, i) => {
    assert.equal(seen[i].opcode, want.opcode, `PDU ${i} opcode`);
    assert.equal(seen[i].itt, want.itt, `PDU ${i} ITT`);
    assert.equal(seen[i].placed, want.placed, `PDU ${i} placement`);
    assert.deepEqual(seen[i].data, want.data === null ? null : Buffer.from(want.data), `PDU ${i} data`);
  });
}

describe('deframer', () => {
  for (const digests of [NO_DIGESTS, ALL_DIGESTS]) {
    const label = digests.headerDigest ? 'with digests' : 'without digests';

    it(`delivers a whole stream fed at once (${label})`, () => {
      const { stream, expected, payloadA, payloadB, ahs } = mixedStream(digests);
      const seen: Seen[] = [];
      const { deframer, bufferA, bufferB } = newDeframer(seen, digests);
      deframer.feed(stream);
      assert.equal(deframer.error, null);
      check(seen, expected);
      assert.deepEqual(bufferA, payloadA);
      assert.deepEqual(bufferB.subarray(100, 877), payloadB);
      assert.deepEqual(seen[6].ahs, ahs);
    });

    it(`delivers the same PDUs when every split point cuts the stream in two (${label})`, () => {
      const { stream, expected } = mixedStream(digests);
      for (let cut = 0; cut <= stream.length; cut += cut < 200 ? 1 : 97) {
        const seen: Seen[] = [];
        const { deframer } = newDeframer(seen, digests);
        deframer.feed(stream.subarray(0, cut));
        deframer.feed(stream.subarray(cut));
        assert.equal(deframer.error, null, `cut at ${cut}`);
        check(seen, expected);
      }
    });

    it(`delivers the same PDUs fed one byte at a time (${label})`, () => {
      const { stream, expected } = mixedStream(digests);
      const seen: Seen[] = [];
      const { deframer } = newDeframer(seen, digests);
      for (let i = 0; i < stream.length; i++) deframer.feed(stream.subarray(i, i + 1));
      check(seen, expected);
    });
  }

  it('reads large task payload straight into the task buffer, copying none of it', () => {
    const digests = ALL_DIGESTS;
    const total = 4 * 1024 * 1024;
    const segment = 256 * 1024;
    const source = crypto.randomBytes(total);
    const wire: Buffer[] = [];
    for (let offset = 0; offset < total; offset += segment) {
      wire.push(...framePdu(dataIn(7, offset, segment, offset + segment === total), [source.subarray(offset, offset + segment)], digests));
    }
    wire.push(...framePdu(nopIn(8), [], digests));
    const stream = Buffer.concat(wire);
    const seen: Seen[] = [];
    const deframer = new Deframer('initiator', collect(seen), 64 * 1024);
    deframer.setDigests(true, true);
    deframer.setMaxDataSegmentLength(segment);
    const destination = Buffer.alloc(total);
    deframer.registerTask(7, destination);
    // Emulate the socket: each read copies the next bytes of the stream into the buffer the deframer plans.
    let at = 0;
    let reads = 0;
    while (at < stream.length) {
      const target = deframer.nextReadBuffer();
      const n = stream.copy(target, 0, at, Math.min(stream.length, at + target.length));
      at += n;
      reads++;
      deframer.commitRead(n);
      assert.equal(deframer.error, null);
    }
    assert.deepEqual(destination, source);
    assert.equal(seen.length, total / segment + 1);
    const stats = deframer.stats();
    assert.equal(stats.payloadCopied, 0, 'no payload byte went through the staging buffer');
    assert.equal(stats.payloadDirect, total);
    assert.ok(reads <= 3 * (total / segment) + 2, `about one read per header, segment and digest (${reads})`);
  });

  it('stops writing into a task buffer once the task is unregistered mid-segment', () => {
    const payload = crypto.randomBytes(32 * 1024);
    const stream = Buffer.concat(framePdu(dataIn(5, 0, payload.length, true), [payload], NO_DIGESTS));
    const seen: Seen[] = [];
    const deframer = new Deframer('initiator', collect(seen));
    deframer.setMaxDataSegmentLength(65536);
    const destination = Buffer.alloc(payload.length);
    deframer.registerTask(5, destination);
    deframer.feed(stream.subarray(0, 48 + 1000));
    deframer.unregisterTask(5);
    deframer.feed(stream.subarray(48 + 1000));
    assert.deepEqual(destination.subarray(0, 1000), payload.subarray(0, 1000));
    assert.ok(destination.subarray(1000).every((b) => b === 0), 'nothing written after unregistering');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].data, null, 'the aborted payload is not delivered');
  });

  describe('hostile peer', () => {
    function expectFailure(stream: Buffer, code: string, setup?: (d: Deframer) => void, digests = NO_DIGESTS) {
      const seen: Seen[] = [];
      const deframer = new Deframer('initiator', collect(seen));
      deframer.setDigests(digests.headerDigest, digests.dataDigest);
      setup?.(deframer);
      deframer.feed(stream);
      assert.equal(deframer.error?.code, code, deframer.error?.message);
      assert.ok(deframer.error!.message.length > 10, 'the error says what was wrong');
      const before = seen.length;
      deframer.feed(Buffer.concat(framePdu(nopIn(1), [], digests)));
      assert.equal(seen.length, before, 'nothing is delivered after a protocol error');
      return deframer.error!;
    }

    it('rejects a DataSegmentLength above what we declared, before reading the segment', () => {
      const header = framePdu(textResponse(1), [Buffer.alloc(9000)], NO_DIGESTS)[0];
      const error = expectFailure(header, 'EDATASEGMENTLENGTH');
      assert.match(error.message, /9000 exceeds MaxRecvDataSegmentLength 8192/);
      assert.deepEqual(error.bhs, header.subarray(0, 48), 'the offending BHS, for a Reject');
    });

    it('rejects the largest DataSegmentLength a header can carry, after login raised the limit', () => {
      const header = framePdu(textResponse(1), [], NO_DIGESTS)[0];
      header.writeUIntBE(0xffffff, 5, 3);
      expectFailure(header, 'EDATASEGMENTLENGTH', (d) => d.setMaxDataSegmentLength(262_144));
    });

    it('rejects an AHS whose length runs past TotalAHSLength', () => {
      const ahs = Buffer.from([0x00, 0x20, 0x01, 0, 0, 0, 0, 0]); // claims 32 bytes in an 8-byte AHS
      expectFailure(Buffer.concat(framePdu(nopIn(1), [], NO_DIGESTS, ahs)), 'EAHS');
    });

    it('rejects a header digest mismatch', () => {
      const wire = Buffer.concat(framePdu(nopIn(1), [], ALL_DIGESTS));
      wire[20] ^= 1;
      expectFailure(wire, 'EHEADERDIGEST', undefined, ALL_DIGESTS);
    });

    it('rejects a data digest mismatch', () => {
      const wire = Buffer.concat(framePdu(textResponse(1), [Buffer.from('a=b\0')], ALL_DIGESTS));
      wire[wire.length - 6] ^= 0x40;
      expectFailure(wire, 'EDATADIGEST', undefined, ALL_DIGESTS);
    });

    it('rejects an opcode a target never sends', () => {
      const wire = Buffer.concat(framePdu(nopIn(1), [], NO_DIGESTS));
      wire[0] = 0x01; // SCSI Command: an initiator opcode
      expectFailure(wire, 'EUNKNOWNOPCODE');
      wire[0] = 0x1c; // unassigned
      expectFailure(wire, 'EUNKNOWNOPCODE');
    });

    it('rejects Data-In that would overrun the registered buffer', () => {
      const wire = Buffer.concat(framePdu(dataIn(3, 4000, 200, true), [Buffer.alloc(200)], NO_DIGESTS));
      const buffer = Buffer.alloc(4096);
      const error = expectFailure(wire, 'EBUFFEROFFSET', (d) => d.registerTask(3, buffer));
      assert.match(error.message, /Buffer Offset 4000 \+ 200 bytes overruns the 4096-byte buffer/);
      assert.ok(buffer.every((b) => b === 0), 'not one byte written');
    });

    it('survives random garbage without crashing, hanging or growing past its limit', () => {
      for (let round = 0; round < 200; round++) {
        const deframer = new Deframer(round % 2 ? 'initiator' : 'target', () => undefined, 4096);
        deframer.setDigests(round % 3 === 0, round % 5 === 0);
        deframer.registerTask(crypto.randomInt(4), Buffer.alloc(crypto.randomInt(1, 70_000)));
        const garbage = crypto.randomBytes(crypto.randomInt(1, 20_000));
        deframer.feed(garbage);
        const stats = deframer.stats();
        assert.ok(stats.bytes <= garbage.length);
      }
    });
  });
});
