// An NBD server: one or more exports on a Unix socket or a TCP address, each client a NbdConnection. close() stops
// accepting, lets every connection finish its in-flight requests and answer them, then ends it.
import fs from 'node:fs';
import net from 'node:net';
import { HEADER_READ_BYTES, NbdConnection } from './connection';
import { adopt } from './direct-reads';
import type { NbdExport } from './export';

export type NbdListen = { socket: string } | { host: string; port: number };

export interface NbdServerOptions {
  /** Told of clients that broke the protocol (their connection is closed). */
  onProtocolError?: (error: Error) => void;
  /** Unix socket mode (default 0600: the socket's user only). */
  socketMode?: number;
}

/** How long close() lets a connection finish its requests before it is cut. */
const DRAIN_MS = 10_000;

export class NbdServer {
  private readonly server: net.Server;
  private readonly connections = new Set<NbdConnection>();
  private readonly exportList: NbdExport[];
  private listening?: NbdListen;

  constructor(exports: NbdExport[], private readonly options: NbdServerOptions = {}) {
    this.exportList = [...exports];
    // Paused on accept, so the handle can move to a socket that reads into our buffers before any byte is read.
    this.server = net.createServer({ pauseOnConnect: true }, (accepted) => {
      let c: NbdConnection | undefined;
      const direct = adopt(accepted, () => c, HEADER_READ_BYTES);
      const socket = direct ?? accepted;
      c = new NbdConnection(socket, {
        find: (name) => (name === '' ? this.exportList[0] : this.exportList.find((e) => e.name === name)),
        list: () => this.exportList,
        onProtocolError: (error) => this.options.onProtocolError?.(error),
      }, direct !== undefined);
      if (!direct) accepted.resume();
      const connection = c;
      this.connections.add(connection);
      socket.on('close', () => this.connections.delete(connection));
    });
  }

  get exports(): readonly NbdExport[] { return this.exportList; }

  /** Offers one more export (or replaces the one of that name) to clients that connect from now on. */
  addExport(e: NbdExport): void {
    this.removeExport(e.name);
    this.exportList.push(e);
  }

  /** Stops offering an export; connections already using it go on until they end. */
  removeExport(name: string): void {
    const i = this.exportList.findIndex((e) => e.name === name);
    if (i >= 0) this.exportList.splice(i, 1);
  }

  /** Where it listens, with the TCP port the kernel chose when asked for port 0. */
  get address(): NbdListen | undefined {
    if (!this.listening) return undefined;
    if ('socket' in this.listening) return this.listening;
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** The standard NBD URI of an export here (nbd+unix:///NAME?socket=PATH or nbd://HOST:PORT/NAME). */
  uri(name = this.exportList[0]?.name ?? ''): string {
    const a = this.address;
    if (!a) throw new Error('the NBD server is not listening');
    const exportName = encodeURIComponent(name);
    if ('socket' in a) return `nbd+unix:///${exportName}?socket=${encodeURI(a.socket)}`;
    const host = a.host.includes(':') ? `[${a.host}]` : a.host;
    return `nbd://${host}:${a.port}/${exportName}`;
  }

  async listen(where: NbdListen): Promise<this> {
    if ('socket' in where) {
      // A socket file left by a process that died is stale; a live server on it refuses us (EADDRINUSE on connect).
      if (fs.existsSync(where.socket)) {
        if (await socketAnswers(where.socket)) throw Object.assign(new Error(`${where.socket} is in use by a running server`), { code: 'EADDRINUSE' });
        fs.rmSync(where.socket, { force: true });
      }
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => { this.server.off('error', reject); resolve(); };
      if ('socket' in where) this.server.listen({ path: where.socket }, done);
      else this.server.listen({ host: where.host, port: where.port }, done);
    });
    if ('socket' in where) fs.chmodSync(where.socket, this.options.socketMode ?? 0o600);
    this.listening = where;
    return this;
  }

  /** Stops accepting, finishes what the clients sent (bounded), ends every connection and removes the socket. */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<void>((resolve) => { timer = setTimeout(resolve, DRAIN_MS); });
    await Promise.race([Promise.all([...this.connections].map((c) => c.drain())), cut]);
    clearTimeout(timer);
    for (const c of this.connections) c.socket.destroy();
    await stopped;
    if (this.listening && 'socket' in this.listening) fs.rmSync(this.listening.socket, { force: true });
    this.listening = undefined;
  }
}

/** Whether something accepts connections on the Unix socket `path`. */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
