// The hostile-initiator harness: raw PDUs (lib/wire/bhs.ts codecs over real TCP) that attack the embedded target's
// resources and bookkeeping, one case per test. Each case fails if the target crashes, holds more than its caps
// (its own accounting, Target.resources(), and the process RSS), or stops serving: after every case a real
// Initiator session, logged in before the attacks on the other member, writes and reads back through a
// file-backed LU (the LU whose writes go through scratch buffers).
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Initiator } from '../lib/initiator';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import { Target, type TargetCaps } from '../lib/target/target';
import { Opcode, RESERVED_TAG } from '../lib/wire/opcodes';
import { encodeText } from '../lib/protocol/text';
import { RawPeer, RawSession, statusOf, write10, type RawPdu } from './support/raw-initiator';

const NET = '127.41.0';
const MEMORY_LUN = 1;
const FILE_LUN = 2;
const CAPS: TargetCaps = {
  maxBufferedBytesPerConnection: 4 * 2 ** 20, maxBufferedBytes: 16 * 2 ** 20, maxTasksPerConnection: 64,
  maxImmediateTasksPerConnection: 8, maxConnections: 400, maxLoginConnections: 32, maxLoginConnectionsPerAddress: 8, loginTimeoutMs: 1000,
  maxTextBytes: 16 * 1024,
};
/** How far the process RSS may grow over the whole harness (2000 sockets on the attacker's side included). */
const RSS_GROWTH_LIMIT = 300 * 2 ** 20;

const STATUS_BUSY = 0x08;
const STATUS_TASK_SET_FULL = 0x28;
const REJECT_IMMEDIATE = 0x06;
const REJECT_INVALID_PDU_FIELD = 0x09;

describe('target against a hostile initiator', function () {
  this.timeout(60_000);
  let target: Target;
  let dir: string;
  let device: MultipathDevice;
  let rssBefore: number;
  const raws: RawSession[] = [];
  let nextIsid = 0x100;

  /** A raw session on member 0 with its own ISID. */
  const attacker = async (): Promise<RawSession> => {
    const m = target.members[0];
    const isid = Buffer.from(`80aabbcc${(nextIsid++).toString(16).padStart(4, '0')}`, 'hex');
    const s = await RawSession.open(m.address, m.port, target.iqn, { isid, initiatorName: 'iqn.2025-01.test:hostile' });
    raws.push(s);
    return s;
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'target-hostile-'));
    target = await Target.start({
      portals: [`${NET}.1:0`, `${NET}.2:0`], nopInterval: 0, caps: CAPS,
      luns: [{ size: '16M' }, { size: '16M', file: path.join(dir, 'lu2.img') }],
    });
    const m = target.members[1];
    device = await new Initiator({ name: 'iqn.2025-01.test:well-behaved' }).connect({
      target: target.iqn, portal: { address: m.address, port: m.port }, lun: FILE_LUN, nopIntervalMs: 60_000,
    });
    rssBefore = process.memoryUsage().rss;
  });

  afterEach(async function () {
    for (const s of raws.splice(0)) s.close();
    // Still serving: the well-behaved session writes and reads back a fresh pattern.
    const pattern = randomBytes(64 * 1024);
    await device.write(8192, pattern);
    assert.ok((await device.read(8192, pattern.length / 512)).equals(pattern), `${this.currentTest?.title}: the well-behaved session still works`);
    const r = target.resources();
    assert.ok(r.peakBufferedBytes <= CAPS.maxBufferedBytes, `scratch peaked at ${r.peakBufferedBytes}, over the ${CAPS.maxBufferedBytes} cap`);
    assert.ok(r.connections <= CAPS.maxConnections, `${r.connections} connections, over the cap`);
    const growth = process.memoryUsage().rss - rssBefore;
    assert.ok(growth < RSS_GROWTH_LIMIT, `RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
  });

  after(async () => {
    if (process.env.HOSTILE_REPORT) console.log(JSON.stringify({ ...target.resources(), rssGrowthMiB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20) }));
    await device?.close();
    await target?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('huge ExpectedDataTransferLength: the buffer follows the CDB, caps answer BUSY, nothing leaks', async () => {
    const s = await attacker();
    // EDTL 4 GiB - 1 on a 4 KiB WRITE: 4 KiB of scratch, not 4 GiB. The unsolicited data never comes: it stays pending.
    const small = s.command({ cdb: write10(0, 8), lun: FILE_LUN, edtl: 0xffffffff, write: true, final: false });
    await waitFor(() => target.resources().bufferedBytes === 4096, 'the 4 KiB command to reserve 4 KiB');
    // A 32 MiB WRITE with a 4 GiB EDTL is over the per-connection cap: BUSY at once, nothing allocated.
    const big = s.command({ cdb: write10(0, 65535), lun: FILE_LUN, edtl: 0xffffffff, write: true, final: false });
    assert.equal(statusOf(await s.response(big)).status, STATUS_BUSY);
    assert.ok(!(await s.peer.within(100)).some((p) => p.bhs.itt === small), 'the small one is still waiting for its data');

    // Five connections each asking for 16 × 1 MiB: each gets at most its 4 MiB, all together at most 16 MiB.
    const flooders = [s, ...await Promise.all([1, 2, 3, 4].map(() => attacker()))];
    let busy = 0;
    await Promise.all(flooders.map(async (f) => {
      const itts = Array.from({ length: 16 }, (_, i) => f.command({ cdb: write10(i * 2048, 2048), lun: FILE_LUN, edtl: 2 ** 20, write: true, final: false }));
      for (const pdu of await f.peer.within(500)) if (itts.includes(pdu.bhs.itt) && statusOf(pdu).status === STATUS_BUSY) busy++;
    }));
    const r = target.resources();
    assert.ok(r.bufferedBytes <= CAPS.maxBufferedBytes && r.peakBufferedBytes <= CAPS.maxBufferedBytes, `buffered ${r.bufferedBytes}, peak ${r.peakBufferedBytes}`);
    assert.ok(busy >= 5 * 16 - 16, `at most 16 MiB admitted: ${busy} of 80 commands got BUSY`);
    for (const c of target.sessions()) assert.ok(c.bufferedBytes <= CAPS.maxBufferedBytesPerConnection, `a connection holds ${c.bufferedBytes}`);
    for (const f of flooders) f.close();
    await waitFor(() => target.resources().bufferedBytes === 0, 'every reservation to come back when the connections close');
  });

  it('immediate-command flood: beyond the cap each gets Reject 0x06, then the task cap answers TASK SET FULL', async () => {
    const s = await attacker();
    // Writes whose unsolicited data never comes stay outstanding: 200 immediate ones, then 200 in the window.
    const immediate = Array.from({ length: 200 }, (_, i) => s.command({ cdb: write10(i, 1), lun: MEMORY_LUN, edtl: 512, write: true, final: false, immediate: true }));
    const rejects = await collect(s.peer, 200 - CAPS.maxImmediateTasksPerConnection, (p) => p.bhs.opcode === Opcode.Reject);
    assert.ok(rejects.every((p) => (p.bhs as { reason: number }).reason === REJECT_IMMEDIATE), 'Reject reason: immediate command reject');
    const rejected = new Set(rejects.map((p) => p.data.readUInt32BE(16)));
    assert.deepEqual(immediate.filter((itt) => !rejected.has(itt)), immediate.slice(0, CAPS.maxImmediateTasksPerConnection), 'the first 8 were admitted');

    Array.from({ length: 200 }, (_, i) => s.command({ cdb: write10(i, 1), lun: MEMORY_LUN, edtl: 512, write: true, final: false }));
    const full = 200 - (CAPS.maxTasksPerConnection - CAPS.maxImmediateTasksPerConnection);
    const answers = await collect(s.peer, full, (p) => p.bhs.opcode === Opcode.ScsiResponse);
    assert.ok(answers.every((p) => statusOf(p).status === STATUS_TASK_SET_FULL), 'TASK SET FULL');
    assert.ok(target.resources().tasks <= CAPS.maxTasksPerConnection + 1, `tasks ${target.resources().tasks}`);
    assert.ok(await s.ping(), 'the flooding connection itself is still served');
  });

  it('CmdSN outside the window: the command is dropped unanswered and never runs', async () => {
    const s = await attacker();
    const lu = target.logicalUnit(MEMORY_LUN)!;
    const ahead = s.command({ cdb: write10(2000, 1), lun: MEMORY_LUN, edtl: 512, write: true, data: Buffer.alloc(512, 0x5a), cmdSN: s.cmdSN + 1000 });
    const behind = s.command({ cdb: write10(2001, 1), lun: MEMORY_LUN, edtl: 512, write: true, data: Buffer.alloc(512, 0x5b), cmdSN: s.cmdSN - 1 });
    assert.ok(!(await s.peer.within(300)).some((p) => p.bhs.itt === ahead || p.bhs.itt === behind), 'no answer to either');
    assert.ok(Buffer.from(await lu.readAt(2000 * 512, 1024)).every((b) => b === 0), 'neither write ran');
    const good = s.command({ cdb: write10(2002, 1), lun: MEMORY_LUN, edtl: 512, write: true, data: Buffer.alloc(512, 0x5c) });
    assert.equal(statusOf(await s.response(good)).status, 0, 'a command inside the window is served');
  });

  it('overlapping unsolicited Data-Out: DATA PHASE ERROR, and no stale heap reaches the file-backed LU', async () => {
    const known = Buffer.alloc(4096, 0x3c);
    await device.write(3000, known);
    const s = await attacker();
    const itt = s.command({ cdb: write10(3000, 8), lun: FILE_LUN, edtl: 4096, write: true, final: false });
    // The first half twice: 4096 bytes counted the old way, half of the range never sent.
    s.dataOut({ itt, lun: FILE_LUN, dataSN: 0, offset: 0, data: Buffer.alloc(2048, 0xee), final: false });
    s.dataOut({ itt, lun: FILE_LUN, dataSN: 1, offset: 0, data: Buffer.alloc(2048, 0xee), final: true });
    const answer = statusOf(await s.response(itt));
    assert.deepEqual([answer.status, answer.key, answer.asc], [0x02, 0x0b, 0x4b], 'CHECK CONDITION, ABORTED COMMAND, DATA PHASE ERROR');
    assert.ok(target.resources().dataPhaseErrors > 0, 'counted');
    assert.ok((await device.read(3000, 8)).equals(known), 'the LU still holds what was there');
    assert.ok(await s.ping(), 'the connection lives on');
  });

  it('overlapping solicited Data-Out inside an R2T: DATA PHASE ERROR, the write does not run', async () => {
    const known = Buffer.alloc(4096, 0x4d);
    await device.write(3100, known);
    const s = await attacker();
    const itt = s.command({ cdb: write10(3100, 8), lun: FILE_LUN, edtl: 4096, write: true, final: true });
    const r2t = await s.peer.until((p) => p.bhs.opcode === Opcode.R2T && p.bhs.itt === itt);
    const ttt = (r2t.bhs as { ttt: number }).ttt;
    s.dataOut({ itt, ttt, lun: FILE_LUN, dataSN: 0, offset: 0, data: Buffer.alloc(2048, 0x11), final: false });
    s.dataOut({ itt, ttt, lun: FILE_LUN, dataSN: 1, offset: 1024, data: Buffer.alloc(2048, 0x11), final: false });
    const answer = statusOf(await s.response(itt));
    assert.deepEqual([answer.status, answer.key, answer.asc], [0x02, 0x0b, 0x4b]);
    // What the initiator still sends for the dead task is discarded silently.
    s.dataOut({ itt, ttt, lun: FILE_LUN, dataSN: 2, offset: 3072, data: Buffer.alloc(1024, 0x11), final: true });
    assert.ok(await s.ping(), 'the connection lives on');
    assert.ok((await device.read(3100, 8)).equals(known), 'the LU still holds what was there');
  });

  it('excess Data-Out beyond the Expected Data Transfer Length: the connection is dropped, the write does not run', async () => {
    const known = Buffer.alloc(1024, 0x6e);
    await device.write(3200, known);
    const s = await attacker();
    const itt = s.command({ cdb: write10(3200, 2), lun: FILE_LUN, edtl: 1024, write: true, final: false });
    s.dataOut({ itt, lun: FILE_LUN, dataSN: 0, offset: 512, data: Buffer.alloc(1024, 0x22), final: true });
    // The deframer refuses payload past the registered buffer (a framing error): the connection goes, no answer.
    const seen = await s.peer.closedByTarget();
    assert.ok(!seen.some((p) => p.bhs.itt === itt), 'no status for the write');
    assert.ok((await device.read(3200, 2)).equals(known));
  });

  it('Data-Out for an unknown Target Transfer Tag: Reject (invalid PDU field) and close', async () => {
    const s = await attacker();
    const itt = s.command({ cdb: write10(3300, 1), lun: FILE_LUN, edtl: 512, write: true, final: true });
    const r2t = await s.peer.until((p) => p.bhs.opcode === Opcode.R2T && p.bhs.itt === itt);
    s.dataOut({ itt, ttt: (r2t.bhs as { ttt: number }).ttt + 100, lun: FILE_LUN, dataSN: 0, offset: 0, data: Buffer.alloc(512), final: true });
    const reject = (await s.peer.closedByTarget()).find((p) => p.bhs.opcode === Opcode.Reject);
    assert.equal((reject?.bhs as { reason: number } | undefined)?.reason, REJECT_INVALID_PDU_FIELD);
  });

  it('half-finished logins are dropped after the login timeout', async () => {
    const m = target.members[0];
    const peers = await Promise.all(Array.from({ length: 8 }, () => RawPeer.connect(m.address, m.port)));
    // Half of them start a login (security stage, not transiting) and go silent; half never send a byte.
    for (const p of peers.slice(0, 4)) {
      p.send({ opcode: Opcode.LoginRequest, transit: false, cont: false, csg: 0, nsg: 0, versionMax: 0, versionMin: 0,
        isid: Buffer.from('80aabbcc0fff', 'hex'), tsih: 0, itt: 0, cid: 0, cmdSN: 1, expStatSN: 0 },
      encodeText([['InitiatorName', 'iqn.2025-01.test:slow'], ['SessionType', 'Normal'], ['TargetName', target.iqn], ['AuthMethod', 'None']]));
    }
    const started = Date.now();
    await Promise.all(peers.map((p) => p.closedByTarget(CAPS.loginTimeoutMs + 4000)));
    const took = Date.now() - started;
    assert.ok(took >= CAPS.loginTimeoutMs - 100 && took < CAPS.loginTimeoutMs + 3000, `dropped after ${took} ms`);
    await waitFor(() => target.resources().loginConnections === 0, 'no connection left in login');
  });

  it('2000 idle connections from 250 hosts: capped, refused or evicted, and a real login still gets in', async () => {
    const m = target.members[0];
    const idle: net.Socket[] = [];
    try {
      const taken = handled(target);
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(Array.from({ length: 100 }, (_, i) => new Promise<void>((resolve) => {
          const host = 1 + ((batch * 100 + i) % 250);
          const socket = net.connect({ host: m.address, port: m.port, localAddress: `127.41.10.${host}` }, () => resolve());
          socket.on('error', () => resolve());
          idle.push(socket);
        })));
      }
      await waitFor(() => handled(target) - taken >= idle.length, `the target to take every connection (${JSON.stringify(target.resources())})`, 15_000);
      const r = target.resources();
      assert.ok(r.loginConnections <= CAPS.maxLoginConnections, `${r.loginConnections} connections in login`);
      assert.ok(r.connections <= CAPS.maxConnections, `${r.connections} connections`);
      assert.ok(r.refusedConnections + r.evictedLogins > 0, `evicted ${r.evictedLogins}, refused ${r.refusedConnections}`);
      // A real initiator logs in while the idle connections are still open, once they have had their second.
      await new Promise((r) => setTimeout(r, 1100));
      const late = await new Initiator({ name: 'iqn.2025-01.test:late' }).connect({
        target: target.iqn, portal: { address: m.address, port: m.port }, lun: MEMORY_LUN, nopIntervalMs: 60_000,
      });
      const data = randomBytes(4096);
      await late.write(100, data);
      assert.ok((await late.read(100, 8)).equals(data));
      await late.close();
    } finally {
      for (const s of idle) s.destroy();
    }
    await waitFor(() => target.resources().loginConnections === 0, 'the idle connections to be gone');
  });

  it('idle connections from one address: beyond maxLoginConnectionsPerAddress they are closed at once', async () => {
    const m = target.members[0];
    const refusedBefore = target.resources().refusedConnections;
    const peers = await Promise.all(Array.from({ length: 50 }, () => RawPeer.connect(m.address, m.port, `${NET}.66`)));
    try {
      await waitFor(() => target.resources().refusedConnections - refusedBefore === 50 - CAPS.maxLoginConnectionsPerAddress, 'the extra connections to be refused');
      await waitFor(() => peers.filter((p) => p.closed).length === 50 - CAPS.maxLoginConnectionsPerAddress, 'the refused ones to see the close');
      assert.equal(target.resources().loginConnections, CAPS.maxLoginConnectionsPerAddress);
    } finally {
      for (const p of peers) p.destroy();
    }
  });

  it('an initiator that never reads: NOP-Outs with 64 KiB pings; the target stops reading instead of piling up answers', async () => {
    const s = await attacker();
    s.peer.socket.pause(); // never read what the target answers
    const ping = Buffer.alloc(64 * 1024, 0x70);
    let sent = 0;
    for (let itt = 0x1000; sent < 256 * 2 ** 20; itt++) {
      const more = s.peer.socket.write(RawPeer.frame({ opcode: Opcode.NopOut, immediate: true, lun: 0, itt, ttt: RESERVED_TAG, cmdSN: s.cmdSN, expStatSN: 0 }, ping));
      sent += ping.length + 48;
      if (!more && !(await drained(s.peer.socket, 1000))) break; // the target stopped reading us
    }
    assert.ok(sent < 64 * 2 ** 20, `the target took ${(sent / 2 ** 20).toFixed(0)} MiB of pings it could not answer`);
    s.peer.socket.resume();
  });

  it('connection churn: connections that come, start a login and go leave no memory behind', async () => {
    const m = target.members[0];
    await collectGarbage();
    const before = process.memoryUsage().external;
    for (let round = 0; round < 10; round++) {
      const taken = handled(target);
      // Each sends the first half of a Login Request header: enough for the target to set the connection up.
      const sockets = await Promise.all(Array.from({ length: 100 }, (_, i) => new Promise<net.Socket>((resolve) => {
        const socket = net.connect({ host: m.address, port: m.port, localAddress: `127.41.11.${1 + i}` }, () => {
          socket.write(Buffer.from([0x43, 0x87, 0, 0, 0, 0, 0, 0x40]));
          resolve(socket);
        });
        socket.on('error', () => resolve(socket));
      })));
      await waitFor(() => handled(target) - taken >= 100, 'the target to take them');
      await waitFor(() => target.resources().connections >= Math.min(100, CAPS.maxLoginConnections) - 2, 'the target to set them up');
      for (const socket of sockets) socket.destroy();
      await waitFor(() => target.resources().connections <= 1, 'the target to let them go');
    }
    // Each connection's deframer holds about 670 KB: the 1000 set up here, kept, would be 650 MiB.
    await collectGarbage();
    const growth = process.memoryUsage().external - before;
    assert.ok(growth < 100 * 2 ** 20, `external memory grew by ${(growth / 2 ** 20).toFixed(0)} MiB over 1000 connections`);
  });

  it('text requests without end: continuations stop at maxTextBytes with a Reject and a close', async () => {
    const s = await attacker();
    const part = encodeText(Array.from({ length: 16 }, (_, i): [string, string] => [`X-junk${i}`, 'j'.repeat(240)]));
    let ttt = RESERVED_TAG;
    let parts = 0;
    for (;;) {
      s.peer.send({ opcode: Opcode.TextRequest, immediate: true, final: false, cont: true, lun: 0, itt: 0x7e7e, ttt, cmdSN: s.cmdSN, expStatSN: 0 }, part);
      parts++;
      const reply = await s.peer.next();
      if (!reply || reply.bhs.opcode === Opcode.Reject) break;
      assert.equal(reply.bhs.opcode, Opcode.TextResponse);
      ttt = (reply.bhs as { ttt: number }).ttt;
      assert.ok(parts < 100, 'the target keeps taking text');
    }
    assert.ok(parts <= Math.ceil(CAPS.maxTextBytes / part.length) + 1, `${parts} parts of ${part.length} bytes taken`);
    await s.peer.closedByTarget();
  });

  it('login text without end: the login fails (initiator error) once maxTextBytes is passed', async () => {
    const m = target.members[0];
    const p = await RawPeer.connect(m.address, m.port);
    raws.push(new RawSession(p));
    const chunk = Buffer.alloc(8192, 0x61);
    let reply: RawPdu | undefined;
    for (let i = 0; i < 10; i++) {
      p.send({ opcode: Opcode.LoginRequest, transit: false, cont: true, csg: 0, nsg: 0, versionMax: 0, versionMin: 0,
        isid: Buffer.from('80aabbcc0ffe', 'hex'), tsih: 0, itt: 0, cid: 0, cmdSN: 1, expStatSN: 0 }, chunk);
      reply = await p.next();
      if (!reply || (reply.bhs as { statusClass: number }).statusClass !== 0) break;
    }
    assert.equal((reply?.bhs as { statusClass: number } | undefined)?.statusClass, 2, 'Status-Class 2: initiator error');
    await p.closedByTarget();
  });
});

/** A full garbage collection (what is still held after it is held for good). */
async function collectGarbage(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Connections the target has seen: accepted or refused at once. */
function handled(target: Target): number {
  const r = target.resources();
  return r.acceptedConnections + r.refusedConnections;
}

/** Resolves true on 'drain', false when none comes within `ms`. */
function drained(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { socket.off('drain', done); resolve(false); }, ms);
    const done = () => { clearTimeout(timer); resolve(true); };
    socket.once('drain', done);
  });
}

/** The next `count` PDUs that match, skipping others. */
async function collect(peer: RawPeer, count: number, match: (p: RawPdu) => boolean): Promise<RawPdu[]> {
  const out: RawPdu[] = [];
  while (out.length < count) out.push(await peer.until(match));
  return out;
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
