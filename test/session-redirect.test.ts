// Login redirects against two real tgtd instances: A redirects the target to B, which serves it. Temporary and
// permanent redirects, where reconnects go afterwards, and a loop (A -> B -> A) as an error naming both.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Initiator } from '../lib/initiator';
import type { Portal } from '../lib/portal';
import { RedirectLoopError } from '../lib/session/errors';
import type { Session, SessionInfo } from '../lib/session/session';
import { loopbackPortal, requireTools, Tgtd } from './support/tgtd';

const TARGET = 'iqn.2024-01.io.iscsi-mpio.test:redirected';

describe('session: login redirect (tgtd)', function () {
  this.timeout(60_000);
  const base = 14000 + (process.pid % 500);
  const a = loopbackPortal(11, base);
  const b = loopbackPortal(12, base + 1);
  const hostPort = (p: string): Portal => ({ address: p.split(':')[0], port: Number(p.split(':')[1]) });
  let redirector: Tgtd;
  let server: Tgtd;
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:redirect-initiator' });

  before(async function () {
    requireTools(this, 'tgtd', 'tgtadm');
    server = await Tgtd.start([b], [{ name: TARGET, luns: [{ sizeBytes: 4 << 20 }] }]);
    redirector = await Tgtd.start([a], [{ name: TARGET, luns: [{ sizeBytes: 1 << 20 }] }]);
  });
  after(async () => {
    await redirector?.stop();
    await server?.stop();
  });

  async function dropAndReconnect(session: Session): Promise<SessionInfo> {
    const reconnected = once(session, 'reconnected');
    // Break the TCP connection under the session, as a network fault would.
    (session as unknown as { core: { connection: { destroy(): void } } }).core.connection.destroy();
    const [info] = (await reconnected) as [SessionInfo];
    return info;
  }

  for (const reason of ['Temporary', 'Permanent'] as const) {
    it(`follows a ${reason.toLowerCase()} redirect and reconnects to the ${reason === 'Temporary' ? 'original' : 'new'} portal`, async () => {
      await redirector.setRedirect(1, { address: hostPort(b).address, port: hostPort(b).port, reason });
      const session = await initiator.openSession({ target: TARGET, portal: a, nopIntervalMs: 60_000 });
      try {
        const info = session.info();
        assert.deepEqual(info.landed, hostPort(b));
        assert.deepEqual(info.redirectedFrom, hostPort(a));
        assert.equal(info.redirects.length, 1);
        assert.equal(info.redirects[0].permanent, reason === 'Permanent');
        assert.deepEqual(info.portal, reason === 'Temporary' ? hostPort(a) : hostPort(b));
        const after = await dropAndReconnect(session);
        assert.deepEqual(after.landed, hostPort(b));
        if (reason === 'Temporary') {
          // Back through the original portal, redirected again.
          assert.deepEqual(after.redirects.map((r) => r.from), [hostPort(a)]);
        } else {
          // Straight to the new home, no redirect on the way.
          assert.deepEqual(after.redirects, []);
        }
        assert.equal(session.stats.snapshot().reconnects, 1);
      } finally {
        await session.close();
      }
    });
  }

  it('stops a redirect loop with an error naming the addresses seen', async () => {
    await redirector.setRedirect(1, { address: hostPort(b).address, port: hostPort(b).port, reason: 'Temporary' });
    await server.setRedirect(1, { address: hostPort(a).address, port: hostPort(a).port, reason: 'Temporary' });
    await assert.rejects(initiator.openSession({ target: TARGET, portal: a }), (e: unknown) => {
      assert.ok(e instanceof RedirectLoopError, String(e));
      assert.deepEqual(e.addresses, [a, b, a]);
      assert.match(e.message, new RegExp(`${a} -> ${b} -> ${a}`));
      return true;
    });
  });
});
