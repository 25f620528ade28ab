// close() wins every race: against a reconnect loop, a login in progress, and a target that comes back just after.
// Nothing is left behind: no socket at the target, no later login, and the user's timeouts are checked up front.
import assert from 'node:assert/strict';
import net from 'node:net';
import { Initiator } from '../lib/initiator';
import { SessionArgumentError } from '../lib/session/errors';
import { Session } from '../lib/session/session';
import { Target } from '../lib/target/target';

const NET = `127.47.${process.pid % 250}`;
const IQN = 'iqn.2025-01.dev.iscsi-mpio:close-race';
const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:close-race' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session: close wins every race', function () {
  this.timeout(30_000);

  it('close() during the reconnect loop ends it at once, and a target that comes back sees no login', async () => {
    let target = await Target.start({ iqn: IQN, portals: [`${NET}.10:3260`] });
    const session = await initiator.openSession({ target: IQN, portal: `${NET}.10:3260` });
    await target.stop();
    for (let i = 0; i < 100 && session.state !== 'recovering'; i++) await sleep(20);
    assert.equal(session.state, 'recovering');
    await sleep(1200); // at least one failed attempt: the loop is between attempts
    const started = Date.now();
    await session.close();
    assert.ok(Date.now() - started < 500, `close took ${Date.now() - started} ms`);
    target = await Target.start({ iqn: IQN, portals: [`${NET}.10:3260`] });
    await sleep(3000);
    assert.equal(session.state, 'closed');
    assert.deepEqual(target.sessions(), [], 'nothing logged in after close');
    await target.stop();
  });

  it('close() while a login waits on a silent portal abandons it and leaves no connection', async () => {
    const sockets = new Set<net.Socket>();
    let closedAtServer = 0;
    const server = net.createServer((s) => {
      sockets.add(s);
      s.resume();
      s.on('close', () => { closedAtServer++; sockets.delete(s); });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(3260, `${NET}.20`, r));
    const { session, ready } = Session.start({
      initiatorName: initiator.name, targetName: IQN, portal: { address: `${NET}.20`, port: 3260 }, isid: Buffer.from('800000000001', 'hex'),
      loginTimeoutMs: 20_000,
    });
    ready.catch(() => undefined);
    await sleep(200);
    assert.equal(sockets.size, 1, 'the login connected and waits for an answer');
    const started = Date.now();
    await session.close();
    assert.ok(Date.now() - started < 500, `close took ${Date.now() - started} ms, not the 20 s login timeout`);
    for (let i = 0; i < 50 && closedAtServer === 0; i++) await sleep(20);
    assert.equal(closedAtServer, 1, 'the connection is gone at the server');
    await assert.rejects(ready);
    assert.equal(session.state, 'closed');
    await new Promise((r) => server.close(r));
  });

  it('refuses a timeout that is not a number above 0 instead of disabling or tripping every timer', async () => {
    for (const bad of [Number.NaN, 0, -5, Number.POSITIVE_INFINITY]) {
      await assert.rejects(initiator.openSession({ target: IQN, portal: `${NET}.30:3260`, commandTimeoutMs: bad }), SessionArgumentError);
    }
  });
});
