// Path selectors as units: which path each policy picks, given paths with real PathStats counters.
import assert from 'node:assert/strict';
import { PolicyError } from '../lib/mpio/errors';
import type { SelectablePath } from '../lib/mpio/path';
import { PathStats } from '../lib/mpio/path-stats';
import { POLICY_NAMES } from '../lib/mpio/path-selector';
import { createPolicy } from '../lib/mpio/policies';

interface P extends SelectablePath { stats: PathStats }
const paths = (n: number): P[] => Array.from({ length: n }, (_, id) => ({ id, stats: new PathStats() }));
const ids = (list: readonly SelectablePath[]) => list.map((p) => p.id);
/** Runs `count` selections, each started and finished at once, and returns the chosen ids. */
function picks(policy: ReturnType<typeof createPolicy<P>>, candidates: readonly P[], count: number, bytes = 4096): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const p = policy.select(candidates, bytes);
    policy.startIo(p, bytes);
    policy.endIo(p, bytes, 100);
    out.push(p.id);
  }
  return out;
}

describe('mpio policies', () => {
  it('knows the seven contract names and refuses others with a PolicyError', () => {
    for (const name of POLICY_NAMES) assert.equal(createPolicy(name).name, name);
    assert.throws(() => createPolicy('random'), (e: unknown) => e instanceof PolicyError && /unknown policy "random"/.test(e.message));
    assert.throws(() => createPolicy('round-robin', { minIo: 0 }), PolicyError);
    assert.throws(() => createPolicy('weighted-paths', { weights: { 0: -1 } }), PolicyError);
    assert.throws(() => createPolicy('service-time', { throughput: { 1: 101 } }), PolicyError);
  });

  describe('failover', () => {
    it('keeps one active path, moves to the next on failure and stays there without failback', () => {
      const [a, b, c] = paths(3);
      const policy = createPolicy<P>('failover');
      assert.deepEqual(picks(policy, [a, b, c], 5), [0, 0, 0, 0, 0]);
      assert.deepEqual(ids(policy.activeSet([a, b, c])), [0]);
      policy.fail(a);
      assert.deepEqual(picks(policy, [b, c], 3), [1, 1, 1]);
      policy.reinstate(a);
      assert.deepEqual(picks(policy, [a, b, c], 3), [1, 1, 1], 'no failback by default');
    });

    it('fails back to the preferred path when asked to', () => {
      const [a, b] = paths(2);
      const policy = createPolicy<P>('failover', { preferredPath: 1 });
      assert.deepEqual(policy.options, { preferredPath: 1, failback: true });
      assert.deepEqual(picks(policy, [a, b], 2), [1, 1]);
      policy.fail(b);
      assert.deepEqual(picks(policy, [a], 2), [0, 0]);
      policy.reinstate(b);
      assert.deepEqual(picks(policy, [a, b], 2), [1, 1]);
    });
  });

  describe('round-robin', () => {
    it('rotates per I/O by default and per N I/Os with minIo', () => {
      const [a, b, c] = paths(3);
      assert.deepEqual(picks(createPolicy<P>('round-robin'), [a, b, c], 6), [0, 1, 2, 0, 1, 2]);
      assert.deepEqual(picks(createPolicy<P>('round-robin', { minIo: 2 }), [a, b, c], 7), [0, 0, 1, 1, 2, 2, 0]);
    });

    it('skips a path that left the candidates', () => {
      const [a, b, c] = paths(3);
      const policy = createPolicy<P>('round-robin');
      assert.deepEqual(picks(policy, [a, b, c], 2), [0, 1]);
      const rest = picks(policy, [a, c], 4);
      assert.ok(!rest.includes(1));
      assert.deepEqual(new Set(rest), new Set([0, 2]));
      assert.deepEqual(ids(policy.activeSet([a, c])), [0, 2]);
    });
  });

  it('round-robin-subset uses the primaries, the others only while no primary is usable', () => {
    const [a, b, c] = paths(3);
    const policy = createPolicy<P>('round-robin-subset', { primary: [0, 1] });
    assert.deepEqual(picks(policy, [a, b, c], 4), [0, 1, 0, 1]);
    assert.deepEqual(ids(policy.activeSet([a, b, c])), [0, 1]);
    assert.deepEqual(picks(policy, [c], 2), [2, 2]);
    assert.deepEqual(new Set(picks(policy, [b, c], 3)), new Set([1]), 'back to the primary as soon as one returns');
  });

  it('least-queue-depth picks the path with the fewest I/Os outstanding, sharing ties', () => {
    const [a, b, c] = paths(3);
    const policy = createPolicy<P>('least-queue-depth');
    a.stats.start(4096); a.stats.start(4096);
    c.stats.start(1 << 20);
    assert.equal(policy.select([a, b, c], 4096).id, 1);
    b.stats.start(4096); b.stats.start(4096);
    assert.equal(policy.select([a, b, c], 4096).id, 2);
    // All equal: every path gets its turn.
    const [x, y] = paths(2);
    const seen = new Set([policy.select([x, y], 1).id, policy.select([x, y], 1).id]);
    assert.deepEqual(seen, new Set([0, 1]));
  });

  it('least-blocks picks the path with the fewest bytes outstanding (the MSDSM example: 10 + 20 bytes vs none)', () => {
    const [a, b] = paths(2);
    const policy = createPolicy<P>('least-blocks');
    a.stats.start(10); a.stats.start(20);
    assert.equal(policy.select([a, b], 512).id, 1);
    b.stats.start(1000);
    assert.equal(policy.select([a, b], 512).id, 0, 'one big I/O outweighs two small ones');
  });

  it('weighted-paths sends everything to the least weight, sharing equal weights, and falls to the next weight', () => {
    const [a, b, c] = paths(3);
    const policy = createPolicy<P>('weighted-paths', { weights: { 0: 5, 1: 1, 2: 1 } });
    assert.deepEqual(new Set(picks(policy, [a, b, c], 6)), new Set([1, 2]));
    assert.deepEqual(ids(policy.activeSet([a, b, c])), [1, 2]);
    assert.deepEqual(picks(policy, [a], 2), [0, 0]);
  });

  it('service-time weighs bytes outstanding by relative throughput; throughput 0 only as a last resort', () => {
    const [a, b, c] = paths(3);
    const policy = createPolicy<P>('service-time', { throughput: { 0: 100, 1: 50, 2: 0 } });
    a.stats.start(4 << 20); // (4 MiB + 1 MiB) / 100 > (1 MiB + 1 MiB) / 50
    b.stats.start(1 << 20);
    assert.equal(policy.select([a, b, c], 1 << 20).id, 1);
    b.stats.start(2 << 20); // (3 MiB + 1 MiB) / 50 > 5 MiB / 100
    assert.equal(policy.select([a, b, c], 1 << 20).id, 0);
    assert.equal(policy.select([c], 1 << 20).id, 2);
    // Equal load and throughput: ties go to the faster path, and between equal paths in turn.
    const [x, y] = paths(2);
    const st = createPolicy<P>('service-time');
    assert.deepEqual(new Set([st.select([x, y], 1).id, st.select([x, y], 1).id]), new Set([0, 1]));
  });
});
