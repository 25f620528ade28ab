// The write fence's rule on its own (the loopback and ghost-write tests run it against real targets): a held write
// is released only by a reinstatement of its session or by a LOGICAL UNIT RESET that a working path saw answered
// "function complete" and that was sent after the write was held; never by a reset that failed, never by time.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { NoPathError } from '../lib/mpio/errors';
import type { Path } from '../lib/mpio/path';
import { needsFence, WriteFence } from '../lib/mpio/write-fence';
import { PathError } from '../lib/session/errors';

/** Just what the fence reads of a path: its session's fencing state and a LUN RESET that the test answers. */
class FakePath extends EventEmitter {
  usable = true;
  fencedGenerations = new Set<number>();
  resets: Array<(response: number | Error) => void> = [];
  readonly session = {
    isFenced: (g: number) => this.fencedGenerations.has(g),
    lunReset: () => new Promise<number>((resolve, reject) => this.resets.push((r) => (r instanceof Error ? reject(r) : resolve(r)))),
  };
  constructor(readonly id: number) { super(); }
}

function indeterminate(generation: number, inFlightUntil?: number): PathError & { indeterminate: { generation: number; inFlightUntil?: number } } {
  return Object.assign(new PathError('connection lost', 'ECONNLOST'), { indeterminate: { generation, inFlightUntil } });
}

const tick = () => new Promise((r) => setImmediate(r));

describe('mpio: write fence', () => {
  it('fences only writes whose command may still run: indeterminate PathErrors, not reads, not confirmed aborts', () => {
    assert.ok(needsFence('write', indeterminate(1)));
    assert.ok(!needsFence('read', indeterminate(1)));
    assert.ok(!needsFence('write', new PathError('aborted by LUN RESET', 'EABORTED')));
    assert.ok(!needsFence('write', new Error('not a path error')));
  });

  it('releases a held write after a LUN RESET through a working path is answered 0, not before, and not on a failed reset', async () => {
    const dead = new FakePath(0);
    const working = new FakePath(1);
    dead.usable = false;
    const paths = [dead, working] as unknown as Path[];
    const warnings: Error[] = [];
    const fence = new WriteFence({ lun: 1, workingPaths: () => paths.filter((p) => p.usable), canRecover: () => true, warn: (e) => warnings.push(e) }, 5000);
    let released = false;
    const held = fence.wait(paths[0], indeterminate(3)).then(() => { released = true; });
    await tick();
    assert.equal(working.resets.length, 1, 'one LUN RESET through the working path');
    working.resets[0](5); // "function not supported"
    await tick();
    assert.equal(released, false, 'a refused reset releases nothing');
    assert.equal(warnings.length, 1);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(working.resets.length, 2, 'tried again');
    working.resets[1](0);
    await held;
    assert.equal(released, true);
    assert.equal(fence.stats.byReset, 1);
    fence.close();
  });

  it('a write held while a reset is already on its way waits for the next reset', async () => {
    const dead = new FakePath(0);
    const working = new FakePath(1);
    dead.usable = false;
    const paths = [dead, working] as unknown as Path[];
    const fence = new WriteFence({ lun: 1, workingPaths: () => paths.filter((p) => p.usable), canRecover: () => true, warn: () => undefined }, 5000);
    const order: string[] = [];
    const first = fence.wait(paths[0], indeterminate(1)).then(() => order.push('first'));
    await tick();
    const second = fence.wait(paths[0], indeterminate(2)).then(() => order.push('second'));
    await tick();
    assert.equal(working.resets.length, 1);
    working.resets[0](0);
    await first;
    await tick();
    assert.deepEqual(order, ['first'], 'the reset sent before the second write was held does not cover it');
    assert.equal(working.resets.length, 2);
    working.resets[1](0);
    await second;
    fence.close();
  });

  it('a write whose connection still had bytes in flight: no reset is sent for it until they could have arrived', async () => {
    const dead = new FakePath(0);
    dead.usable = false;
    const via = new FakePath(1);
    const paths = [dead, via] as unknown as Path[];
    const fence = new WriteFence({ lun: 1, workingPaths: () => paths.filter((p) => p.usable), canRecover: () => true, warn: () => undefined }, 5000);
    let released = false;
    const held = fence.wait(paths[0], indeterminate(4, performance.now() + 150)).then(() => { released = true; });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(via.resets.length, 0, 'no LUN RESET while the dead connection\'s bytes may still be on their way');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(via.resets.length, 1, 'the reset went once the flight was over');
    via.resets[0](0);
    await held;
    assert.ok(released);
    assert.equal(fence.stats.flightWaits, 1);
    fence.close();
  });

  it('a reinstatement of the write\'s session releases it; with no path able to fence, the path\'s own error comes back', async () => {
    const only = new FakePath(0);
    only.usable = false;
    const paths = [only] as unknown as Path[];
    let recoverable = true;
    const fence = new WriteFence({ lun: 1, workingPaths: () => paths.filter((p) => p.usable), canRecover: () => recoverable, warn: () => undefined }, 5000);
    const held = fence.wait(paths[0], indeterminate(7));
    await tick();
    only.fencedGenerations.add(7);
    fence.changed();
    await held;
    assert.equal(fence.stats.byReinstatement, 1);
    const error = indeterminate(8);
    const hopeless = fence.wait(paths[0], error);
    recoverable = false;
    fence.changed();
    await assert.rejects(hopeless, (e) => e === error);
    fence.close();
  });

  it('fails a write as unknown when nothing fences it in time, and on close', async () => {
    const only = new FakePath(0);
    only.usable = false;
    const fence = new WriteFence({ lun: 1, workingPaths: () => [], canRecover: () => true, warn: () => undefined }, 100);
    await assert.rejects(fence.wait(only as unknown as Path, indeterminate(1)), (e) => e instanceof NoPathError && /outcome is unknown/.test(e.message));
    const pending = fence.wait(only as unknown as Path, indeterminate(2));
    fence.close();
    await assert.rejects(pending, NoPathError);
  });
});
