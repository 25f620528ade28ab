// The bench runner against the real embedded array (group portal, two members, two source addresses): its
// accounting (bytes = I/Os × bs, per-path bytes summing to the total), that writes really land, --compare's shape,
// and, on paced members, that each path alone stays within its pacing while round-robin uses both paths.
// Throughput is only bounded loosely: the machine is shared.
import assert from 'node:assert/strict';
import { Initiator, type PathSpec } from '../lib/initiator';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import type { PolicyName } from '../lib/mpio/path-selector';
import { Target } from '../lib/target/target';
import { BenchArgumentError, parseBlockSize } from '../lib/bench/bench-options';
import { benchCompare } from '../lib/bench/compare';
import { runBench } from '../lib/bench/runner';
import { benchSvg } from '../lib/bench/svg-chart';
import { formatBenchReport } from '../lib/bench/table';

const NET = `127.${110 + (process.pid % 30)}.${(process.pid >> 4) % 250}`;

describe('bench: the throughput runner against the embedded array', function () {
  this.timeout(60_000);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:bench' });
  let target: Target;
  const open = (paths: PathSpec[], policy: PolicyName): Promise<MultipathDevice> => initiator.connect({
    target: target.iqn, portal: { address: target.group!.address, port: target.group!.port }, lun: 1, paths, policy, nopIntervalMs: 60_000,
  });
  const twoPaths: PathSpec[] = [{ sourceAddress: `${NET}.21` }, { sourceAddress: `${NET}.22` }];

  afterEach(async () => { await target?.stop(); });

  it('accounts exactly: bytes = I/Os × bs, and the paths\' bytes and I/Os sum to the totals (reads and writes, 4k and 64k)', async () => {
    target = await Target.start({ group: `${NET}.10:0`, portals: [`${NET}.11:0`, `${NET}.12:0`], luns: ['32M'], nopInterval: 0 });
    const device = await open(twoPaths, 'round-robin');
    try {
      for (const [rw, bs] of [['read', 65536], ['write', 4096], ['write', 65536]] as const) {
        const r = await runBench(device, { rw, bs, qd: 8, seconds: 0.5 });
        assert.ok(r.ios > 0, `${rw} ${bs}: some I/O completed`);
        assert.equal(r.bytes, r.ios * bs, `${rw} ${bs}: bytes = ios × bs`);
        assert.equal(r.paths.length, 2);
        assert.equal(r.paths.reduce((a, p) => a + p.bytes, 0), r.bytes, `${rw} ${bs}: per-path bytes sum to the total`);
        assert.equal(r.paths.reduce((a, p) => a + p.ios, 0), r.ios, `${rw} ${bs}: per-path I/Os sum to the total`);
        for (const p of r.paths) {
          assert.equal(p.bytes, p.ios * bs, `${rw} ${bs}: path ${p.id} bytes = its ios × bs`);
          assert.ok(p.bytes > 0, `${rw} ${bs}: round-robin used path ${p.id}`);
        }
        const l = r.latencyUs;
        assert.ok(l.min > 0 && l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p99_9 && l.p99_9 <= l.max && l.mean <= l.max,
          `${rw} ${bs}: 0 < min <= p50 <= p90 <= p99 <= p99.9 <= max (${JSON.stringify(l)})`);
        assert.ok(Math.abs(r.MBps - r.bytes / r.seconds / 1e6) <= 0.1 + r.MBps * 0.01, 'MBps is bytes over the run time in 10^6 B/s');
      }
      // The last run wrote each worker's pattern (0x41 + worker) sequentially from LBA 0: the first I/O is there.
      const back = await device.read(0, 128);
      assert.ok(back.every((b) => b >= 0x41 && b < 0x41 + 26), 'the write run left its pattern on the LU');
    } finally {
      await device.close();
    }
  });

  it('a 70/30 mix issues 70 reads in every 100 I/Os and accounts reads and writes together', async () => {
    target = await Target.start({ group: `${NET}.10:0`, portals: [`${NET}.11:0`, `${NET}.12:0`], luns: ['32M'], nopInterval: 0 });
    const device = await open(twoPaths, 'round-robin');
    try {
      const before = device.paths.map((p) => ({ reads: p.stats.reads, writes: p.stats.writes }));
      const r = await runBench(device, { rw: 'read', bs: 4096, qd: 8, seconds: 0.5, readPercent: 70 });
      const reads = device.paths.reduce((a, p, i) => a + p.stats.reads - before[i].reads, 0);
      const writes = device.paths.reduce((a, p, i) => a + p.stats.writes - before[i].writes, 0);
      assert.ok(r.ios >= 200, `enough I/O to judge the split (${r.ios})`);
      assert.equal(reads + writes, r.ios, 'every I/O is a read or a write, each counted once');
      assert.ok(Math.abs(reads - 0.7 * r.ios) <= 70, `${reads} reads of ${r.ios} I/Os: 70 in every 100 issued`);
      assert.equal(r.paths.reduce((a, p) => a + p.bytes, 0), r.bytes, 'per-path bytes (reads and writes) sum to the total');
      await assert.rejects(runBench(device, { rw: 'read', bs: 4096, qd: 1, seconds: 0.1, readPercent: 101 }), BenchArgumentError);
    } finally {
      await device.close();
    }
  });

  it('rejects sizes that are not whole blocks and other bad options before any I/O', async () => {
    target = await Target.start({ portals: [`${NET}.11:0`], luns: ['1M'], nopInterval: 0 });
    const m = target.members[0];
    const device = await initiator.connect({ target: target.iqn, portal: { address: m.address, port: m.port }, lun: 1, nopIntervalMs: 60_000 });
    try {
      await assert.rejects(runBench(device, { rw: 'read', bs: 1000, qd: 1, seconds: 1 }), BenchArgumentError);
      await assert.rejects(runBench(device, { rw: 'read', bs: 4096, qd: 0, seconds: 1 }), /--qd 0/);
      await assert.rejects(runBench(device, { rw: 'read', bs: 2 << 20, qd: 1, seconds: 1 }), /larger than the LU/);
      assert.equal(device.paths[0].stats.reads, 0, 'nothing was read');
      assert.equal(parseBlockSize('64k'), 65536);
      assert.throws(() => parseBlockSize('lots'), BenchArgumentError);
    } finally {
      await device.close();
    }
  });

  it('--compare on paced members: each path alone stays within its pacing, all paths move bytes on both, speedup over the best single path', async () => {
    const rate = 200e6; // 200 Mbit/s per member: fast to run, far below what loopback can do
    target = await Target.start({ group: `${NET}.10:0`, portals: [`${NET}.11:0`, `${NET}.12:0`], luns: ['32M'], rate, nopInterval: 0 });
    const report = await benchCompare(open, { paths: twoPaths, policy: 'round-robin', compare: true, rw: 'read', bs: 65536, qd: 16, seconds: 1 });
    assert.deepEqual(report.runs.map((r) => r.label), ['path 0 alone', 'path 1 alone', 'all 2 paths']);
    const [a, b, all] = report.runs;
    assert.deepEqual([a, b, all].map((r) => r.paths.map((p) => p.id)), [[0], [1], [0, 1]], 'a path keeps its id in every run');
    for (const single of [a, b]) {
      assert.equal(single.paths.length, 1);
      assert.equal(single.policy, 'failover');
      // The token bucket may start with a burst; 25% over the payload rate is still clearly "paced".
      assert.ok(single.MBps <= (rate / 8 / 1e6) * 1.25, `${single.label}: ${single.MBps} MB/s within the ${rate / 8e6} MB/s pacing`);
      assert.ok(single.bytes > 0);
    }
    assert.equal(all.policy, 'round-robin');
    assert.equal(all.paths.length, 2);
    for (const p of all.paths) assert.ok(p.bytes > 0, `round-robin moved bytes on path ${p.id}`);
    assert.notEqual(all.paths[0].remote, all.paths[1].remote, 'the two paths use different member ports');
    assert.equal(report.speedupBasis, 'best single path');
    assert.equal(report.speedup, Math.round((all.MBps / Math.max(a.MBps, b.MBps)) * 100) / 100);
    assert.ok(report.speedup! > 1.2, `two paced paths beat one (loose bound): ${report.speedup}x`);
    // The outputs name every run.
    const svg = benchSvg(report);
    assert.equal((svg.match(/<rect /g) ?? []).length, 3);
    assert.match(formatBenchReport(report), /speedup [\d.]+x: all paths over the best single path/);
  });
});
