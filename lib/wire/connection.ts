// One iSCSI TCP connection at the PDU level: framing in, framing out, digests, direct placement of task payload.
// It knows nothing of sessions or logins; the initiator's session layer and the embedded target both sit on it.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { BhsInit } from './bhs';
import { connectBound, type ConnectOptions } from './bound-socket';
import { Deframer, type DeframerRole, type DeframerStats, type ReceivedPdu } from './deframer';
import { type Digests, framePdu } from './framer';

export interface PduConnectionOptions {
  role: DeframerRole;
  /** Staging buffer for reads; also the most bytes one read takes. */
  stagingSize?: number;
}

export interface SendStats {
  pdus: number;
  bytes: number;
}

/**
 * Events: 'pdu' (ReceivedPdu, synchronously from the read; copy `data` to keep it unless `placed`), 'error'
 * (ProtocolError from the framer, or a socket error), 'close', 'drain'.
 */
export class PduConnection extends EventEmitter {
  readonly deframer: Deframer;
  private readonly digests: Digests = { headerDigest: false, dataDigest: false };
  private readonly sent: SendStats = { pdus: 0, bytes: 0 };
  private closed = false;

  /** Wraps a socket already carrying the deframer's onread (from connect()), or a plain one fed by 'data' events. */
  private constructor(readonly socket: net.Socket, deframer: Deframer, fedByDataEvents: boolean) {
    super();
    this.deframer = deframer;
    if (fedByDataEvents) {
      socket.on('data', (chunk: Buffer) => {
        this.deframer.feed(chunk);
        if (this.deframer.error) this.fail(this.deframer.error);
      });
    }
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
    socket.on('drain', () => this.emit('drain'));
  }

  /** Initiator side: connects from the chosen adapter; reads land in staging or straight in task buffers. */
  static async connect(options: ConnectOptions & PduConnectionOptions): Promise<PduConnection> {
    let connection: PduConnection | undefined;
    const deframer = new Deframer(options.role, (pdu) => connection!.receive(pdu), options.stagingSize);
    const socket = await connectBound({
      ...options,
      onread: {
        buffer: () => deframer.nextReadBuffer(),
        callback: (n: number) => {
          deframer.commitRead(n);
          if (deframer.error) connection!.fail(deframer.error);
          return true;
        },
      },
    });
    connection = new PduConnection(socket, deframer, false);
    return connection;
  }

  /** Target side: a socket accepted by a net.Server (Node gives no onread there, so chunks are fed as they come). */
  static accept(socket: net.Socket, options: PduConnectionOptions): PduConnection {
    let connection: PduConnection | undefined;
    const deframer = new Deframer(options.role, (pdu) => connection!.receive(pdu), options.stagingSize);
    connection = new PduConnection(socket, deframer, true);
    socket.setNoDelay(true);
    return connection;
  }

  /** Digests apply from the first PDU after the Login Response that ends the login (RFC 7143 §13.1). */
  setDigests(header: boolean, data: boolean): void {
    this.digests.headerDigest = header;
    this.digests.dataDigest = data;
    this.deframer.setDigests(header, data);
  }

  /** The MaxRecvDataSegmentLength we declared to the peer. */
  setMaxRecvDataSegmentLength(bytes: number): void { this.deframer.setMaxDataSegmentLength(bytes); }

  /** Payload of Data-In (initiator) / Data-Out (target) for `itt` lands in `buffer` at its Buffer Offset. */
  registerTask(itt: number, buffer: Buffer): void { this.deframer.registerTask(itt, buffer); }
  unregisterTask(itt: number): void { this.deframer.unregisterTask(itt); }

  /**
   * Sends one PDU: header (+AHS, header digest) and the caller's data buffers, with the other PDUs sent in the same
   * tick, as one writev; nothing is concatenated.
   * The buffers must stay unchanged until the write completes. Returns false when the socket buffer is full
   * (wait for 'drain' before sending much more).
   */
  send(bhs: BhsInit, data?: Buffer | readonly Buffer[], ahs?: Buffer): boolean {
    const segments = data === undefined ? [] : Buffer.isBuffer(data) ? [data] : data;
    const wire = framePdu(bhs, segments, this.digests, ahs);
    const socket = this.socket;
    if (!this.corked) {
      // Everything sent in this tick leaves in one writev: at queue depth 32 a write syscall per command costs more
      // than the commands themselves (on loopback each write also runs the peer's receive path).
      this.corked = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    for (const buffer of wire) {
      socket.write(buffer);
      this.sent.bytes += buffer.length;
    }
    this.sent.pdus++;
    return !socket.writableNeedDrain;
  }

  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.socket.uncork();
  };

  get isClosed(): boolean { return this.closed; }
  get localAddress(): string | undefined { return this.socket.localAddress; }
  get localPort(): number | undefined { return this.socket.localPort; }
  get remoteAddress(): string | undefined { return this.socket.remoteAddress; }
  get remotePort(): number | undefined { return this.socket.remotePort; }

  stats(): { received: DeframerStats; sent: SendStats } {
    return { received: this.deframer.stats(), sent: { ...this.sent } };
  }

  /** Graceful: flushes what was sent, then closes. */
  close(): void { this.socket.end(); }
  destroy(error?: Error): void { this.socket.destroy(error); }

  private receive(pdu: ReceivedPdu): void { this.emit('pdu', pdu); }

  private failed = false;
  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.socket.destroy();
  }
}
