// The ghost write from a queue: a WRITE whose bytes already left this host but sit in a slow link's queue when the
// path is declared dead. Our RST only stops what the kernel has not sent; the queued bytes, and the RST behind them,
// still arrive. A LOGICAL UNIT RESET over the fast path gets there first and cannot cover a command not yet
// received, so if the write were re-driven then, the application's next write to the same blocks could be
// overwritten by the old one arriving late. The fence waits out what TCP had in flight (lib/wire/flight-bound.ts)
// before its reset counts. Fails on a fence that resets at once: the blocks read back A.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PathFaults } from '../lib/bench/path-faults';
import { ShapedPaths } from '../lib/bench/shaped-paths';
import { startTargetAgent, type TargetControl } from '../lib/bench/target-control';
import { Initiator } from '../lib/initiator';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import { requireRoot, requireTools } from './support/tools';

const BLOCK = 512;
const LBA = 2048;
const OTHER_LBA = 4096;
const BYTES = 64 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes waiting in the host-side qdisc of `dev`. */
function backlog(dev: string): number {
  const out = execFileSync('tc', ['-s', 'qdisc', 'show', 'dev', dev], { encoding: 'utf8' });
  return Number(/backlog (\d+)b/.exec(out)?.[1] ?? 0);
}

describe('mpio: no ghost writes from a slow link\'s queue (netns, tc)', function () {
  this.timeout(60_000);
  let net: ShapedPaths | undefined;
  let faults: PathFaults | undefined;
  let target: TargetControl | undefined;
  let device: MultipathDevice | undefined;

  before(function () {
    requireRoot(this, 'netns paths with a slowed link');
    requireTools(this, 'tc');
  });

  after(async () => {
    faults?.restoreAll();
    await device?.close();
    await target?.stop();
    net?.destroy();
  });

  it('a write queued on a link when its path is declared dead is re-driven only after it could have arrived: the later write wins', async () => {
    net = ShapedPaths.create({ paths: 2, prefix: 'ghq' });
    faults = new PathFaults(net);
    const [p0] = net.paths;
    target = await startTargetAgent({
      group: { address: p0.peerAddress, port: 3260 }, portals: net.paths.map((p) => ({ address: p.peerAddress, port: 3261 })), luns: ['16M'],
    }, net.spawnInside.bind(net));
    device = await new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio:test-ghost-queued' }).connect({
      target: target.iqn, portal: `${p0.peerAddress}:3260`, lun: 1, policy: 'failover',
      paths: net.paths.map((p) => ({ sourceAddress: p.hostAddress, device: p.hostDevice })),
    });
    await device.write(LBA, Buffer.alloc(BYTES, 'W'));
    assert.ok(device.paths[0].stats.writes > 0, 'path 0 is the active path');

    // 256 kbit with 5 s of queue: two 64 KiB writes take about 4 s to get through and nothing answers meanwhile, so
    // the busy keepalive declares the path dead about a second in, the second write whole in the queue.
    faults.slowed(p0, '256kbit', 5000);
    const a = [device.write(OTHER_LBA, Buffer.alloc(BYTES, 'a')), device.write(LBA, Buffer.alloc(BYTES, 'A'))];
    await sleep(200);
    assert.ok(backlog(p0.hostDevice) > BYTES + 16 * 1024, `both writes sit in the slow link's queue (${backlog(p0.hostDevice)} bytes)`);
    await Promise.all(a);
    assert.equal(device.paths[0].stats.failovers, 1, 'path 0 was declared dead under the write');
    await device.write(LBA, Buffer.alloc(BYTES, 'B'));
    for (let i = 0; i < 150 && backlog(p0.hostDevice) > 0; i++) await sleep(100);
    assert.equal(backlog(p0.hostDevice), 0, 'the queue drained: whatever of the old connection it held has arrived');
    await sleep(300);

    const back = await device.read(LBA, BYTES / BLOCK);
    const wrong = [...back].findIndex((x) => x !== 'B'.charCodeAt(0));
    assert.equal(wrong, -1, `the later write wins: byte ${wrong} holds ${String.fromCharCode(back[wrong] ?? 0)} (fence ${JSON.stringify(device.fenceStats)})`);
    assert.ok(device.fenceStats.flightWaits >= 1, `the fence waited for bytes in flight (${JSON.stringify(device.fenceStats)})`);
  });
});
