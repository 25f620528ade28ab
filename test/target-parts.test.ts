// The target's sans-I/O parts: link rates, the pacer's schedule, R2T/Data-Out accounting, the CmdSN window, the
// round-robin balancer, option parsing.
import { strict as assert } from 'node:assert';
import { CommandWindow } from '../lib/target/command-window';
import { LinkPacer } from '../lib/target/link-pacer';
import { parseLinkRate } from '../lib/target/link-rate';
import { PortalBalancer } from '../lib/target/portal-balancer';
import { parseLunSpec, parsePortal, parseSize } from '../lib/target/target-options';
import { DataOutError, WriteTask } from '../lib/target/write-task';

describe('target parts', () => {
  it('parses link rates in bits and bytes per second, and refuses nonsense', () => {
    assert.equal(parseLinkRate('1gbit'), 1e9);
    assert.equal(parseLinkRate('100mbit'), 1e8);
    assert.equal(parseLinkRate('125MB/s'), 1e9);
    assert.equal(parseLinkRate(5e8), 5e8);
    assert.throws(() => parseLinkRate('fast'), /not a number with a unit/);
    assert.throws(() => parseLinkRate('1parsec'), /unknown unit/);
    assert.throws(() => parseLinkRate(0), RangeError);
  });

  it('paces: the first burst goes at once, later ones wait for the emulated link, in order', async () => {
    const pacer = new LinkPacer(8e6); // 1 MB/s: 100 kB occupies the link for 100 ms
    const order: number[] = [];
    pacer.schedule(100_000, () => order.push(1));
    pacer.schedule(100_000, () => order.push(2));
    pacer.schedule(10, () => order.push(3));
    assert.deepEqual(order, [1], 'only the first fits the link now');
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(order, [1, 2, 3]);
    pacer.setRate(undefined);
    pacer.schedule(1e9, () => order.push(4));
    assert.deepEqual(order, [1, 2, 3, 4], 'unpaced work runs at once');
  });

  it('asks for solicited data in MaxBurstLength R2Ts, at most MaxOutstandingR2T at a time', () => {
    let ttt = 1;
    const w = new WriteTask(10_000, 1000, false, { maxBurstLength: 4000, maxOutstandingR2T: 2, firstBurstLength: 65536 });
    const first = w.nextR2Ts(() => ttt++);
    assert.deepEqual(first.map((r) => [r.bufferOffset, r.length, r.r2tSN]), [[1000, 4000, 0], [5000, 4000, 1]]);
    w.dataOut(first[0].ttt, 0, 1000, 2000, false);
    w.dataOut(first[0].ttt, 1, 3000, 2000, true);
    const more = w.nextR2Ts(() => ttt++);
    assert.deepEqual(more.map((r) => [r.bufferOffset, r.length, r.r2tSN]), [[9000, 1000, 2]]);
    w.dataOut(first[1].ttt, 0, 5000, 4000, true);
    assert.ok(!w.complete);
    w.dataOut(more[0].ttt, 0, 9000, 1000, true);
    assert.ok(w.complete);
  });

  it('waits for the unsolicited burst before any R2T, and checks DataSN and offsets', () => {
    const w = new WriteTask(100_000, 0, true, { maxBurstLength: 65536, maxOutstandingR2T: 1, firstBurstLength: 8192 });
    assert.deepEqual(w.nextR2Ts(() => 1), [], 'no R2T while unsolicited data is due');
    w.dataOut(0xffffffff, 0, 0, 4096, false);
    assert.throws(() => w.dataOut(0xffffffff, 5, 4096, 4096, true), (e: DataOutError) => e.taskOnly);
    w.dataOut(0xffffffff, 1, 4096, 4096, true);
    const [r2t] = w.nextR2Ts(() => 9);
    assert.equal(r2t.bufferOffset, 8192);
    assert.throws(() => w.dataOut(9, 0, 0, 512, false), (e: DataOutError) => !e.taskOnly, 'outside its R2T');
    assert.throws(() => w.dataOut(77, 0, 8192, 512, false), /unknown Target Transfer Tag/);
  });

  it('accepts CmdSNs inside the window only, across the 32-bit wrap', () => {
    const w = new CommandWindow(0xfffffffe, 4);
    assert.equal(w.maxCmdSN, 1);
    assert.ok(!w.accept(0xfffffffd), 'below ExpCmdSN');
    assert.ok(!w.accept(2), 'beyond MaxCmdSN');
    assert.ok(w.accept(0), 'ahead, inside the window');
    assert.ok(w.accept(0xfffffffe));
    assert.equal(w.expCmdSN, 0xffffffff);
    assert.ok(w.accept(0xffffffff));
    assert.equal(w.expCmdSN, 1, 'the gap closed: ExpCmdSN moves past the command taken ahead');
    assert.ok(!w.accept(0), 'a repeat is dropped');
  });

  it('round-robins logins over members, skipping those that are down', () => {
    const members = [{ up: true, n: 0 }, { up: true, n: 1 }, { up: true, n: 2 }];
    const b = new PortalBalancer(members);
    assert.deepEqual([b.pick(), b.pick(), b.pick(), b.pick()].map((m) => m?.n), [0, 1, 2, 0]);
    members[1].up = false;
    assert.deepEqual([b.pick(), b.pick(), b.pick()].map((m) => m?.n), [2, 0, 2]);
    for (const m of members) m.up = false;
    assert.equal(b.pick(), undefined);
  });

  it('parses portals, sizes and LUN specs', () => {
    assert.deepEqual(parsePortal('127.0.0.2:3261'), { address: '127.0.0.2', port: 3261 });
    assert.deepEqual(parsePortal('[::1]:0'), { address: '::1', port: 0 });
    assert.deepEqual(parsePortal('10.0.0.1'), { address: '10.0.0.1', port: 3260 });
    assert.throws(() => parsePortal('1.2.3.4:99999'), /outside/);
    assert.equal(parseSize('64M'), 64 * 2 ** 20);
    assert.equal(parseSize('1GiB'), 2 ** 30);
    assert.throws(() => parseSize('lots'), RangeError);
    assert.deepEqual(parseLunSpec('1G:/tmp/x.img'), { size: '1G', file: '/tmp/x.img' });
    assert.deepEqual(parseLunSpec('256M'), { size: '256M' });
  });
});
