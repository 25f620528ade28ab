// The failover bench's own bookkeeping: the block model's rules, the gap tracker, and the verified workload over
// two netns paths through a silent cut, which must then flag blocks changed behind the device's back (a wrong
// generation, a torn block, another LBA's data) written through a second session: a verifier that cannot fail
// proves nothing.
import { strict as assert } from 'node:assert';
import { BlockModel } from '../lib/bench/block-model';
import { stampBlocks } from '../lib/bench/block-stamp';
import { CompletionGaps } from '../lib/bench/completion-gaps';
import { PathFaults } from '../lib/bench/path-faults';
import { ShapedPaths } from '../lib/bench/shaped-paths';
import { startTargetAgent, type TargetControl } from '../lib/bench/target-control';
import { VerifiedWorkload } from '../lib/bench/verified-workload';
import { Initiator } from '../lib/initiator';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import { LunDevice } from '../lib/session/lun-device';
import type { Session } from '../lib/session/session';
import { requireRoot, requireTools } from './support/tools';

const BS = 512;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stamped(lba: number, blocks: number, generation: number, runId: number): Buffer {
  const b = Buffer.alloc(blocks * BS);
  stampBlocks(b, BS, lba, blocks, generation, runId);
  return b;
}

describe('bench: block model', () => {
  it('takes zero blocks as never written and an acknowledged write as the only right content', () => {
    const m = new BlockModel(8, BS, 7);
    assert.equal(m.verify(0, 2, Buffer.alloc(2 * BS), 'read'), 0);
    m.acknowledged(0, 2, 5);
    assert.equal(m.verify(0, 2, stamped(0, 2, 5, 7), 'read'), 0);
    assert.equal(m.verify(0, 2, Buffer.alloc(2 * BS), 'read'), 2, 'the write was acknowledged: zeros are lost data');
    assert.equal(m.verify(0, 2, stamped(0, 2, 4, 7), 'read'), 2, 'an older generation is stale data');
    assert.equal(m.mismatchedBlocks, 2);
  });

  it('lets a failed write leave either generation, per block, until a read settles which', () => {
    const m = new BlockModel(8, BS, 7);
    m.acknowledged(0, 2, 1);
    m.failed(0, 2, 2);
    const mixed = Buffer.concat([stamped(0, 1, 2, 7), stamped(1, 1, 1, 7)]);
    assert.equal(m.verify(0, 2, mixed, 'read'), 0, 'block 0 took the failed write, block 1 kept the old one');
    assert.equal(m.indeterminateBlocks, 0);
    assert.equal(m.verify(0, 2, stamped(0, 2, 1, 7), 'read'), 1, 'block 0 was read as generation 2: going back to 1 is wrong');
    assert.equal(m.mismatches[0].lba, 0);
  });

  it('flags a torn block, another LBA\'s block and another run\'s block', () => {
    const m = new BlockModel(8, BS, 7);
    m.acknowledged(0, 3, 3);
    const data = Buffer.concat([stamped(0, 1, 3, 7), stamped(5, 1, 3, 7), stamped(2, 1, 3, 8)]);
    data[100] ^= 1;
    assert.equal(m.verify(0, 3, data, 'final'), 3);
    assert.match(m.mismatches[0].found, /CRC/);
    assert.match(m.mismatches[1].found, /LBA 5/);
    assert.match(m.mismatches[2].found, /run 8/);
  });
});

describe('bench: completion gaps', () => {
  it('measures the longest gap of a window, open ends included', () => {
    const g = new CompletionGaps(0);
    g.record(10);
    g.record(15);
    assert.equal(g.mark(20), 10);
    g.record(100); // 80 from the window's start
    g.record(130);
    assert.equal(g.windowMs(400), 270, 'the open gap up to now counts');
    assert.equal(g.mark(400), 270);
    assert.equal(g.overallMs, 85);
  });
});

describe('bench: verified workload through a silent cut on netns paths', function () {
  this.timeout(60_000);
  let net: ShapedPaths | undefined;
  let faults: PathFaults | undefined;
  let target: TargetControl | undefined;
  let device: MultipathDevice | undefined;
  let side: Session | undefined;

  before(function () {
    requireRoot(this, 'the verified workload over netns paths');
    requireTools(this, 'nft', 'tc');
  });

  after(async () => {
    faults?.restoreAll();
    await side?.close().catch(() => undefined);
    await device?.close();
    await target?.stop();
    net?.destroy();
  });

  it('verifies every I/O through the cut, then catches blocks changed behind its back', async () => {
    net = ShapedPaths.create({ paths: 2 });
    faults = new PathFaults(net);
    const [p0, p1] = net.paths;
    target = await startTargetAgent({
      group: { address: p0.peerAddress, port: 3260 }, portals: net.paths.map((p) => ({ address: p.peerAddress, port: 3261 })), luns: ['16M'],
    }, net.spawnInside.bind(net));
    const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio:test-bench-failover' });
    device = await initiator.connect({
      target: target.iqn, portal: `${p0.peerAddress}:3260`, lun: 1, policy: 'round-robin',
      paths: net.paths.map((p) => ({ sourceAddress: p.hostAddress, device: p.hostDevice })),
    });
    const workload = await VerifiedWorkload.create(device, { bs: 64 * 1024, qd: 8, spanBytes: 8 << 20 });
    workload.start();
    await sleep(800);
    const cut = faults.silentCut(p0);
    await sleep(1500);
    cut.restore();
    const before = device.paths[0].stats.reads + device.paths[0].stats.writes;
    for (let i = 0; i < 200 && device.paths[0].stats.reads + device.paths[0].stats.writes === before; i++) await sleep(50);
    await sleep(500);
    const { hung } = await workload.stop(20_000);
    assert.equal(hung, 0);
    assert.ok(workload.reads > 50 && workload.writes > 50, `reads ${workload.reads}, writes ${workload.writes}`);
    assert.ok(device.paths[0].stats.reads + device.paths[0].stats.writes > before, 'the cut path carries I/O again after restore');
    assert.ok(workload.gaps.overallMs > 0);
    assert.equal(workload.model.mismatchedBlocks, 0, `the device returned what was written: ${JSON.stringify(workload.mismatches.slice(0, 3))}`);
    const clean = await workload.verifyAll();
    assert.deepEqual(clean, { blocks: (8 << 20) / BS, mismatched: 0, unreadable: 0 });

    // Behind the device's back, through a second session on member 1: three kinds of wrong data in slot 0 and 2.
    side = await initiator.openSession({ target: target.iqn, portal: `${p1.peerAddress}:3261`, path: { sourceAddress: p1.hostAddress, device: p1.hostDevice } });
    const lu = new LunDevice(side, 1);
    const runId = workload.model.runId;
    await lu.write(0, stamped(0, 1, 0x7fffffff, runId)); // a generation never written
    const torn = stamped(1, 1, 1, runId);
    torn[300] ^= 0xff;
    await lu.write(1, torn);
    await lu.write(256, stamped(3, 1, 1, runId)); // LBA 3's block at LBA 256
    const caught = await workload.verifyAll();
    assert.equal(caught.mismatched, 3);
    assert.deepEqual(workload.mismatches.map((m) => m.lba).sort((a, b) => a - b), [0, 1, 256]);
    assert.match(workload.mismatches.find((m) => m.lba === 0)!.found, /generation 2147483647/);
    assert.match(workload.mismatches.find((m) => m.lba === 1)!.found, /CRC/);
    assert.match(workload.mismatches.find((m) => m.lba === 256)!.found, /LBA 3/);
  });
});
