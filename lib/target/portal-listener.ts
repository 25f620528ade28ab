// A TCP listener that can be taken down and brought back up on the same address and port, for member-down
// emulation: down closes the listener (new connections are refused) and drops every connection it accepted.
import net from 'node:net';

export class PortalListener {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port: number;

  constructor(readonly address: string, port: number, private readonly onConnection: (socket: net.Socket) => void) {
    this.port = port;
  }

  get listening(): boolean { return this.server !== undefined; }

  async listen(): Promise<void> {
    if (this.server) return;
    const server = net.createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.onConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => reject(new Error(`cannot listen on ${this.address}:${this.port}: ${error.message}`));
      server.once('error', failed);
      server.listen({ host: this.address, port: this.port, exclusive: true }, () => {
        server.off('error', failed);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Stops accepting and drops every open connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
