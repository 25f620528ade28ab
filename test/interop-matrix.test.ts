// The interoperability matrix: three independent target implementations (tgtd, the embedded target, istgt), each
// behind two portals, each put through the same cases: discovery, login without authentication, with CHAP and
// mutual CHAP (and the wrong secret on either side), digests required and refused, verified I/O over both portals,
// a path reset mid-I/O (`ss -K` on one path's connection), and a LOGICAL UNIT RESET the target is slow to answer.
// A case an implementation cannot be configured for says why in the test output (its driver's reason), never a
// silent pass. docs/interop.md tabulates what differs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { VerifiedWorkload } from '../lib/bench/verified-workload';
import { Initiator, type ChapOptions } from '../lib/initiator';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import { AuthenticationError } from '../lib/protocol/chap';
import { NegotiationError } from '../lib/protocol/errors';
import { LoginError } from '../lib/protocol/login-status';
import { embeddedDriver } from './support/interop/embedded-driver';
import { INITIATOR_CHAP, TARGET_CHAP, type InteropTarget, type TargetDriver, type Variant } from './support/interop/interop-target';
import { istgtDriver } from './support/interop/istgt-driver';
import { tgtdDriver } from './support/interop/tgtd-driver';
import { notApplicable, requireRoot, requireTools } from './support/tools';

const DRIVERS: Array<[TargetDriver, string]> = [[tgtdDriver, '127.60.11'], [embeddedDriver, '127.60.12'], [istgtDriver, '127.60.13']];
const MUTUAL: ChapOptions = { ...INITIATOR_CHAP, mutual: TARGET_CHAP };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** CHAP refused: our own check (AuthenticationError) or the target's Login Response 0x0201 (the embedded target). */
const authFailure = (e: Error) => e instanceof AuthenticationError || (e instanceof LoginError && e.reason === 'authentication-failed');
const negotiationFailure = (e: Error) => e instanceof NegotiationError;

/** Resolves when `event` comes, rejects after `ms`; the timer never outlives it. */
function within<T>(event: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms); });
  return Promise.race([event, timeout]).finally(() => clearTimeout(timer));
}

for (const [driver, net] of DRIVERS) {
  describe(`interop matrix: ${driver.name}`, function () {
    this.timeout(60_000);
    let target: InteropTarget;
    // istgt answers a login about 1 s after the connection opens, one connection at a time.
    const initiator = new Initiator({ name: `iqn.2024-01.io.iscsi-mpio:interop-${driver.name.replace(/\W+/g, '-')}` });
    const locals = [`${net}.101`, `${net}.102`];

    before(async function () {
      requireTools(this, ...driver.tools);
      target = await driver.start(net);
    });
    after(async () => {
      await target?.stop();
    });

    /** Skips with the driver's reason when the implementation cannot be set up as `variant`. */
    function needs(context: Mocha.Context, variant: Variant): void {
      const reason = target.unsupported(variant);
      if (reason) notApplicable(context, `${driver.name}, ${variant}: ${reason}`);
    }

    function session(variant: Variant, extra: { chap?: ChapOptions; digests?: boolean } = {}) {
      return initiator.openSession({ target: target.iqn(variant), portal: target.portals(variant)[0], ...extra });
    }

    /** Both portals, one path each (round-robin), every path logged in before it returns. */
    function twoPortalDevice(variant: Variant, extra: { chap?: ChapOptions } = {}): Promise<MultipathDevice> {
      const portals = target.portals(variant);
      return initiator.connect({
        target: target.iqn(variant), portal: portals[0], lun: target.lun, policy: 'round-robin', startupGraceMs: 15_000,
        paths: portals.map((portal, i) => ({ sourceAddress: locals[i], portal })), ...extra,
      });
    }

    async function expectRefused(login: Promise<unknown>, is: (error: Error) => boolean, pattern: RegExp): Promise<number> {
      const started = performance.now();
      await assert.rejects(login, (error: Error) => {
        assert.ok(is(error), `${error.name}: ${error.message}`);
        assert.match(error.message, pattern);
        return true;
      });
      return performance.now() - started;
    }

    it('discovery: SendTargets lists every variant\'s target, with both portals where the implementation lists them', async () => {
      const found = await initiator.discover(target.portals('plain')[0]);
      const plain = found.find((t) => t.name === target.iqn('plain'));
      assert.ok(plain, `${target.iqn('plain')} in ${JSON.stringify(found)}`);
      const listed = plain.portals.map((p) => `${p.address}:${p.port}`);
      assert.deepEqual(listed, target.discoveryListsEveryPortal ? target.portals('plain') : [target.portals('plain')[0]]);
    });

    it('login without authentication: INQUIRY and READ CAPACITY answer', async () => {
      const device = await twoPortalDevice('plain');
      try {
        assert.ok((await device.capacity()).blocks > 0);
        assert.ok(device.id, 'the LU has an identity both paths agree on');
      } finally {
        await device.close();
      }
    });

    it('CHAP: the right secret logs in; none, or a wrong one, fails as authentication', async function () {
      needs(this, 'chap');
      await (await session('chap', { chap: INITIATOR_CHAP })).close();
      await expectRefused(session('chap'), authFailure, /authentication/i);
      await expectRefused(session('chap', { chap: { ...INITIATOR_CHAP, secret: 'not-the-secret-0' } }), authFailure, /authentication/i);
    });

    it('mutual CHAP: the target proves it knows its secret; a target that cannot is refused', async function () {
      needs(this, 'mutual');
      const s = await session('mutual', { chap: MUTUAL });
      assert.equal(s.info().authMethod, 'CHAP');
      await s.close();
      await expectRefused(session('mutual', { chap: { ...INITIATOR_CHAP, mutual: { ...TARGET_CHAP, secret: 'not-the-target-0' } } }), authFailure, /target "interop-target"/);
    });

    it('digests required: the default logs in with CRC32C and I/O verifies; refusing them fails in under 2 s naming HeaderDigest', async function () {
      needs(this, 'digests-required');
      const s = await session('digests-required');
      try {
        assert.deepEqual([s.parameters.headerDigest, s.parameters.dataDigest], ['CRC32C', 'CRC32C']);
      } finally {
        await s.close();
      }
      const device = await twoPortalDevice('digests-required');
      try {
        const data = randomBytes(256 * 512);
        await device.write(64, data);
        assert.ok((await device.read(64, 256)).equals(data));
      } finally {
        await device.close();
      }
      const ms = await expectRefused(session('digests-required', { digests: false }), negotiationFailure, /HeaderDigest/);
      assert.ok(ms < 2000, `refused after ${ms.toFixed(0)} ms`);
    });

    it('digests refused: the default logs in without them; requiring them fails in under 2 s naming HeaderDigest', async function () {
      needs(this, 'digests-refused');
      const s = await session('digests-refused');
      assert.deepEqual([s.parameters.headerDigest, s.parameters.dataDigest], ['None', 'None']);
      await s.close();
      const ms = await expectRefused(session('digests-refused', { digests: true }), negotiationFailure, /HeaderDigest/);
      assert.ok(ms < 2000, `refused after ${ms.toFixed(0)} ms`);
    });

    it('verified I/O over both portals: every block reads back as written, both paths carry I/O', async () => {
      const device = await twoPortalDevice('mutual', target.unsupported('mutual') ? {} : { chap: MUTUAL });
      try {
        const workload = await VerifiedWorkload.create(device, { bs: 64 * 1024, qd: 8, spanBytes: 8 << 20 });
        workload.start();
        await sleep(1500);
        assert.equal((await workload.stop()).hung, 0);
        assert.equal(workload.errors, 0);
        assert.equal(workload.model.mismatchedBlocks, 0, JSON.stringify(workload.mismatches.slice(0, 3)));
        assert.deepEqual(await workload.verifyAll(), { blocks: (8 << 20) / 512, mismatched: 0, unreadable: 0 });
        for (const p of device.paths) assert.ok(p.stats.reads > 0 && p.stats.writes > 0, `path ${p.id}: ${JSON.stringify(p.stats.snapshot())}`);
      } finally {
        await device.close();
      }
    });

    it('a path reset mid-I/O (ss -K on one connection): the path comes back, no I/O fails, every block verifies', async function () {
      requireRoot(this, 'ss -K destroys a TCP socket through sock_diag');
      requireTools(this, 'ss');
      const device = await twoPortalDevice('plain');
      try {
        const workload = await VerifiedWorkload.create(device, { bs: 64 * 1024, qd: 8, spanBytes: 8 << 20 });
        workload.start();
        await sleep(500);
        const reconnected = new Promise((resolve) => device.paths[1].session.once('reconnected', resolve));
        const [host, port] = target.portals('plain')[1].split(':');
        execFileSync('ss', ['-K', 'src', locals[1], 'dst', host, 'dport', '=', port], { stdio: 'ignore' });
        await within(reconnected, 20_000, 'path 1 did not reconnect');
        const before = device.paths[1].stats.reads + device.paths[1].stats.writes;
        await sleep(1000);
        assert.equal((await workload.stop()).hung, 0);
        assert.equal(device.paths[1].session.stats.reconnects, 1);
        // The fence's LUN RESET went over path 0, and istgt is silent for about 1 s while it runs one.
        assert.equal(device.paths[0].session.stats.reconnects, 0, `the other path stayed up (fence: ${JSON.stringify(device.fenceStats)})`);
        assert.ok(device.paths[1].stats.reads + device.paths[1].stats.writes > before, 'the reset path carries I/O again');
        assert.equal(workload.errors, 0, 'no application I/O failed');
        const swept = await workload.verifyAll();
        assert.equal(swept.unreadable, 0);
        assert.equal(workload.model.mismatchedBlocks, 0, JSON.stringify(workload.mismatches.slice(0, 3)));
        assert.deepEqual(swept, { blocks: (8 << 20) / 512, mismatched: 0, unreadable: 0 });
      } finally {
        await device.close();
      }
    });

    // istgt reads nothing for about 1 s while it runs a LOGICAL UNIT RESET, pings included. The busy keepalive here
    // (300 + 300 ms) is shorter than that: the connection lives because task management is let be silent.
    it('a LOGICAL UNIT RESET keeps its connection however long the target is silent over it (busy keepalive 300 + 300 ms)', async () => {
      const s = await initiator.openSession({ target: target.iqn('plain'), portal: target.portals('plain')[0], busyNopIntervalMs: 300, busyNopTimeoutMs: 300 });
      try {
        const states: string[] = [];
        s.on('state', (state: string) => states.push(state));
        const started = performance.now();
        assert.equal(await s.lunReset(target.lun), 0, 'function complete');
        console.log(`      ${driver.name} answered the LOGICAL UNIT RESET in ${Math.round(performance.now() - started)} ms`);
        assert.deepEqual(states, [], 'the connection never went down');
        assert.equal(s.state, 'loggedIn');
      } finally {
        await s.close();
      }
    });
  });
}
