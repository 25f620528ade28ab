// Sockets bound to a chosen adapter, on real loopback TCP: source address, interface, and the errors a user acts on.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { connectBound } from '../lib/wire/bound-socket';
import { ConnectError } from '../lib/wire/errors';
import { requireTools } from './support/tools';

async function listen(host: string): Promise<net.Server> {
  const server = net.createServer((socket) => socket.on('error', () => undefined));
  server.listen(0, host);
  await once(server, 'listening');
  return server;
}
const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

async function expectConnectError(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConnectError, `a ConnectError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('bound sockets', () => {
  let server: net.Server;
  before(async () => { server = await listen('127.0.0.1'); });
  after(() => server.close());

  it('connects from the chosen source address, as the server sees it', async () => {
    const accepted = once(server, 'connection');
    const socket = await connectBound({ host: '127.0.0.1', port: portOf(server), sourceAddress: '127.0.0.2' });
    const [peer] = (await accepted) as [net.Socket];
    assert.equal(peer.remoteAddress, '127.0.0.2');
    assert.equal(socket.localAddress, '127.0.0.2');
    socket.destroy();
  });

  it('binds to an interface by name (ss shows the socket bound to lo)', async function () {
    requireTools(this, 'ss');
    const socket = await connectBound({ host: '127.0.0.1', port: portOf(server), sourceAddress: '127.0.0.3', device: 'lo' });
    const ss = execFileSync('ss', ['-tnH', 'state', 'established', 'src', `127.0.0.3:${socket.localPort}`], { encoding: 'utf8' });
    assert.match(ss, /127\.0\.0\.3%lo:/, `ss output: ${ss}`);
    socket.destroy();
  });

  it('names a missing interface', async () => {
    await expectConnectError(connectBound({ host: '127.0.0.1', port: portOf(server), device: 'nosuch0' }), 'ENODEV', /no network interface named 'nosuch0'/);
  });

  it('names a source address that is not on this host', async () => {
    await expectConnectError(
      connectBound({ host: '127.0.0.1', port: portOf(server), sourceAddress: '198.18.200.77' }),
      'EADDRNOTAVAIL', /198\.18\.200\.77 is not assigned to any interface/);
  });

  it('says when a portal refuses the connection', async () => {
    const closed = await listen('127.0.0.1');
    const port = portOf(closed);
    closed.close();
    await expectConnectError(connectBound({ host: '127.0.0.1', port }), 'ECONNREFUSED', /portal 127\.0\.0\.1:\d+ refused the connection/);
  });

  describe('a portal that never answers', () => {
    // A listener that never accepts, its backlog already full: the kernel drops further SYNs, as a dead portal would.
    let listener: ChildProcess;
    let port: number;
    const fillers: net.Socket[] = [];
    before(async () => {
      // Node accepts from its event loop: a child that blocks its loop right after listen() never accepts.
      listener = spawn(process.execPath, ['-e', [
        "const s = require('net').createServer().listen({ host: '127.0.0.4', port: 0, backlog: 1 }, () => {",
        '  process.stdout.write(`${s.address().port}\\n`);',
        '  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);',
        '});',
      ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [line] = (await once(listener.stdout!, 'data')) as [Buffer];
      port = Number(line.toString().trim());
      for (let i = 0; i < 3; i++) {
        const filler = net.connect(port, '127.0.0.4');
        filler.on('error', () => undefined);
        fillers.push(filler);
      }
      await new Promise((r) => setTimeout(r, 200));
    });
    after(() => {
      fillers.forEach((s) => s.destroy());
      listener.kill('SIGKILL');
    });

    it('times out with a clear error instead of hanging', async () => {
      await expectConnectError(connectBound({ host: '127.0.0.4', port, timeoutMs: 300 }), 'ETIMEDOUT', /did not answer within 300 ms/);
    });
  });
});
