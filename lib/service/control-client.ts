// The client side of the service's control socket (control-server.ts): one JSON request per line, one JSON answer
// per line. An error the service reports comes back as a ServiceError carrying its code and exit status.
import net from 'node:net';
import { controlSocketPath, type ServiceDirs } from './config-dir';

export interface ControlRequest { command: string; name?: string; policy?: string }

export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(message: string, readonly code: string, readonly exitCode?: number) { super(message); }
}

export function askService(dirs: ServiceDirs, request: ControlRequest, timeoutMs = 60_000): Promise<unknown> {
  const path = controlSocketPath(dirs);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new ServiceError(`the service at ${path} did not answer in ${timeoutMs} ms`, 'ETIMEDOUT')); }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      let answer: { ok: boolean; result?: unknown; error?: { message: string; code: string; exitCode?: number } };
      try { answer = JSON.parse(text.slice(0, nl)); } catch { reject(new ServiceError(`the service at ${path} answered something that is not JSON`, 'EPROTO')); return; }
      if (answer.ok) resolve(answer.result);
      else reject(new ServiceError(answer.error?.message ?? 'the service failed', answer.error?.code ?? 'ESERVICE', answer.error?.exitCode));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(new ServiceError(`no service running for ${dirs.config} (nothing listens on ${path}; start iscsi-mpio serve)`, 'ENOSERVICE'));
      } else reject(error);
    });
  });
}
