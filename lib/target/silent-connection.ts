// A connection accepted but silent so far: Node's socket and one timer, no deframer, no buffers, no pump. The
// target builds the TargetConnection when the first bytes arrive, so connections that never send cost next to
// nothing and a flood of them can be held, evicted and timed out cheaply.
import type * as net from 'node:net';

export class SilentConnection {
  readonly acceptedAt = Date.now();
  readonly remoteAddress?: string;
  private readonly timer: NodeJS.Timeout;
  private settled = false;

  /**
   * `speaks` gets the first bytes, synchronously in Node's read callback: whoever takes the socket over then must
   * do so before returning (nothing is read in between). `gone` is called when it closes or times out silent.
   */
  constructor(private readonly socket: net.Socket, timeoutMs: number, speaks: (first: Buffer) => void, gone: () => void) {
    this.remoteAddress = socket.remoteAddress;
    this.timer = setTimeout(() => this.drop(), timeoutMs);
    this.timer.unref();
    socket.on('error', () => { /* a reset while silent: 'close' follows */ });
    socket.once('close', () => {
      if (this.settled) return;
      this.settled = true;
      clearTimeout(this.timer);
      gone();
    });
    socket.once('data', (first: Buffer) => {
      if (this.settled) return;
      this.settled = true;
      clearTimeout(this.timer);
      speaks(first);
    });
  }

  drop(): void { this.socket.destroy(); }
}
