// A TCP listener that can be taken down and brought back up on the same address and port, for member-down
// emulation: down closes the listener, so new connections are refused. The accepted connections belong to whoever
// took them (each hands its socket to the native pump at once): the member portal and the target drop those.
import * as net from 'node:net';

export class PortalListener {
  private server?: net.Server;
  port: number;

  constructor(readonly address: string, port: number, private readonly onConnection: (socket: net.Socket) => void) {
    this.port = port;
  }

  get listening(): boolean { return this.server !== undefined; }

  async listen(): Promise<void> {
    if (this.server) return;
    const server = net.createServer({ noDelay: true }, this.onConnection);
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

  /** Stops accepting. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
