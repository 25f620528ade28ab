// Failover that storage can trust, on loopback (root, nft): a path cut silently under load (packets dropped, no RST)
// is found by the busy keepalive within about a second; its reads are re-driven at once, its writes only once fenced
// (lib/mpio/write-fence.ts); no application I/O fails, every block holds what was acknowledged last, and the path is
// back within seconds of the cable being plugged in again. A device also comes up with a path that is down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cliCommand } from '../lib/bench/cli-child';
import { Initiator } from '../lib/initiator';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import { Target } from '../lib/target/target';
import { LoopbackCuts } from './support/loopback-cut';
import { requireRoot, requireTools } from './support/tools';

const NET = `127.46.${process.pid % 250}`;
const BLOCK = 512;
const IQN = 'iqn.2025-01.dev.iscsi-mpio:failover';

/** Each block carries its LBA and a generation: a stale or misplaced block is told apart from a current one. */
function stamp(lba: number, generation: number): Buffer {
  const b = randomBytes(BLOCK);
  b.writeUInt32BE(lba, 0);
  b.writeUInt32BE(generation, 4);
  return b;
}

interface Run { errors: unknown[]; completions: number[]; model: Map<number, Buffer>; ops: number }

/** `workers` loops of write-then-read on disjoint block ranges until `stop()`; every completion time is kept. */
function load(device: MultipathDevice, workers: number, span: number): { run: Run; stop: () => Promise<void> } {
  const run: Run = { errors: [], completions: [], model: new Map(), ops: 0 };
  let stopping = false;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; !stopping; i++) {
      const blocks = 1 + ((i + w) % 8);
      const lba = w * span + ((i * 13) % (span - blocks));
      const data = Buffer.concat(Array.from({ length: blocks }, (_, b) => stamp(lba + b, i)));
      try {
        await device.write(lba, data);
        run.completions.push(performance.now());
        for (let b = 0; b < blocks; b++) run.model.set(lba + b, data.subarray(b * BLOCK, (b + 1) * BLOCK));
        const back = await device.read(lba, blocks);
        run.completions.push(performance.now());
        if (!back.equals(data)) run.errors.push(new Error(`worker ${w}: blocks ${lba}+${blocks} read back differently`));
        run.ops += 2;
      } catch (error) {
        run.errors.push(error);
      }
    }
  });
  return { run, stop: async () => { stopping = true; await Promise.all(loops); } };
}

function longestGap(times: number[], from: number, to: number): number {
  const inside = times.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i] - inside[i - 1]);
  return Math.max(gap, (inside[0] ?? to) - from);
}

describe('mpio: failover on a silent cut (loopback, nft)', function () {
  this.timeout(60_000);
  let cuts: LoopbackCuts | undefined;
  let target: Target | undefined;
  let device: MultipathDevice | undefined;

  before(function () {
    requireTools(this, 'nft');
    requireRoot(this, 'nft rules on loopback');
  });
  beforeEach(async () => {
    cuts = new LoopbackCuts();
    target = await Target.start({
      iqn: IQN, group: `${NET}.10:3260`, portals: [`${NET}.11:3260`, `${NET}.12:3260`], luns: ['64M'],
    });
  });
  afterEach(async () => {
    cuts?.destroy();
    await device?.close();
    await target?.stop();
    device = undefined;
  });

  it('a silent cut under load stalls completions under 2 s, fails no I/O, fences before re-driving writes, and the path is back within 5 s of the restore', async () => {
    device = await new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:failover' }).connect({
      target: IQN, portal: `${NET}.10:3260`, lun: 1, policy: 'round-robin',
      paths: [{ sourceAddress: `${NET}.1` }, { sourceAddress: `${NET}.2` }],
    });
    const { run, stop } = load(device, 32, 2048);
    await new Promise((r) => setTimeout(r, 1000));
    const cutAt = performance.now();
    cuts!.cut(`${NET}.2`);
    await new Promise((r) => setTimeout(r, 4000));
    const restoredAt = performance.now();
    const reinstated = new Promise<number>((resolve) => device!.once('path-reinstated', () => resolve(performance.now())));
    cuts!.restore(`${NET}.2`);
    const backAt = await reinstated;
    await new Promise((r) => setTimeout(r, 500));
    await stop();

    assert.deepEqual(run.errors.map(String), [], 'no application I/O failed');
    const gap = longestGap(run.completions, cutAt, restoredAt);
    // eslint-disable-next-line no-console
    console.log(`      longest gap ${Math.round(gap)} ms, reinstated ${Math.round(backAt - restoredAt)} ms after the restore, ${run.ops} I/Os, fence ${JSON.stringify(device.fenceStats)}`);
    assert.ok(gap < 2000, `longest gap between completions after the cut: ${Math.round(gap)} ms`);
    assert.ok(backAt - restoredAt < 5000, `path reinstated ${Math.round(backAt - restoredAt)} ms after the restore`);
    const fence = device.fenceStats;
    assert.ok(fence.held > 0, 'writes were in flight on the cut path and were held until fenced');
    assert.equal(fence.unfenced, 0);
    assert.ok(fence.byReset + fence.byReinstatement >= fence.held, `every held write was fenced (${JSON.stringify(fence)})`);
    const wrong: string[] = [];
    for (const [lba, data] of run.model) {
      const back = await device.read(lba, 1);
      if (!back.equals(data)) wrong.push(`${lba}: holds lba ${back.readUInt32BE(0)} generation ${back.readUInt32BE(4)}, expected generation ${data.readUInt32BE(4)}`);
    }
    assert.deepEqual(wrong, [], 'every block holds the last acknowledged write');
    assert.ok(run.ops > 100, `the load ran (${run.ops} I/Os)`);
  });

  it('read with one path down at start exits 0 with the right bytes and names the down path on stderr', async () => {
    const data = randomBytes(256 * 1024);
    const writer = await new Initiator().connect({ target: IQN, portal: `${NET}.10:3260`, lun: 1, path: { sourceAddress: `${NET}.1` } });
    await writer.write(100, data);
    await writer.close();
    cuts!.cut(`${NET}.3`);
    const { command, args, cwd } = cliCommand([
      'read', `iscsi://${NET}.10:3260/${IQN}/1`, '--offset', String(100 * BLOCK), '--length', String(data.length),
      '--path', `${NET}.1`, '--path', `${NET}.3`,
    ]);
    const started = Date.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `exit 0 (stderr: ${err})`);
    assert.ok(Buffer.concat(out).equals(data), 'the bytes read are the bytes written');
    assert.match(err, new RegExp(`path 1 \\(from ${NET.replace(/\./g, '\\.')}\\.3\\) is down`));
    assert.ok(Date.now() - started < 30_000, `done in ${Date.now() - started} ms`);
  });

  it('connect() comes up with the paths that log in, without waiting for a dead one, and the dead one joins once restored', async () => {
    cuts!.cut(`${NET}.4`);
    const started = performance.now();
    device = await new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:degraded' }).connect({
      target: IQN, portal: `${NET}.10:3260`, lun: 1, policy: 'round-robin',
      paths: [{ sourceAddress: `${NET}.1` }, { sourceAddress: `${NET}.4` }],
    });
    const took = performance.now() - started;
    assert.ok(took < 3000, `up in ${Math.round(took)} ms: the dead path's 5 s connect timeout is not waited for`);
    assert.deepEqual(device.paths.map((p) => p.state), ['active', 'failed']);
    assert.ok(device.paths[1].lastError, 'the down path says why');
    const data = randomBytes(64 * BLOCK);
    await device.write(0, data);
    assert.ok((await device.read(0, 64)).equals(data));
    const joined = new Promise<void>((resolve) => device!.once('path-reinstated', () => resolve()));
    const restoredAt = performance.now();
    cuts!.restore(`${NET}.4`);
    await joined;
    assert.ok(performance.now() - restoredAt < 5000, `joined ${Math.round(performance.now() - restoredAt)} ms after the restore`);
    assert.deepEqual(device.paths.map((p) => p.state), ['active', 'active']);
  });
});
