// PduConnection.sendDataOut on real loopback TCP: a whole Data-Out sequence framed by the addon from the caller's
// buffer (native/data_out_framer.cc) arrives as the PDUs RFC 7143 §11.7 asks for (DataSN from 0, F on the last,
// Buffer Offsets, padding, digests the receiving deframer checks), in order with the PDUs sent around it, and
// survives the kernel taking only part of it.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { PduConnection } from '../lib/wire/connection';
import type { DataOut, NopOut } from '../lib/wire/bhs';
import type { ReceivedPdu } from '../lib/wire/deframer';
import { Opcode } from '../lib/wire/opcodes';

const HOST = '127.62.0.1';

async function pair(digests: boolean, maxRecv: number) {
  const server = net.createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const initiator = await PduConnection.connect({ host: HOST, port: (server.address() as net.AddressInfo).port, sourceAddress: '127.62.0.2', role: 'initiator' });
  const [socket] = (await accepted) as [net.Socket];
  const target = PduConnection.accept(socket, { role: 'target' });
  for (const side of [initiator, target]) {
    side.setDigests(digests, digests);
    side.setMaxRecvDataSegmentLength(maxRecv);
  }
  const done = () => { initiator.destroy(); target.destroy(); server.close(); };
  return { initiator, target, done };
}

function collect(connection: PduConnection, count: number): Promise<ReceivedPdu[]> {
  const seen: ReceivedPdu[] = [];
  return new Promise((resolve, reject) => {
    connection.on('error', reject);
    connection.on('pdu', (pdu: ReceivedPdu) => {
      // Keep the header only: data views are valid during the callback alone (placed payload is in the task buffer).
      seen.push({ ...pdu, data: null });
      if (seen.length === count) resolve(seen);
    });
  });
}

function nopOut(itt: number): NopOut {
  return { opcode: Opcode.NopOut, immediate: true, lun: 0, itt, ttt: 0xffffffff, cmdSN: 1, expStatSN: 1, ahsLength: 0, dataLength: 0 };
}

describe('Data-Out bursts framed by the addon', () => {
  for (const digests of [false, true]) {
    for (const { length, segment } of [{ length: 65536, segment: 8192 }, { length: 65536 + 3, segment: 8192 }, { length: 20001, segment: 8190 }, { length: 5, segment: 8192 }]) {
      it(`${length} bytes in segments of ${segment}, digests ${digests ? 'on' : 'off'}: every PDU as §11.7 says, every byte at its offset, in order with the PDUs around it`, async () => {
        const { initiator, target, done } = await pair(digests, segment);
        try {
          const offset = 1000; // an R2T's burst need not start at 0
          const source = crypto.randomBytes(offset + length + 77);
          const region = Buffer.alloc(source.length);
          target.registerTask(0x77, region);
          const pdus = Math.ceil(length / segment);
          const received = collect(target, pdus + 2);
          initiator.send(nopOut(1));
          initiator.sendDataOut({ itt: 0x77, lun: 300, ttt: 0xabcd, expStatSN: 42, buffer: source, offset, length, maxSegment: segment });
          initiator.send(nopOut(2));
          const seen = await received;
          assert.equal(seen[0].bhs.opcode, Opcode.NopOut);
          assert.equal(seen[0].bhs.itt, 1);
          assert.equal(seen[pdus + 1].bhs.opcode, Opcode.NopOut);
          assert.equal(seen[pdus + 1].bhs.itt, 2, 'the PDU sent after the burst in the same tick comes after it');
          seen.slice(1, pdus + 1).forEach((pdu, i) => {
            const bhs = pdu.bhs as DataOut;
            assert.equal(bhs.opcode, Opcode.DataOut);
            assert.deepEqual({ itt: bhs.itt, lun: bhs.lun, ttt: bhs.ttt, expStatSN: bhs.expStatSN, dataSN: bhs.dataSN, bufferOffset: bhs.bufferOffset, final: bhs.final, dataLength: bhs.dataLength },
              { itt: 0x77, lun: 300, ttt: 0xabcd, expStatSN: 42, dataSN: i, bufferOffset: offset + i * segment, final: i === pdus - 1, dataLength: Math.min(segment, length - i * segment) });
          });
          assert.ok(region.subarray(offset, offset + length).equals(source.subarray(offset, offset + length)), 'the burst, byte for byte');
          assert.ok(region.subarray(0, offset).every((b) => b === 0) && region.subarray(offset + length).every((b) => b === 0), 'nothing outside it');
          assert.equal(initiator.stats().sent.bytes, target.stats().received.bytes, 'the sent-bytes count is what went on the wire');
        } finally {
          done();
        }
      });
    }
  }

  it('bursts the kernel takes only part of wait, headers and all, and arrive whole and in order once the peer reads', async () => {
    const { initiator, target, done } = await pair(true, 8192);
    try {
      const writes = 24;
      const size = 1 << 20;
      const sources = Array.from({ length: writes }, () => crypto.randomBytes(size));
      const regions = sources.map(() => Buffer.alloc(size));
      regions.forEach((region, i) => target.registerTask(i, region));
      target.setReading(false); // the socket buffers fill up: most of the bursts wait in the pump, their headers with them
      let refused = 0;
      for (let i = 0; i < writes; i++) {
        if (!initiator.sendDataOut({ itt: i, lun: 0, ttt: i, expStatSN: 1, buffer: sources[i], offset: 0, length: size, maxSegment: 8192 })) refused++;
        if (i % 4 === 3) await new Promise(setImmediate); // several ticks, several pending arenas
      }
      assert.ok(refused > 0, 'sendDataOut() said to wait for drain once the kernel stopped taking data');
      const drained = once(initiator, 'drain');
      const received = collect(target, writes * (size / 8192));
      target.setReading(true);
      await drained;
      const seen = await received;
      regions.forEach((region, i) => assert.ok(region.equals(sources[i]), `burst ${i} whole at its offsets`));
      assert.deepEqual(seen.filter((p) => (p.bhs as DataOut).final).map((p) => p.bhs.itt), sources.map((_, i) => i), 'the bursts in the order sent');
    } finally {
      done();
    }
  });

  it('a burst outside its buffer is refused with a RangeError and nothing of it is sent', async () => {
    const { initiator, target, done } = await pair(false, 8192);
    try {
      const buffer = Buffer.alloc(4096);
      assert.throws(() => initiator.sendDataOut({ itt: 1, lun: 0, ttt: 1, expStatSN: 1, buffer, offset: 4000, length: 200, maxSegment: 8192 }), RangeError);
      assert.throws(() => initiator.sendDataOut({ itt: 1, lun: 0, ttt: 1, expStatSN: 1, buffer, offset: 0, length: 200, maxSegment: 0 }), RangeError);
      const received = collect(target, 1);
      initiator.send(nopOut(9));
      const [only] = await received;
      assert.equal(only.bhs.opcode, Opcode.NopOut, 'the next PDU on the wire is the NOP-Out: the refused bursts left nothing');
      assert.equal(only.bhs.itt, 9);
    } finally {
      done();
    }
  });
});
