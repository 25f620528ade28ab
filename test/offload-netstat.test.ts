// netstat() against `ss` on real loopback sockets (IPv4 and IPv6), tcp_info counters, inodes, bound devices,
// egress NIC features against `ethtool -k`, and bad input.
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { netstat, type NetstatRow } from '../lib/offload/netstat';
import { OffloadArgumentError } from '../lib/offload/errors';
import { statelessOffloads } from '../lib/offload/stateless-offloads';
import { formatNetstatTable } from '../lib/offload/netstat-table';
import { connectBound } from '../lib/wire/bound-socket';
import { closeAll, ethtoolFeatures, openPair, rowKey, socketInode, ss, ssKey, type Pair } from './support/offload-helpers';
import { requireTools, unavailable } from './support/tools';

// A loopback address of our own, so parallel runs of other suites do not share it.
const HOST4 = `127.${60 + (process.pid % 60)}.${process.pid % 250}.1`;

function find(rows: NetstatRow[], socket: net.Socket): NetstatRow | undefined {
  return rows.find((r) => r.local.port === socket.localPort && r.remote.port === socket.remotePort && r.local.address.endsWith(socket.localAddress!.replace(/^::ffff:/, '')));
}

describe('offload netstat on loopback', () => {
  const pairs: Pair[] = [];
  let v4: Pair;
  let v6: Pair;

  before(async () => {
    v4 = await openPair(HOST4);
    v6 = await openPair('::1');
    pairs.push(v4, v6);
  });
  after(async () => {
    await closeAll(pairs.flatMap((p) => [p.client, p.accepted]));
    await closeAll(pairs.map((p) => p.server));
  });

  it('returns the connections ss shows at the same moment (-a and default)', function () {
    requireTools(this, 'ss');
    for (const all of [true, false]) {
      let lastProblem = '';
      // Other processes open and close connections meanwhile: a snapshot between two ss runs must contain every
      // connection both saw and nothing neither saw. Retry a few times so a burst elsewhere cannot fail the test.
      for (let attempt = 0; attempt < 6; attempt++) {
        const before = ss(all);
        const rows = netstat({ all, tcpInfo: false });
        const after = ss(all);
        const ours = new Set(rows.map(rowKey));
        const beforeKeys = new Set(before.map(ssKey));
        const afterKeys = new Set(after.map(ssKey));
        const missing = [...beforeKeys].filter((k) => afterKeys.has(k) && !ours.has(k));
        const extra = [...ours].filter((k) => !beforeKeys.has(k) && !afterKeys.has(k));
        lastProblem = missing.length || extra.length ? `missing ${missing.slice(0, 5)} extra ${extra.slice(0, 5)}` : '';
        if (!lastProblem) {
          // States agree for connections that did not change between the two ss runs.
          const stable = new Map(before.filter((b) => after.some((a) => ssKey(a) === ssKey(b) && a.state === b.state)).map((b) => [ssKey(b), b.state]));
          if (all) for (const r of rows) if (stable.has(rowKey(r))) assert.equal(r.state, stable.get(rowKey(r)), rowKey(r));
          break;
        }
      }
      assert.equal(lastProblem, '', `netstat({all: ${all}}) and ss -tn${all ? 'a' : ''} disagree`);
    }
  });

  it('lists both ends of our IPv4 and IPv6 connections as ESTABLISHED on lo, and the listeners only with all', () => {
    const rows = netstat();
    for (const p of [v4, v6]) {
      for (const s of [p.client, p.accepted]) {
        const row = find(rows, s);
        assert.ok(row, `${s.localAddress}:${s.localPort} -> ${s.remotePort} missing`);
        assert.equal(row.state, 'ESTABLISHED');
        assert.equal(row.offloadState, 'InHost');
        assert.equal(row.device, 'lo');
        assert.equal(row.inode, socketInode(s));
        assert.equal(row.family, s.localAddress!.includes(':') ? 6 : 4);
      }
    }
    const listenPort = (v4.server.address() as net.AddressInfo).port;
    const isListener = (r: NetstatRow): boolean => r.local.port === listenPort && r.local.address === HOST4 && r.state === 'LISTENING';
    assert.ok(!rows.some(isListener), 'listener shown without all');
    assert.ok(netstat({ all: true }).some(isListener), 'listener missing with all');
  });

  it('reports the stateless offloads ethtool -k shows active on the egress interface', function () {
    requireTools(this, 'ethtool');
    const row = find(netstat(), v4.client)!;
    const active = [...ethtoolFeatures('lo')].filter(([, on]) => on).map(([name]) => name);
    assert.deepEqual(row.offloads, statelessOffloads(active, 4));
    assert.ok(row.offloads.length > 0, 'lo always has checksum/segmentation offloads');
  });

  it('tcp_info counters grow as data is sent', async () => {
    const info = (s: net.Socket) => find(netstat(), s)!.tcpInfo!;
    const sentBefore = info(v4.client).bytesAcked ?? 0;
    const receivedBefore = info(v4.accepted).bytesReceived ?? 0;
    const payload = Buffer.alloc(4 * 1024 * 1024, 0x5a);
    let received = 0;
    const done = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        received += chunk.length;
        if (received >= payload.length) { v4.accepted.off('data', onData); resolve(); }
      };
      v4.accepted.on('data', onData);
    });
    v4.client.write(payload);
    await done;
    // The receiver has read everything; its ACKs reach the sender within a round trip on loopback.
    let sender = info(v4.client);
    for (let i = 0; i < 50 && (sender.bytesAcked ?? 0) - sentBefore < payload.length; i++) {
      await new Promise((r) => setTimeout(r, 10));
      sender = info(v4.client);
    }
    const receiver = info(v4.accepted);
    assert.ok((sender.bytesAcked ?? 0) - sentBefore >= payload.length, `bytesAcked grew by ${(sender.bytesAcked ?? 0) - sentBefore}`);
    assert.ok((receiver.bytesReceived ?? 0) - receivedBefore >= payload.length, `bytesReceived grew by ${(receiver.bytesReceived ?? 0) - receivedBefore}`);
    assert.ok(sender.rttUs > 0 && sender.cwnd > 0 && sender.sndMss > 0, JSON.stringify(sender));
    assert.ok((sender.segsOut ?? 0) > 0 && (sender.deliveryRate ?? 0) > 0, JSON.stringify(sender));
  });

  it('names the bound device of a SO_BINDTODEVICE socket as ss does', async function () {
    requireTools(this, 'ss');
    const server = v4.server;
    let socket: net.Socket;
    const acceptedPromise = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    try {
      socket = await connectBound({ host: HOST4, port: (server.address() as net.AddressInfo).port, device: 'lo' });
    } catch (error) {
      if ((error as { code?: string }).code === 'EPERM') unavailable(this, 'SO_BINDTODEVICE needs CAP_NET_RAW (or a kernel from 5.7 on)');
      throw error;
    }
    const accepted = await acceptedPromise;
    pairs.push({ server: undefined as unknown as net.Server, client: socket, accepted });
    const row = find(netstat(), socket)!;
    assert.equal(row.boundDevice, 'lo');
    assert.equal(row.device, 'lo');
    const fromSs = ss(false).find((r) => r.local === `${socket.localAddress}|${socket.localPort}`);
    assert.equal(fromSs?.device, 'lo');
  });

  it('prints the netstat -nt table with the Offload State column', () => {
    const rows = netstat().filter((r) => r.remote.address === HOST4 || r.local.address === HOST4);
    const text = formatNetstatTable(rows);
    const lines = text.split('\n');
    assert.equal(lines[1], 'Active Connections');
    assert.match(lines[3], /^ {2}Proto {2}Local Address {10}Foreign Address {8}State {11}Offload State$/);
    const line = lines.find((l) => l.includes(`${HOST4}:${v4.client.remotePort}`) && l.startsWith(`  TCP    ${HOST4}:${v4.accepted.localPort}`));
    assert.ok(line, text);
    assert.match(line, /ESTABLISHED\s+InHost$/);
    // Columns start where netstat -nt puts them.
    assert.equal(line.indexOf(`${HOST4}:`), 9);
    assert.equal(line.indexOf('ESTABLISHED'), 9 + 23 + 23);
  });

  it('rejects bad options with a typed error', () => {
    assert.throws(() => netstat({ iscsiPorts: [0] }), OffloadArgumentError);
    assert.throws(() => netstat({ iscsiPorts: 'x' as unknown as number[] }), /iscsiPorts/);
    assert.throws(() => netstat(null as unknown as object), OffloadArgumentError);
  });
});
