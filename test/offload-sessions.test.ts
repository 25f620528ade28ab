// Issue 5 must-show: sessions this process opened appear in `netstat({iscsi: true})` with their target, session and
// path, to distinct target ports, and disappear when closed. Real sessions (the Initiator, real TCP from their
// source addresses) to two portals of the embedded target and of tgtd; the rows come from sock_diag (the library:
// the CLI runs in another process, where this process's registry is not visible).
import assert from 'node:assert/strict';
import { Initiator } from '../lib/initiator';
import { netstat, type NetstatRow } from '../lib/offload/netstat';
import { formatNetstatTable } from '../lib/offload/netstat-table';
import type { LunDevice } from '../lib/session/lun-device';
import type { SessionInfo } from '../lib/session/session';
import { Target } from '../lib/target/target';
import { loopbackPortal, requireTools, Tgtd } from './support/tgtd';

const NET = `127.${190 + (process.pid % 40)}.${((process.pid >> 3) + 4) % 250}`;

/** The row of a session's connection (this host is the initiator end). */
function rowOf(rows: NetstatRow[], info: SessionInfo): NetstatRow | undefined {
  return rows.find((r) => r.local.address === info.local.address && r.local.port === info.local.port
    && r.remote.address === info.landed.address && r.remote.port === info.landed.port && r.state === 'ESTABLISHED');
}

const sessionLabel = (info: SessionInfo) => `${info.isid}:${info.tsih}`;

describe('offload netstat --iscsi with real sessions', function () {
  this.timeout(30_000);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:netstat-sessions' });
  const devices: LunDevice[] = [];
  afterEach(async () => { for (const d of devices.splice(0)) await d.close().catch(() => undefined); });

  async function open(target: string, portal: string, source: string, pathId: string): Promise<LunDevice> {
    const device = await initiator.connect({ target, portal, lun: 1, paths: [{ sourceAddress: source }], pathId, nopIntervalMs: 60_000 });
    devices.push(device);
    return device;
  }

  /** Two sessions to two portals: their rows, labels, distinct target ports, and their removal on close. */
  async function checkTwoSessions(target: string, portals: [string, string], ports: number[], expectTargetEnds: boolean): Promise<void> {
    const a = await open(target, portals[0], `${NET}.21`, 'path-a');
    const b = await open(target, portals[1], `${NET}.22`, 'path-b');
    const [ia, ib] = [a.session.info(), b.session.info()];

    const rows = netstat({ iscsi: true, iscsiPorts: ports });
    assert.ok(rows.every((r) => r.iscsi), 'only iSCSI rows');
    const ra = rowOf(rows, ia);
    const rb = rowOf(rows, ib);
    assert.ok(ra, `a row for session A (${ia.local.address}:${ia.local.port} -> ${ia.landed.address}:${ia.landed.port})`);
    assert.ok(rb, 'a row for session B');
    assert.deepEqual(ra.iscsi, { target, session: sessionLabel(ia), path: 'path-a', source: 'process', role: 'initiator' });
    assert.deepEqual(rb.iscsi, { target, session: sessionLabel(ib), path: 'path-b', source: 'process', role: 'initiator' });
    assert.notEqual(`${ra.remote.address}:${ra.remote.port}`, `${rb.remote.address}:${rb.remote.port}`, 'distinct target ports');
    assert.equal(ra.local.address, `${NET}.21`);
    assert.equal(rb.local.address, `${NET}.22`);
    assert.equal(ra.device, 'lo');
    assert.equal(ra.proto, 'TCP');
    assert.notEqual(sessionLabel(ia), sessionLabel(ib));
    if (expectTargetEnds) {
      // The target's ends of the same connections, on the iSCSI port: labelled as the target side.
      for (const info of [ia, ib]) {
        const end = rows.find((r) => r.local.port === info.landed.port && r.remote.address === info.local.address && r.remote.port === info.local.port);
        assert.ok(end, `the target end of ${info.local.address}:${info.local.port}`);
        assert.equal(end.iscsi!.role, 'target');
      }
    }
    const table = formatNetstatTable(rows.filter((r) => r === ra || r === rb), { iscsi: true });
    assert.match(table, new RegExp(`${ia.local.address}:${ia.local.port} +${ia.landed.address}:${ia.landed.port} +ESTABLISHED .*${target.replace(/[.:]/g, '\\$&')} +${sessionLabel(ia)} +path-a`));

    // Closing A removes its row and label; B stays.
    await a.close();
    const afterA = netstat({ iscsi: true, iscsiPorts: ports });
    assert.equal(rowOf(afterA, ia), undefined, 'no established row for the closed session');
    assert.ok(!afterA.some((r) => r.iscsi?.session === sessionLabel(ia)), 'the closed session\'s label is gone');
    assert.deepEqual(rowOf(afterA, ib)?.iscsi?.session, sessionLabel(ib));
    await b.close();
    const afterB = netstat({ iscsi: true, iscsiPorts: ports });
    assert.ok(!afterB.some((r) => r.iscsi?.source === 'process' && (r.iscsi.target === target)), 'no labelled row left');
  }

  describe('embedded target', () => {
    let target: Target;
    before(async () => {
      target = await Target.start({ portals: [`${NET}.11:0`, `${NET}.12:0`], luns: ['4M'], nopInterval: 0 });
    });
    after(async () => { await target.stop(); });

    it('lists both sessions with target, session and path, to distinct target ports, and drops them on close', async () => {
      const [m0, m1] = target.members;
      await checkTwoSessions(target.iqn, [`${m0.address}:${m0.port}`, `${m1.address}:${m1.port}`], [m0.port, m1.port], true);
    });

    it('follows a reconnect: the new connection is labelled, the dropped one is gone', async () => {
      const m = target.members[0];
      const a = await open(target.iqn, `${m.address}:${m.port}`, `${NET}.23`, 'path-c');
      const first = a.session.info();
      assert.ok(rowOf(netstat({ iscsi: true }), first), 'labelled before the drop');
      const reconnected = new Promise<SessionInfo>((resolve) => a.session.once('reconnected', resolve));
      target.dropConnections({ member: 0 });
      const again = await reconnected;
      assert.notEqual(again.local.port, first.local.port, 'a new connection');
      const rows = netstat({ iscsi: true });
      assert.equal(rowOf(rows, first), undefined);
      assert.deepEqual(rowOf(rows, again)?.iscsi, { target: target.iqn, session: sessionLabel(again), path: 'path-c', source: 'process', role: 'initiator' });
      assert.equal(rows.filter((r) => r.iscsi?.path === 'path-c').length, 1, 'one labelled connection for the path');
    });
  });

  describe('tgtd', () => {
    const TARGET = 'iqn.2024-01.io.iscsi-mpio.test:netstat';
    const port = 13900 + (process.pid % 500);
    const portals: [string, string] = [loopbackPortal(51, port), loopbackPortal(52, port)];
    let tgtd: Tgtd | undefined;
    before(async function () {
      requireTools(this, 'tgtd', 'tgtadm');
      tgtd = await Tgtd.start(portals, [{ name: TARGET, luns: [{ sizeBytes: 8 << 20 }] }]);
    });
    after(async () => { await tgtd?.stop(); });

    it('lists both sessions to two tgtd portals with their labels, tgtd\'s ends as the target side, and drops them on close', async () => {
      await checkTwoSessions(TARGET, portals, [port], true);
    });
  });
});
