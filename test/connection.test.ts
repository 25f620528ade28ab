// PduConnection on real loopback TCP, initiator and target roles: payload placed without copies in both directions,
// digests, and a malformed PDU ending only that connection.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { PduConnection } from '../lib/wire/connection';
import { type DataIn, type DataOut, type BhsInit } from '../lib/wire/bhs';
import type { ReceivedPdu } from '../lib/wire/deframer';
import { Opcode } from '../lib/wire/opcodes';
import { ProtocolError } from '../lib/wire/errors';

const SEGMENT = 256 * 1024;

function dataIn(itt: number, dataSN: number, bufferOffset: number, final: boolean): BhsInit<DataIn> {
  return {
    opcode: Opcode.DataIn, final, acknowledge: false, overflow: false, underflow: false, hasStatus: final, status: 0,
    lun: 0, itt, ttt: 0xffffffff, statSN: 1, expCmdSN: 1, maxCmdSN: 32, dataSN, bufferOffset, residualCount: 0,
  };
}
function dataOut(itt: number, dataSN: number, bufferOffset: number, final: boolean): BhsInit<DataOut> {
  return { opcode: Opcode.DataOut, final, lun: 0, itt, ttt: 0x1234, expStatSN: 1, dataSN, bufferOffset };
}

/** A connected initiator/target pair on loopback, the initiator bound to 127.0.0.2. */
async function pair(digests: boolean) {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const initiator = await PduConnection.connect({
    host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, sourceAddress: '127.0.0.2', role: 'initiator',
  });
  const [socket] = (await accepted) as [net.Socket];
  const target = PduConnection.accept(socket, { role: 'target' });
  for (const side of [initiator, target]) {
    side.setDigests(digests, digests);
    side.setMaxRecvDataSegmentLength(SEGMENT);
  }
  return { server, initiator, target };
}

function until(connection: PduConnection, count: number): Promise<ReceivedPdu[]> {
  const seen: ReceivedPdu[] = [];
  return new Promise((resolve, reject) => {
    connection.on('error', reject);
    connection.on('pdu', (pdu: ReceivedPdu) => {
      seen.push(pdu);
      if (seen.length === count) resolve(seen);
    });
  });
}

describe('PduConnection on loopback', () => {
  for (const digests of [false, true]) {
    it(`moves 32 MiB of Data-In into the caller's buffer without copying payload (digests ${digests ? 'on' : 'off'})`, async () => {
      const { server, initiator, target } = await pair(digests);
      try {
        const total = 32 * 1024 * 1024;
        const source = crypto.randomBytes(total);
        const destination = Buffer.alloc(total);
        initiator.registerTask(0x42, destination);
        const received = until(initiator, total / SEGMENT);
        for (let offset = 0, sn = 0; offset < total; offset += SEGMENT, sn++) {
          // Two buffers per PDU: the framer writes them with the header in one writev, never joined.
          const half = offset + SEGMENT / 2;
          target.send(dataIn(0x42, sn, offset, offset + SEGMENT === total), [source.subarray(offset, half), source.subarray(half, offset + SEGMENT)]);
        }
        const pdus = await received;
        assert.ok(pdus.every((p) => p.placed));
        assert.ok(destination.equals(source), 'every byte at its Buffer Offset');
        const stats = initiator.stats().received;
        assert.equal(stats.payloadCopied, 0, 'no payload copied through staging');
        assert.equal(stats.payloadDirect, total);
        assert.equal(target.stats().sent.pdus, total / SEGMENT);
      } finally {
        initiator.destroy();
        target.destroy();
        server.close();
      }
    });
  }

  it('places Data-Out on the target side at its Buffer Offset', async () => {
    const { server, initiator, target } = await pair(true);
    try {
      const source = crypto.randomBytes(3 * SEGMENT);
      const region = Buffer.alloc(source.length);
      target.registerTask(7, region);
      const received = until(target, 3);
      for (let i = 0; i < 3; i++) initiator.send(dataOut(7, i, i * SEGMENT, i === 2), source.subarray(i * SEGMENT, (i + 1) * SEGMENT));
      await received;
      assert.ok(region.equals(source));
    } finally {
      initiator.destroy();
      target.destroy();
      server.close();
    }
  });

  it('ends the connection with a ProtocolError on a malformed PDU, and the server keeps serving', async () => {
    const { server, initiator, target } = await pair(false);
    try {
      const failed = new Promise<Error>((resolve) => initiator.on('error', resolve));
      const closed = new Promise((resolve) => initiator.on('close', resolve)); // not events.once: it rejects on 'error'
      const bogus = Buffer.alloc(48);
      bogus[0] = 0x01; // a SCSI Command, which no target sends
      target.socket.write(bogus);
      const error = await failed;
      assert.ok(error instanceof ProtocolError);
      assert.equal((error as ProtocolError).code, 'EUNKNOWNOPCODE');
      await closed;

      const again = await pair(false);
      const got = until(again.initiator, 1);
      again.target.send({ opcode: Opcode.NopIn, lun: 0, itt: 9, ttt: 0xffffffff, statSN: 1, expCmdSN: 1, maxCmdSN: 1 });
      assert.equal((await got)[0].bhs.itt, 9);
      again.initiator.destroy();
      again.target.destroy();
      again.server.close();
    } finally {
      target.destroy();
      server.close();
    }
  });
});
