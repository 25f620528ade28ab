// A closed connection must be collectable: the socket pump's persistent references to its callbacks (which close
// over the connection) and to the deframer are GC roots, and held past the close they kept every dead connection
// with ~0.7 MB of deframer buffers alive (the soak saw RSS climb by that much per reconnect).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PduConnection } from '../lib/wire/connection';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Resolves true once every object registered with `registry` was collected (false after 50 collections). */
async function collected(pending: Set<string>): Promise<boolean> {
  for (let i = 0; i < 50 && pending.size > 0; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return pending.size === 0;
}

describe('socket pump releases closed connections', () => {
  let server: net.Server;
  before(async () => {
    server = net.createServer();
    server.listen(0, '127.43.200.1');
    await once(server, 'listening');
  });
  after(() => server.close());

  for (const how of ['destroyed here', 'closed by the peer'] as const) {
    it(`lets the GC take a connection ${how}, on both sides`, async () => {
      const pending = new Set<string>();
      const registry = new FinalizationRegistry((name: string) => pending.delete(name));
      await (async () => {
        const accepted = once(server, 'connection');
        const initiator = await PduConnection.connect({ host: '127.43.200.1', port: (server.address() as net.AddressInfo).port, role: 'initiator' });
        const target = PduConnection.accept(((await accepted) as [net.Socket])[0], { role: 'target' });
        for (const [name, c] of [['initiator', initiator], ['target', target]] as const) {
          c.on('error', () => undefined);
          registry.register(c, name);
          pending.add(name);
        }
        const closed = Promise.all([once(initiator, 'close'), once(target, 'close')]);
        if (how === 'destroyed here') initiator.destroy(); else target.destroy();
        await closed;
      })();
      assert.ok(await collected(pending), `still alive after close: ${[...pending].join(', ')}`);
    });
  }
});
