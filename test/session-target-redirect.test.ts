// Login redirect through the embedded target's group portal (protocol.md §0 items 2 and 7, §2): two sessions from
// two source addresses log in through the group and land on different members; session.info() records the group
// as `redirectedFrom` and the member as `landed`; after a connection loss the path logs in again through the group.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Initiator } from '../lib/initiator';
import type { Portal } from '../lib/portal';
import type { LunDevice } from '../lib/session/lun-device';
import type { SessionInfo } from '../lib/session/session';
import { Target } from '../lib/target/target';

const NET = `127.${190 + (process.pid % 40)}.${((process.pid >> 3) + 3) % 250}`;

describe('session ↔ embedded target: redirect through the group portal', function () {
  this.timeout(20_000);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:redirect' });
  let target: Target;
  const devices: LunDevice[] = [];

  beforeEach(async () => {
    target = await Target.start({ group: `${NET}.10:0`, portals: [`${NET}.11:0`, `${NET}.12:0`], luns: ['8M'], nopInterval: 0 });
  });
  afterEach(async () => {
    for (const d of devices.splice(0)) await d.close().catch(() => undefined);
    await target.stop();
  });

  async function viaGroup(source: string): Promise<LunDevice> {
    const g = target.group!;
    const device = await initiator.connect({
      target: target.iqn, portal: `${g.address}:${g.port}`, lun: 1, paths: [{ sourceAddress: source }], nopIntervalMs: 60_000,
    });
    devices.push(device);
    return device;
  }

  const memberOf = (p: Portal) => target.members.findIndex((m) => m.address === p.address && m.port === p.port);

  it('sends two sessions from two source addresses to different members and records where each landed', async () => {
    const g = target.group!;
    const discovered = await initiator.discover(`${g.address}:${g.port}`);
    assert.deepEqual(discovered.map((t) => t.name), [target.iqn]);
    assert.deepEqual(discovered[0].portals.map((p) => p.port).sort(), target.members.map((m) => m.port).sort(), 'the group lists every member');

    const redirects: Array<{ member: number }> = [];
    target.on('redirect', (r: { member: number }) => redirects.push(r));
    const a = await viaGroup(`${NET}.21`);
    const b = await viaGroup(`${NET}.22`);
    const [ia, ib] = [a.session.info(), b.session.info()];

    for (const [info, source] of [[ia, `${NET}.21`], [ib, `${NET}.22`]] as const) {
      assert.deepEqual(info.redirectedFrom, { address: g.address, port: g.port }, 'redirected from the group portal');
      assert.deepEqual(info.portal, { address: g.address, port: g.port }, 'a temporary redirect keeps the group as home');
      assert.equal(info.redirects.length, 1);
      assert.equal(info.redirects[0].permanent, false);
      assert.deepEqual(info.redirects[0].to, info.landed);
      assert.ok(memberOf(info.landed) >= 0, `landed on a member portal, not ${JSON.stringify(info.landed)}`);
      assert.equal(info.local.address, source);
    }
    assert.notEqual(memberOf(ia.landed), memberOf(ib.landed), 'the two paths landed on different members');
    assert.deepEqual(redirects.map((r) => r.member), [memberOf(ia.landed), memberOf(ib.landed)]);
    assert.notEqual(ia.isid, ib.isid, 'each path has its own ISID');

    // The target agrees: one session per member, each from its path's source address.
    const sessions = target.sessions();
    assert.equal(sessions.length, 2);
    for (const [info, source] of [[ia, `${NET}.21`], [ib, `${NET}.22`]] as const) {
      const s = sessions.find((x) => x.isid === info.isid)!;
      assert.ok(s, `the target has session ${info.isid}`);
      assert.equal(s.member, memberOf(info.landed));
      assert.equal(s.remote.address, source);
      assert.equal(s.remote.port, info.local.port);
      assert.equal(s.tsih, info.tsih);
    }

    // Both paths reach the same LU.
    const data = randomBytes(4096);
    await a.write(8, data);
    assert.deepEqual(await b.read(8, 8), data);
    const [ida, idb] = [await a.inquiry(), await b.inquiry()];
    assert.deepEqual(ida.identity, idb.identity);
  });

  it('logs in again through the group portal after the member drops the connection', async () => {
    const a = await viaGroup(`${NET}.23`);
    const first = a.session.info();
    const redirects: number[] = [];
    target.on('redirect', (r: { member: number }) => redirects.push(r.member));
    const reconnected = new Promise<SessionInfo>((resolve) => a.session.once('reconnected', resolve));
    assert.equal(target.dropConnections({ member: memberOf(first.landed) }), 1);
    const again = await reconnected; // after DefaultTime2Wait (2 s)
    assert.equal(redirects.length, 1, 'the reconnect started at the group portal, not at the member it had landed on');
    assert.deepEqual(again.redirectedFrom, first.redirectedFrom);
    assert.deepEqual(again.landed, target.members[redirects[0]] && { address: target.members[redirects[0]].address, port: target.members[redirects[0]].port });
    assert.equal(again.isid, first.isid);
    assert.equal(a.session.state, 'loggedIn');
    await a.testUnitReady();
  });
});
