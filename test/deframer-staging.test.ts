// A connection's receive buffers grow with what arrives, over real loopback TCP: an idle or logging-in connection
// keeps the 32 KiB staging it starts with (so a thousand idle ones cost little: bench/idle-connections.ts), a
// burst of staged PDUs makes the socket pump ask for more and the deframer swaps larger buffers in between batches,
// up to its bound, without losing or corrupting a byte of the PDUs around the swap.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { PduConnection } from '../lib/wire/connection';
import type { ReceivedPdu } from '../lib/wire/deframer';
import { Opcode } from '../lib/wire/opcodes';
import { RawPeer } from './support/raw-initiator';

const NET = '127.64.4';

async function connected(stagingSize?: number): Promise<{ initiator: PduConnection; peer: net.Socket; server: net.Server }> {
  const server = net.createServer();
  server.listen(0, `${NET}.1`);
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const initiator = await PduConnection.connect({ host: `${NET}.1`, port: (server.address() as net.AddressInfo).port, sourceAddress: `${NET}.2`, role: 'initiator', stagingSize });
  const [peer] = (await accepted) as [net.Socket];
  initiator.setMaxRecvDataSegmentLength(64 * 1024);
  return { initiator, peer, server };
}

/** `count` NOP-Ins carrying `size` bytes each (ping data: unregistered, so staged or gathered), and their payloads. */
function nopIns(count: number, size: number): { wire: Buffer; payloads: Buffer[] } {
  const payloads = Array.from({ length: count }, () => crypto.randomBytes(size));
  const wire = Buffer.concat(payloads.map((data, i) => RawPeer.frame({ opcode: Opcode.NopIn, lun: 0, itt: i + 1, ttt: 0xffffffff, statSN: i, expCmdSN: 1, maxCmdSN: 32 }, data)));
  return { wire, payloads };
}

function receive(connection: PduConnection, count: number): Promise<Array<{ itt: number; data: Buffer }>> {
  const got: Array<{ itt: number; data: Buffer }> = [];
  return new Promise((resolve, reject) => {
    connection.on('pdu', (pdu: ReceivedPdu) => {
      got.push({ itt: pdu.bhs.itt, data: Buffer.from(pdu.data ?? Buffer.alloc(0)) });
      if (got.length === count) resolve(got);
    });
    connection.on('error', reject);
  });
}

describe('deframer: receive buffers grow with the load', function () {
  this.timeout(20_000);
  let ends: Array<() => void> = [];
  afterEach(() => { for (const end of ends) end(); ends = []; });

  it('starts at 32 KiB and stays there for a login-sized exchange; a burst grows it fourfold up to 256 KiB, every PDU intact', async () => {
    const { initiator, peer, server } = await connected();
    ends.push(() => { initiator.destroy(); peer.destroy(); server.close(); });
    assert.equal(initiator.deframer.staging.length, 32 * 1024);
    // A login answer's size, a few times: staging is never the limit.
    const small = nopIns(4, 900);
    const first = receive(initiator, 4);
    peer.write(small.wire);
    assert.deepEqual((await first).map((p) => p.data), small.payloads);
    assert.equal(initiator.deframer.staging.length, 32 * 1024, 'an exchange of small PDUs keeps the small staging');
    initiator.removeAllListeners('pdu');
    // 8 MiB of 4 KiB PDUs in one go: the reads fill staging, the pump says so, the deframer grows between batches.
    const burst = nopIns(2048, 4096);
    const second = receive(initiator, 2048);
    peer.write(burst.wire);
    const got = await second;
    assert.deepEqual(got.map((p) => p.itt), burst.payloads.map((_, i) => i + 1), 'every PDU, in order');
    got.forEach((p, i) => assert.ok(p.data.equals(burst.payloads[i]), `PDU ${i + 1} intact across the buffer swaps`));
    assert.equal(initiator.deframer.staging.length, 256 * 1024, 'grown to its bound (32 KiB × 4, then capped)');
  });

  it('a smaller bound is kept: a connection made with stagingSize 16 KiB never grows past it', async () => {
    const { initiator, peer, server } = await connected(16 * 1024);
    ends.push(() => { initiator.destroy(); peer.destroy(); server.close(); });
    assert.equal(initiator.deframer.staging.length, 16 * 1024);
    const burst = nopIns(512, 4096);
    const done = receive(initiator, 512);
    peer.write(burst.wire);
    const got = await done;
    got.forEach((p, i) => assert.ok(p.data.equals(burst.payloads[i]), `PDU ${i + 1} intact`));
    assert.equal(initiator.deframer.staging.length, 16 * 1024);
  });
});
