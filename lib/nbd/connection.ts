// One client connection: the handshake (handshake.ts), then the transmission phase. Requests are served
// concurrently and answered as they complete (simple replies, any order, as NBD allows). Reads from the socket go
// where the protocol needs them (direct-reads.ts): request headers into small fresh buffers, and once a write's
// header is in, the rest of its payload straight into the pooled buffer the device sends from (only the payload
// bytes that came with the header read are copied). A read's reply goes out as the header and the device's own
// buffer in one writev (cork/uncork), no copy. A socket that cannot read directly falls back to 'data' chunks.
import type net from 'node:net';
import { BufferPool } from './buffer-pool';
import { ByteQueue } from './byte-queue';
import { CMD, CMD_FLAG, NBD_ERRNO, REQUEST_HEADER_BYTES } from './constants';
import type { NbdExport } from './export';
import type { DirectReader } from './direct-reads';
import { negotiate } from './handshake';
import { decodeRequest, encodeSimpleReply, type NbdRequest } from './requests';

/** Past this many bytes of requests in flight the socket is paused, so a fast client cannot take all memory. */
const MAX_INFLIGHT_BYTES = 128 * 1024 * 1024;
const MAX_INFLIGHT_REQUESTS = 512;
/** How much a read may take when no payload is expected: request headers (28 bytes each) in batches. */
export const HEADER_READ_BYTES = 1024;
/** Request buffers kept for reuse per connection (a queue of 32 × 64 KiB needs 2 MiB). */
const POOL_BYTES = 32 * 1024 * 1024;

export interface ConnectionHooks {
  find(name: string): NbdExport | undefined;
  list(): NbdExport[];
  /** Something went wrong that the client should not have done (a bad magic, an oversized write). */
  onProtocolError(error: Error): void;
}

export class NbdConnection implements DirectReader {
  private readonly queue = new ByteQueue();
  private readonly pool = new BufferPool(POOL_BYTES);
  private waiting?: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void };
  private exp?: NbdExport;
  /** A write whose header came and whose payload is still arriving. */
  private pending?: { request: NbdRequest; payload: Buffer; filled: number; pooled: boolean };
  private inflight = 0;
  private inflightBytes = 0;
  private draining = false;
  private closed = false;
  private readonly idle: Array<() => void> = [];

  /** `direct`: the socket reads through nextBuffer()/onRead() (direct-reads.ts) rather than 'data' events. */
  constructor(readonly socket: net.Socket, private readonly hooks: ConnectionHooks, direct = false) {
    socket.setNoDelay(true);
    if (!direct) socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', () => undefined); // a reset client: 'close' follows
    socket.on('close', () => this.ended());
    void this.handshake();
  }

  /** Stops taking requests, lets the in-flight ones finish and answer, then ends the connection. */
  drain(): Promise<void> {
    this.draining = true;
    this.socket.pause();
    if (!this.exp || this.inflight === 0) { this.socket.end(); }
    return this.closed ? Promise.resolve() : new Promise((resolve) => { this.idle.push(resolve); });
  }

  private async handshake(): Promise<void> {
    try {
      const chosen = await negotiate({ read: (n) => this.read(n), write: (b) => { this.socket.write(b); } }, this.hooks.find, this.hooks.list);
      if (!chosen || this.draining) { this.socket.end(); return; }
      this.exp = chosen.export;
      this.serve();
    } catch (error) {
      if (!this.closed) this.hooks.onProtocolError(error as Error);
      this.socket.destroy();
    }
  }

  private read(n: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('the client went away'));
    if (this.queue.length >= n) return Promise.resolve(this.queue.take(n));
    return new Promise((resolve, reject) => { this.waiting = { n, resolve, reject }; });
  }

  nextBuffer(): Buffer {
    const p = this.pending;
    // The rest of a write's payload, read by the kernel into the buffer the device will send from.
    if (p && this.queue.length === 0) return p.payload.subarray(p.filled);
    return Buffer.allocUnsafe(HEADER_READ_BYTES);
  }

  onRead(n: number, buffer: Buffer): boolean {
    const p = this.pending;
    if (p && this.queue.length === 0 && buffer.buffer === p.payload.buffer && buffer.byteOffset === p.payload.byteOffset + p.filled) {
      p.filled += n;
      if (p.filled === p.payload.length) {
        this.pending = undefined;
        this.start(this.exp!, p.request, p.payload, true);
        this.serve();
      }
    } else {
      this.received(buffer.subarray(0, n));
    }
    return !this.socket.isPaused();
  }

  private received(chunk: Buffer): void {
    this.queue.push(chunk);
    if (this.exp) { this.serve(); return; }
    const w = this.waiting;
    if (w && this.queue.length >= w.n) {
      this.waiting = undefined;
      w.resolve(this.queue.take(w.n));
    }
  }

  private ended(): void {
    this.closed = true;
    this.waiting?.reject(new Error('the client went away'));
    this.waiting = undefined;
    if (this.inflight === 0) this.settleIdle();
  }

  private settleIdle(): void {
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Takes every complete request off the queue and starts it. */
  private serve(): void {
    const exp = this.exp!;
    while (!this.closed && !this.draining) {
      if (this.pending) {
        const p = this.pending;
        p.filled += this.queue.fill(p.payload, p.filled, p.payload.length - p.filled);
        if (p.filled < p.payload.length) return;
        this.pending = undefined;
        this.start(exp, p.request, p.payload, true);
        continue;
      }
      if (this.queue.length < REQUEST_HEADER_BYTES) return;
      let request: NbdRequest;
      try {
        request = decodeRequest(this.queue.take(REQUEST_HEADER_BYTES));
      } catch (error) {
        this.fatal(error as Error);
        return;
      }
      if (request.type === CMD.WRITE) {
        if (request.length > exp.maxPayload) {
          // Its payload cannot be skipped safely without reading it all: the stream is given up.
          this.fatal(new Error(`a write of ${request.length} bytes is over the export's maximum of ${exp.maxPayload}`));
          return;
        }
        if (this.queue.contiguous(request.length)) {
          this.start(exp, request, this.queue.take(request.length));
        } else {
          this.pending = { request, payload: this.pool.take(request.length), filled: 0, pooled: true };
        }
        continue;
      }
      if (request.type === CMD.DISC) {
        this.draining = true;
        if (this.inflight === 0) this.socket.end();
        return;
      }
      this.start(exp, request);
    }
  }

  private fatal(error: Error): void {
    this.hooks.onProtocolError(error);
    this.socket.destroy();
  }

  /** `pooled`: the payload is the pool's, to be given back once the device is done with it. */
  private start(exp: NbdExport, request: NbdRequest, payload?: Buffer, pooled = false): void {
    const bytes = request.type === CMD.READ || request.type === CMD.WRITE ? request.length : 0;
    this.inflight++;
    this.inflightBytes += bytes;
    if (this.inflight >= MAX_INFLIGHT_REQUESTS || this.inflightBytes >= MAX_INFLIGHT_BYTES) this.socket.pause();
    const errno = this.check(exp, request);
    if (errno !== 0) {
      if (pooled) this.pool.release(payload!);
      this.reply(request, bytes, errno);
      return;
    }
    const fua = (request.flags & CMD_FLAG.FUA) !== 0;
    const done = (e?: number) => this.reply(request, bytes, e ?? 0);
    switch (request.type) {
      case CMD.READ: {
        const into = this.pool.take(request.length);
        exp.read(request.offset, into, (e) => this.reply(request, bytes, e ?? 0, into));
        return;
      }
      case CMD.WRITE:
        exp.write(request.offset, payload!, fua, (e) => {
          if (pooled) this.pool.release(payload!);
          done(e);
        });
        return;
      case CMD.FLUSH: exp.flush!(done); return;
      case CMD.WRITE_ZEROES: exp.writeZeroes!(request.offset, request.length, fua, done); return;
      case CMD.TRIM: exp.trim!(request.offset, request.length, done); return;
      default: done(NBD_ERRNO.EINVAL);
    }
  }

  /** 0, or the errno a request gets without reaching the export. */
  private check(exp: NbdExport, r: NbdRequest): number {
    const ranged = r.type === CMD.READ || r.type === CMD.WRITE || r.type === CMD.WRITE_ZEROES || r.type === CMD.TRIM;
    if (r.type === CMD.FLUSH) return exp.flush ? 0 : NBD_ERRNO.EINVAL;
    if (!ranged) return NBD_ERRNO.EINVAL; // CACHE, BLOCK_STATUS and unknown commands were not advertised
    if (r.type === CMD.WRITE_ZEROES && !exp.writeZeroes) return NBD_ERRNO.EINVAL;
    if (r.type === CMD.TRIM && !exp.trim) return NBD_ERRNO.EINVAL;
    if (r.type !== CMD.READ && exp.readOnly) return NBD_ERRNO.EPERM;
    if (r.length === 0) return NBD_ERRNO.EINVAL;
    if ((r.type === CMD.READ) && r.length > exp.maxPayload) return NBD_ERRNO.EOVERFLOW;
    if (r.offset % exp.blockSize !== 0 || r.length % exp.blockSize !== 0) return NBD_ERRNO.EINVAL;
    if (r.offset + r.length > exp.size) return r.type === CMD.READ ? NBD_ERRNO.EINVAL : NBD_ERRNO.ENOSPC;
    return 0;
  }

  private reply(request: NbdRequest, bytes: number, errno: number, data?: Buffer): void {
    this.inflight--;
    this.inflightBytes -= bytes;
    if (this.closed) {
      if (this.inflight === 0) this.settleIdle();
      return;
    }
    const header = encodeSimpleReply(request.handle, errno);
    if (data && errno === 0) {
      // One writev for header and data, straight from the buffer the device read into; the buffer goes back to the
      // pool once the kernel has it.
      this.socket.cork();
      this.socket.write(header);
      this.socket.write(data, (error) => { if (!error) this.pool.release(data); });
      this.socket.uncork();
    } else {
      if (data) this.pool.release(data);
      this.socket.write(header);
    }
    if (this.draining) {
      if (this.inflight === 0) this.socket.end();
    } else if (this.socket.isPaused() && this.inflight < MAX_INFLIGHT_REQUESTS / 2 && this.inflightBytes < MAX_INFLIGHT_BYTES / 2) {
      this.socket.resume();
    }
  }
}
