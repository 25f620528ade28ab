// The service's control socket (CONFIG's runtime dir, control.sock, 0600 in a 0700 dir): what `status`,
// `node login/logout` and `policy` ask. One JSON request per line, one JSON answer per line.
import fs from 'node:fs';
import net from 'node:net';
import { socketAnswers } from '../nbd/server';
import type { ControlRequest } from './control-client';

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

export class ControlServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly path: string, handler: ControlHandler) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.setEncoding('utf8');
      let text = '';
      socket.on('data', (d: string) => {
        text += d;
        const nl = text.indexOf('\n');
        if (nl < 0) { if (text.length > 65536) socket.destroy(); return; }
        socket.pause();
        let request: ControlRequest;
        try { request = JSON.parse(text.slice(0, nl)) as ControlRequest; } catch { socket.end(JSON.stringify({ ok: false, error: { message: 'not JSON', code: 'EPROTO' } }) + '\n'); return; }
        handler(request).then((result) => { socket.end(JSON.stringify({ ok: true, result }) + '\n'); }, (error: Error & { code?: string; exitCode?: number }) => {
          socket.end(JSON.stringify({ ok: false, error: { message: error.message, code: error.code ?? 'ESERVICE', exitCode: error.exitCode } }) + '\n');
        });
      });
    });
  }

  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    if (fs.existsSync(path)) {
      if (await socketAnswers(path)) throw Object.assign(new Error(`a service is already running on ${path}`), { code: 'EADDRINUSE' });
      fs.rmSync(path, { force: true });
    }
    const c = new ControlServer(path, handler);
    await new Promise<void>((resolve, reject) => {
      c.server.once('error', reject);
      c.server.listen({ path }, () => { c.server.off('error', reject); resolve(); });
    });
    fs.chmodSync(path, 0o600);
    return c;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    fs.rmSync(this.path, { force: true });
  }
}
