// The multipath device against the embedded array: a group portal redirecting each login to a member port on
// 127.x addresses, two or three sessions from distinct source addresses. Real sockets, real target; no timing
// assertions beyond generous waits for events.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Initiator } from '../lib/initiator';
import { NoPathError, PathIdentityError } from '../lib/mpio/errors';
import { MultipathDevice, type PathFailedEvent } from '../lib/mpio/multipath-device';
import { Path, type PathInfo } from '../lib/mpio/path';
import { Target } from '../lib/target/target';

const NET = `127.${150 + (process.pid % 40)}.${(process.pid >> 3) % 250}`;
const BLOCK = 512;

/** Polls `condition` every 20 ms until it holds (or fails after `ms`, a bound far above what it needs). */
async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Load { errors: unknown[]; written: Map<number, Buffer>; ops: number; stop(): Promise<void> }

/**
 * `workers` loops, each on its own `span` blocks: write fresh random data (1 to 16 blocks), read it back into a new
 * buffer and compare. Every block's last written content is kept for a final check.
 */
function runLoad(device: MultipathDevice, workers: number, span: number): Load {
  let stopping = false;
  const load: Load = { errors: [], written: new Map(), ops: 0, stop: async () => { stopping = true; await Promise.all(loops); } };
  const loops = Array.from({ length: workers }, async (_, w) => {
    let i = 0;
    while (!stopping) {
      const blocks = 1 + (i * 7 + w) % 16;
      const lba = w * span + (i * 37) % (span - blocks);
      i++;
      const data = randomBytes(blocks * BLOCK);
      try {
        await device.write(lba, data);
        for (let b = 0; b < blocks; b++) load.written.set(lba + b, data.subarray(b * BLOCK, (b + 1) * BLOCK));
        const back = await device.read(lba, blocks);
        if (!back.equals(data)) load.errors.push(new Error(`worker ${w}: blocks ${lba}+${blocks} read back differently`));
        load.ops += 2;
      } catch (error) {
        load.errors.push(error);
      }
    }
  });
  return load;
}

/** Reads every block the load wrote and compares it with what was written last. */
async function verifyAll(device: MultipathDevice, written: Map<number, Buffer>): Promise<void> {
  for (const [lba, data] of written) {
    const back = await device.read(lba, 1);
    assert.ok(back.equals(data), `block ${lba} holds what was last written`);
  }
}

const remoteOf = (p: PathInfo) => `${p.remote.address}:${p.remote.port}`;
const bytesOf = (device: MultipathDevice) => device.paths.map((p) => p.stats.bytesRead + p.stats.bytesWritten);

describe('mpio: multipath device against the embedded array', function () {
  this.timeout(60_000);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:mpio' });
  let target: Target;
  let device: MultipathDevice | undefined;

  async function start(members: number, extra: Partial<Parameters<typeof Target.start>[0]> = {}): Promise<void> {
    target = await Target.start({
      group: `${NET}.10:0`, portals: Array.from({ length: members }, (_, i) => `${NET}.${11 + i}:0`), luns: ['16M'], nopInterval: 0,
      ...extra,
    });
  }

  function connect(paths: number, options: Partial<Parameters<Initiator['connect']>[0]> = {}): Promise<MultipathDevice> {
    const group = target.group!;
    return initiator.connect({
      target: target.iqn, portal: { address: group.address, port: group.port }, lun: 1,
      paths: Array.from({ length: paths }, (_, i) => ({ sourceAddress: `${NET}.${21 + i}` })),
      nopIntervalMs: 60_000, checkIntervalMs: 200, ...options,
    });
  }

  afterEach(async () => {
    await device?.close().catch(() => undefined);
    device = undefined;
    await target?.stop();
  });

  it('groups two paths from two source addresses into one device, each landing on a different member via the group portal', async () => {
    await start(3);
    device = await connect(2);
    const infos = device.paths.map((p) => p.info());
    assert.equal(infos.length, 2);
    assert.deepEqual(infos.map((p) => p.local.address), [`${NET}.21`, `${NET}.22`]);
    const group = `${target.group!.address}:${target.group!.port}`;
    for (const p of infos) assert.equal(p.redirectedFrom, group, `path ${p.id} was redirected from the group portal`);
    const members = target.members.map((m) => `${m.address}:${m.port}`);
    for (const p of infos) assert.ok(members.includes(remoteOf(p)), `path ${p.id} landed on a member (${remoteOf(p)})`);
    assert.notEqual(remoteOf(infos[0]), remoteOf(infos[1]), 'the two paths use different array ports');
    assert.notEqual(infos[0].isid, infos[1].isid, 'each path has its own ISID');
    // One LU: the identity the target gives it, the same through both ports.
    assert.equal(device.id, `3${target.luns[0].naa}`);
    const capacity = await device.capacity();
    assert.equal(capacity.blocks * capacity.blockSize, 16 << 20);
    assert.equal(device.policy.name, 'failover');
    assert.deepEqual(infos.map((p) => p.state), ['active', 'standby']);
  });

  it('gives two paths from one source address distinct ISIDs, so neither login reinstates (kills) the other', async () => {
    await start(2);
    const group = target.group!;
    device = await initiator.connect({
      target: target.iqn, portal: { address: group.address, port: group.port }, lun: 1,
      paths: [{ sourceAddress: `${NET}.21` }, { sourceAddress: `${NET}.21` }], nopIntervalMs: 60_000, policy: 'round-robin',
    });
    const [a, b] = device.paths;
    assert.notEqual(a.info().isid, b.info().isid);
    await device.write(0, Buffer.alloc(BLOCK * 4, 1));
    await device.read(0, 4);
    assert.equal(a.session.state, 'loggedIn');
    assert.equal(b.session.state, 'loggedIn');
    assert.equal(target.sessions().length, 2);
  });

  it('failover sends everything down the active path; round-robin shares it out I/O by I/O (per-path byte counters)', async () => {
    await start(2);
    device = await connect(2);
    const io = async (n: number) => {
      const data = randomBytes(8 * BLOCK);
      await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? device!.read(i * 8, 8) : device!.write(i * 8, data))));
    };
    await io(64);
    const [a0, b0] = bytesOf(device);
    assert.equal(a0, 64 * 8 * BLOCK, 'failover: the active path carried all 64 I/Os');
    assert.equal(b0, 0, 'failover: the standby path carried nothing');

    const policyEvents: string[] = [];
    device.on('policy', (e) => policyEvents.push(`${e.previous}->${e.policy}`));
    device.setPolicy('round-robin');
    assert.deepEqual(policyEvents, ['failover->round-robin']);
    assert.deepEqual(device.paths.map((p) => p.state), ['active', 'active']);
    await io(64);
    const [a1, b1] = bytesOf(device);
    // One I/O each in turn, all the same size: an exact half each.
    assert.equal(a1 - a0, 32 * 8 * BLOCK);
    assert.equal(b1 - b0, 32 * 8 * BLOCK);
    for (const p of device.paths) assert.equal(p.stats.inFlight, 0);
  });

  it('switches policy live under load without losing or failing an I/O', async () => {
    await start(2);
    device = await connect(2);
    const load = runLoad(device, 8, 256);
    const policies = ['round-robin', 'least-queue-depth', 'least-blocks', 'service-time', 'weighted-paths', 'round-robin-subset', 'failover', 'round-robin'] as const;
    for (const name of policies) {
      const before = load.ops;
      device.setPolicy(name);
      await until(() => load.ops >= before + 40, `I/O under ${name}`);
    }
    await load.stop();
    assert.deepEqual(load.errors, []);
    const [a, b] = bytesOf(device);
    assert.ok(a > 0 && b > 0, `both paths carried I/O across the policies (${a}, ${b})`);
    await verifyAll(device, load.written);
  });

  it('fails a path whose member goes down under load, re-drives its I/O, and reinstates it when it logs in again', async () => {
    await start(2);
    device = await connect(2, { policy: 'round-robin' });
    const failed: PathFailedEvent[] = [];
    const reinstated: number[] = [];
    device.on('path-failed', (e) => failed.push(e));
    device.on('path-reinstated', (e) => reinstated.push(e.path.id));
    const load = runLoad(device, 8, 256);
    await until(() => load.ops > 100, 'I/O before the cut');

    const cut = device.paths[0];
    const landed = remoteOf(cut.info());
    const member = target.members.findIndex((m) => `${m.address}:${m.port}` === landed);
    await target.memberDown(member);
    target.dropConnections({ member });
    await until(() => cut.state === 'failed', 'the path to go failed');
    const opsAtCut = load.ops;
    await until(() => load.ops > opsAtCut + 100, 'I/O to continue on the other path');

    // The session logs in again through the group portal; with the member still down it lands on the other one.
    await until(() => reinstated.includes(cut.id), 'the path to be reinstated');
    await target.memberUp(member);
    const opsAtReinstate = load.ops;
    await until(() => load.ops > opsAtReinstate + 100, 'I/O on both paths again');
    await load.stop();

    assert.deepEqual(load.errors, [], 'no application I/O failed');
    assert.ok(failed.some((e) => e.path.id === cut.id), 'path-failed was emitted for the cut path');
    assert.equal(cut.state, 'active');
    assert.ok(cut.stats.failures >= 1 || cut.stats.failovers >= 1);
    assert.equal(cut.stats.reinstatements, 1);
    assert.notEqual(remoteOf(cut.info()), landed, 'the re-login went to the member that was up');
    await verifyAll(device, load.written);
  });

  it('with every path down waits noPathRetryMs, fails with NoPathError, then carries I/O again once members return', async () => {
    await start(2);
    device = await connect(2, { policy: 'round-robin', noPathRetryMs: 1500 });
    await device.write(0, Buffer.alloc(BLOCK, 7));
    await target.memberDown(0);
    await target.memberDown(1);
    target.dropConnections();
    await until(() => device!.paths.every((p) => p.state === 'failed'), 'both paths to go failed');
    const started = Date.now();
    await assert.rejects(device.read(0, 1), (e: unknown) => {
      assert.ok(e instanceof NoPathError, `NoPathError expected, got ${String(e)}`);
      assert.equal(e.code, 'ENOPATH');
      assert.ok(e.waitedMs >= 1400, `waited ${e.waitedMs} ms`);
      return true;
    });
    assert.ok(Date.now() - started >= 1400);

    // An I/O issued while every path is down completes once a path comes back within the window.
    await target.memberUp(0);
    await target.memberUp(1);
    await until(() => device!.paths.some((p) => p.state !== 'failed'), 'a path to be reinstated', 40_000);
    const back = await device.read(0, 1);
    assert.ok(back.equals(Buffer.alloc(BLOCK, 7)));
  });

  it('prefers the active/optimized port group and moves to the other when ALUA makes it standby', async () => {
    await start(2, { alua: true, portals: [{ address: `${NET}.11`, alua: 'active-optimized' }, { address: `${NET}.12`, alua: 'active-non-optimized' }] });
    device = await connect(2, { policy: 'round-robin' });
    const optimized = device.paths.find((p) => p.alua === 'active/optimized');
    const other = device.paths.find((p) => p.alua === 'active/non-optimized');
    assert.ok(optimized && other, `one path per ALUA state (${device.paths.map((p) => p.alua).join(', ')})`);
    assert.equal(optimized.state, 'active');
    assert.equal(other.state, 'standby', 'non-optimized is not used while an optimized path is usable');
    await Promise.all(Array.from({ length: 16 }, (_, i) => device!.read(i * 8, 8)));
    assert.equal(other.stats.bytesRead, 0);

    const optimizedMember = target.members.findIndex((m) => `${m.address}:${m.port}` === remoteOf(optimized.info()));
    target.setAluaState(optimizedMember, 'standby');
    await until(() => optimized.alua === 'standby' && other.state === 'active', 'the ALUA change to be seen');
    const before = other.stats.bytesRead;
    await Promise.all(Array.from({ length: 16 }, (_, i) => device!.read(i * 8, 8)));
    assert.equal(other.stats.bytesRead - before, 16 * 8 * BLOCK, 'I/O moved to the non-optimized path');
  });

  it('reads the port groups again on the ASYMMETRIC ACCESS STATE CHANGED unit attention, not at the next check', async () => {
    await start(2, { alua: true, portals: [{ address: `${NET}.11`, alua: 'active-optimized' }, { address: `${NET}.12`, alua: 'active-non-optimized' }] });
    device = await connect(2, { policy: 'round-robin', checkIntervalMs: 600_000 }); // the checker cannot explain it
    const other = device.paths.find((p) => p.alua === 'active/non-optimized')!;
    assert.equal(other.state, 'standby');
    const otherMember = target.members.findIndex((m) => `${m.address}:${m.port}` === remoteOf(other.info()));
    target.setAluaState(otherMember, 'active-optimized');
    await device.read(0, 8); // meets 2A/06 on the optimized path, which the session retries unseen
    await until(() => other.alua === 'active/optimized' && other.state === 'active', 'the new ALUA state', 5000);
  });

  it('refuses to group paths that reach different LUs', async () => {
    await start(1);
    const other = await Target.start({ iqn: target.iqn, portals: [`${NET}.30:0`], luns: ['16M'], nopInterval: 0 });
    try {
      // Same target name on two arrays: path 1 goes to the other array by its own source-independent portal.
      const first = initiator.connect({
        target: target.iqn, portal: { address: target.members[0].address, port: target.members[0].port }, lun: 1, paths: [{ sourceAddress: `${NET}.21` }],
      });
      device = await first;
      const a = device.paths[0];
      const b = await initiator.openSession({ target: other.iqn, portal: { address: other.members[0].address, port: other.members[0].port }, path: { sourceAddress: `${NET}.22` }, pathId: 1 });
      await assert.rejects(MultipathDevice.open([new Path(0, a.session, 1), new Path(1, b, 1)], 1), (e: unknown) => {
        assert.ok(e instanceof PathIdentityError, String(e));
        assert.equal(e.pathId, 1);
        assert.match(e.message, /refusing to group/);
        return true;
      });
      await b.close();
    } finally {
      await other.stop();
    }
  });
});
