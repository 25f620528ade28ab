// Task management and ALUA against the embedded target over real loopback sockets (protocol.md §1.10, §7):
// LOGICAL UNIT RESET through Session.lunReset, the unit attention it leaves retried invisibly by the device layer
// (and visible as 29/03 to a raw command on another nexus), a target silent while it runs the reset; REPORT TARGET
// PORT GROUPS through LunDevice giving each member's state, and following setAluaState with UNIT ATTENTION 2A/06
// retried invisibly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Initiator } from '../lib/initiator';
import { readCommand, testUnitReadyCommand } from '../lib/scsi/commands';
import { NoPathError } from '../lib/mpio/errors';
import { ScsiError } from '../lib/scsi/scsi-error';
import { ScsiStatus } from '../lib/scsi/status';
import { PathError } from '../lib/session/errors';
import type { LunDevice } from '../lib/session/lun-device';
import type { Session } from '../lib/session/session';
import { Target } from '../lib/target/target';

const NET = `127.${190 + (process.pid % 40)}.${((process.pid >> 3) + 2) % 250}`;

/** Records every command result the session returns to the device layer (the real session; only observed). */
function recordResults(session: Session): Array<{ op: number; status: number; asc?: number; ascq?: number }> {
  const log: Array<{ op: number; status: number; asc?: number; ascq?: number }> = [];
  const submit = session.submit.bind(session);
  session.submit = (lun, command, buffer, done, failed) => submit(lun, command, buffer, (result) => {
    const e = result.status === ScsiStatus.GOOD ? undefined : ScsiError.fromResponse(result.status, result.sense);
    log.push({ op: command.cdb[0], status: result.status, asc: e?.asc, ascq: e?.ascq });
    done(result);
  }, failed);
  return log;
}

const unitAttentions = (log: ReturnType<typeof recordResults>) =>
  log.filter((r) => r.status === ScsiStatus.CHECK_CONDITION).map((r) => `${r.asc?.toString(16)}/${r.ascq?.toString(16).padStart(2, '0')}`);

describe('session ↔ embedded target: task management and ALUA', function () {
  this.timeout(20_000);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:tmf-alua' });
  let target: Target;
  const devices: LunDevice[] = [];

  afterEach(async () => {
    for (const d of devices.splice(0)) await d.close().catch(() => undefined);
    await target.stop();
  });

  async function connect(member: number, source: number, extra: { commandTimeoutMs?: number } = {}): Promise<LunDevice> {
    const m = target.members[member];
    const device = await initiator.connect({
      target: target.iqn, portal: { address: m.address, port: m.port }, lun: 1, paths: [{ sourceAddress: `${NET}.${source}` }],
      nopIntervalMs: 60_000, noPathRetryMs: 300, ...extra, // one path: a failed path ends I/O after 300 ms
    });
    devices.push(device);
    return device;
  }

  describe('LOGICAL UNIT RESET', () => {
    beforeEach(async () => {
      target = await Target.start({ portals: [`${NET}.11:0`], luns: ['8M'], nopInterval: 0 });
    });

    it('completes (response 0); the 29/03 unit attention is retried invisibly and the data is intact', async () => {
      const a = await connect(0, 21);
      const b = await connect(0, 22); // a second I_T nexus to see the unit attention raw
      const data = randomBytes(64 * 512);
      await a.write(40, data);
      await b.testUnitReady();
      const log = recordResults(a.session);

      assert.equal(await a.session.lunReset(1), 0, 'function complete');

      // The device layer: the read succeeds and returns the data, the unit attention never reaches the caller.
      assert.deepEqual(await a.read(40, 64), data);
      assert.deepEqual(unitAttentions(log), ['29/03'], 'the first command after the reset met UA 29/03 and was retried');
      assert.equal(log.at(-1)!.status, ScsiStatus.GOOD);
      // The raw session on the other nexus sees the condition itself, once.
      const raw = await b.session.execute(1, testUnitReadyCommand());
      assert.equal(raw.status, ScsiStatus.CHECK_CONDITION);
      const ua = ScsiError.fromResponse(raw.status, raw.sense);
      assert.equal(ua.kind, 'unitAttention');
      assert.deepEqual([ua.asc, ua.ascq], [0x29, 0x03], 'BUS DEVICE RESET FUNCTION OCCURRED');
      assert.equal((await b.session.execute(1, testUnitReadyCommand())).status, ScsiStatus.GOOD, 'reported once');
      assert.equal(a.session.state, 'loggedIn');
    });

    it('answers LUN does not exist (2) for a LUN the target does not have', async () => {
      const a = await connect(0, 23);
      assert.equal(await a.session.lunReset(9), 2);
      await a.testUnitReady(); // nothing was reset: no unit attention queued, the session is fine
      assert.equal(a.session.state, 'loggedIn');
    });

    // istgt answers a LOGICAL UNIT RESET after about 1 s and reads nothing meanwhile, pings included: longer than the
    // busy keepalive's 500 + 500 ms. The multipath fence sends its reset over a working path, which must survive it.
    it('keeps a connection whose target is silent for 1.5 s while it runs the reset, as istgt is for about 1 s', async () => {
      const a = await connect(0, 25);
      const states: string[] = [];
      a.session.on('state', (state: string) => states.push(state));
      target.setTaskManagementDelay(1500);
      const sentAt = Date.now();
      assert.equal(await a.session.lunReset(1), 0, 'function complete');
      const elapsed = Date.now() - sentAt;
      assert.ok(elapsed >= 1400, `the target answered after ${elapsed} ms: it did hold the reset`);
      target.setTaskManagementDelay(0);
      assert.deepEqual(states, [], 'the connection never went down');
      assert.equal(a.session.state, 'loggedIn');
      await a.testUnitReady();
    });

    // The target aborts the LUN's outstanding commands and never answers them (SAM-5); the session ends them when
    // the reset completes rather than at the command timeout.
    it('ends the commands the reset aborted at once instead of at the command timeout', async () => {
      const a = await connect(0, 24, { commandTimeoutMs: 8000 });
      target.setResponseDelay(1500);
      // One read straight on the session (sees the abort), one through the device (re-drives it, path kept).
      const onSession = a.session.execute(1, readCommand(0, 8, 512), Buffer.alloc(4096)).then(() => 'completed' as const, (e: unknown) => e);
      const onDevice = a.read(8, 8).then(() => 'completed' as const, (e: unknown) => e);
      await new Promise((r) => setTimeout(r, 200)); // the reads are at the target, their responses held back
      const resetAt = Date.now();
      assert.equal(await a.session.lunReset(1), 0);
      const [sessionOutcome, deviceOutcome] = await Promise.all([onSession, onDevice]);
      const elapsed = Date.now() - resetAt;
      assert.ok(elapsed < 4000, `the aborted reads ended ${elapsed} ms after the reset (command timeout 8000 ms)`);
      assert.ok(sessionOutcome instanceof PathError && sessionOutcome.code === 'EABORTED', `session: ${String(sessionOutcome)}`);
      assert.equal(deviceOutcome, 'completed', 'the device re-drove the aborted read');
    });
  });

  describe('ALUA (REPORT TARGET PORT GROUPS)', () => {
    beforeEach(async () => {
      target = await Target.start({
        portals: [{ address: `${NET}.11`, alua: 'active-optimized' }, { address: `${NET}.12`, alua: 'active-non-optimized' }],
        luns: ['8M'], alua: true, nopInterval: 0,
      });
    });

    it('reports active/optimized for one member and active/non-optimized for the other, then follows setAluaState', async () => {
      const d0 = await connect(0, 31);
      const d1 = await connect(1, 32);
      const byId = (r: Awaited<ReturnType<LunDevice['reportTargetPortGroups']>>) => new Map(r.groups.map((g) => [g.id, g]));

      for (const d of [d0, d1]) {
        const groups = byId(await d.reportTargetPortGroups());
        assert.equal(groups.size, 2);
        assert.equal(groups.get(1)!.state, 'active/optimized');
        assert.equal(groups.get(1)!.preferred, true);
        assert.deepEqual(groups.get(1)!.relativeTargetPorts, [1]);
        assert.equal(groups.get(2)!.state, 'active/non-optimized');
        assert.equal(groups.get(2)!.preferred, false);
        assert.deepEqual(groups.get(2)!.relativeTargetPorts, [2]);
      }
      // Each path knows which group it goes through (VPD 0x83 target port group designator): the two paths differ.
      const tpgOf = async (d: LunDevice) => (await d.inquiry()).designators.find((x) => x.typeCode === 5)?.hex;
      const [g0, g1] = [await tpgOf(d0), await tpgOf(d1)];
      assert.ok(g0 !== undefined && g1 !== undefined, 'both paths report a target port group designator');
      assert.notDeepEqual(g0, g1);
      assert.equal(target.members[0].alua, 'active-optimized');

      const data = randomBytes(4096);
      await d0.write(0, data);
      const log0 = recordResults(d0.session);
      const log1 = recordResults(d1.session);

      // The array swaps the roles (a failback to the other controller).
      target.setAluaState(0, 'active-non-optimized');
      target.setAluaState(1, 'active-optimized');

      for (const [d, log] of [[d0, log0], [d1, log1]] as const) {
        const groups = byId(await d.reportTargetPortGroups());
        assert.equal(groups.get(1)!.state, 'active/non-optimized');
        assert.equal(groups.get(2)!.state, 'active/optimized');
        assert.equal(groups.get(2)!.preferred, true);
        assert.ok(unitAttentions(log).every((ua) => ua === '2a/06'), `only 2A/06 met: ${unitAttentions(log).join(', ')}`);
        assert.ok(unitAttentions(log).length >= 1, 'ASYMMETRIC ACCESS STATE CHANGED was met and retried invisibly');
        assert.deepEqual(await d.read(0, 8), data, 'I/O through both groups still works');
      }

      // Standby: the port refuses media access (a path error), and the device, told by the 2A/06 unit attention,
      // stops using it; with no other path it gives up after its all-paths-down window.
      target.setAluaState(0, 'standby');
      const groups = byId(await d0.reportTargetPortGroups());
      assert.equal(groups.get(1)!.state, 'standby');
      await assert.rejects(d0.read(0, 8), (e: unknown) => e instanceof NoPathError && (e.cause === undefined || (e.cause instanceof ScsiError && e.cause.kind === 'pathError')));
      assert.deepEqual(await d1.read(0, 8), data);
    });
  });
});
