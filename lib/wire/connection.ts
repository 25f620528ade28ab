// One iSCSI TCP connection at the PDU level: framing in, framing out, digests, direct placement of task payload.
// It knows nothing of sessions or logins; the initiator's session layer and the embedded target both sit on it.
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { type BhsInit, encodeLun } from './bhs';
import { connectBound, type ConnectOptions } from './bound-socket';
import { Deframer, type DeframerRole, type DeframerStats, type FastPath, type ReceivedPdu } from './deframer';
import { allocHeader, type Digests, encodeHeader, frameInto } from './framer';
import { flightBoundMs } from './flight-bound';
import { BURST_WORDS, type InFlight, NativeSocket } from './native-socket';
import { BHS_LENGTH } from './opcodes';

/** One Data-Out sequence (RFC 7143 §11.7): DataSN from 0, F on the last PDU, segments of at most `maxSegment`. */
export interface DataOutBurst {
  itt: number;
  lun: number;
  /** The R2T's Target Transfer Tag, or RESERVED_TAG for unsolicited data. */
  ttt: number;
  expStatSN: number;
  /** The write's whole buffer: the burst is bytes offset..offset+length of it, sent from it without a copy. */
  buffer: Buffer;
  offset: number;
  length: number;
  /** The target's MaxRecvDataSegmentLength. */
  maxSegment: number;
}

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
  private readonly socket: NativeSocket;
  private readonly digests: Digests = { headerDigest: false, dataDigest: false };
  private readonly sent: SendStats = { pdus: 0, bytes: 0 };
  /** What this tick sent, written with one writev when the tick ends. */
  private outbox: Buffer[] = [];
  /** This tick's Data-Out bursts, framed natively at the flush (native-socket.ts BURST_WORDS words each). */
  private bursts = new Uint32Array(BURST_WORDS * 64);
  private burstCount = 0;
  private readonly lunBytes = Buffer.alloc(8);
  private flushScheduled = false;
  private waitingForDrain = false;
  private closed = false;
  private destroyed = false;

  /** Takes over a socket Node connected or accepted (NativeSocket). */
  private constructor(deframer: Deframer, socket: net.Socket, coalesce: boolean) {
    super();
    this.deframer = deframer;
    socket.setNoDelay(true);
    this.socket = new NativeSocket(socket, deframer, {
      read: (result) => {
        deframer.delivered(result);
        if (deframer.error) this.fail(deframer.error);
      },
      drain: () => {
        this.waitingForDrain = false;
        this.emit('drain');
      },
      close: (error) => {
        if (error) this.fail(error);
        else this.markClosed();
      },
    }, coalesce);
  }

  /** Initiator side: connects from the chosen adapter; reads land in staging or straight in task buffers. */
  static async connect(options: ConnectOptions & PduConnectionOptions): Promise<PduConnection> {
    const deframer = new Deframer(options.role, (pdu) => connection.receive(pdu), options.stagingSize);
    // An initiator's registered reads are all coming: wakeups can wait for half of them.
    const connection: PduConnection = new PduConnection(deframer, await connectBound(options), true);
    return connection;
  }

  /** Target side: a socket accepted by a net.Server. */
  static accept(socket: net.Socket, options: PduConnectionOptions): PduConnection {
    const deframer = new Deframer(options.role, (pdu) => connection.receive(pdu), options.stagingSize);
    const connection: PduConnection = new PduConnection(deframer, socket, false);
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

  /** A handler that sees PDUs before they are decoded and may consume them (Deframer FastPath); 'pdu' gets the rest. */
  setFastPath(handler: FastPath | undefined): void { this.deframer.fastPath = handler; }

  /**
   * How many commands await their status (initiator): the pump wakes once half of their 48-byte responses (and of
   * the registered read payload) has come, rather than once per response of a write load.
   */
  setAwaitingStatus(count: (() => number) | undefined): void { this.awaitingStatus = count; }
  private awaitingStatus: (() => number) | undefined;

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
    return this.queue(encodeHeader(bhs, this.digests, ahs), ahs?.length ?? 0, data);
  }

  /** A header buffer (allocHeader) for sendEncoded(), sized for this connection's digests. */
  allocHeader(): Buffer { return allocHeader(this.digests); }

  /** send() for a BHS the caller wrote into `header` itself (the hot path's SCSI Commands), without AHS. */
  sendEncoded(header: Buffer, data?: Buffer): boolean { return this.queue(header, 0, data); }

  /**
   * Sends a whole Data-Out sequence: the addon frames its PDUs from `b.buffer` when the tick's writes go out, in
   * order with the other PDUs of the tick (no header encoded or allocated here per PDU). Same return as send().
   */
  sendDataOut(b: DataOutBurst): boolean {
    if (b.length <= 0) return !this.waitingForDrain;
    if (!(b.maxSegment > 0) || b.offset < 0 || b.offset + b.length > b.buffer.length) {
      throw new RangeError(`a Data-Out burst of ${b.length} bytes at ${b.offset} outside its ${b.buffer.length}-byte buffer, or segments of ${b.maxSegment}`);
    }
    let w = this.burstCount * BURST_WORDS;
    if (w + BURST_WORDS > this.bursts.length) {
      const grown = new Uint32Array(this.bursts.length * 2);
      grown.set(this.bursts);
      this.bursts = grown;
    }
    encodeLun(b.lun, this.lunBytes, 0);
    const words = this.bursts;
    words[w++] = this.outbox.length;
    words[w++] = b.itt;
    words[w++] = this.lunBytes.readUInt32BE(0);
    words[w++] = this.lunBytes.readUInt32BE(4);
    words[w++] = b.ttt;
    words[w++] = b.expStatSN;
    words[w++] = b.offset;
    words[w++] = b.length;
    words[w++] = b.maxSegment;
    words[w] = (this.digests.headerDigest ? 1 : 0) | (this.digests.dataDigest ? 2 : 0);
    this.burstCount++;
    this.outbox.push(b.buffer);
    const pdus = Math.ceil(b.length / b.maxSegment);
    const perPdu = BHS_LENGTH + (this.digests.headerDigest ? 4 : 0) + (this.digests.dataDigest ? 4 : 0);
    const lastPadding = (4 - ((b.length - (pdus - 1) * b.maxSegment) % 4)) % 4;
    const fullPadding = (4 - (b.maxSegment % 4)) % 4;
    this.sent.bytes += pdus * perPdu + b.length + (pdus - 1) * fullPadding + lastPadding;
    this.sent.pdus += pdus;
    return this.scheduleFlush();
  }

  private queue(header: Buffer, ahsLength: number, data: Buffer | readonly Buffer[] | undefined): boolean {
    this.sent.bytes += frameInto(this.outbox, header, ahsLength, data, this.digests);
    this.sent.pdus++;
    return this.scheduleFlush();
  }

  private scheduleFlush(): boolean {
    if (!this.flushScheduled) {
      // Everything sent in this tick leaves in one writev: at queue depth 32 a write syscall per command costs more
      // than the commands themselves (on loopback each write also runs the peer's receive path).
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    return !this.waitingForDrain;
  }

  private readonly flush = () => {
    this.flushScheduled = false;
    const buffers = this.outbox;
    if (buffers.length === 0 || this.closed) return;
    this.outbox = [];
    const bursts = this.burstCount;
    this.burstCount = 0;
    if (!this.socket.writev(buffers, this.bursts, bursts, this.awaitingStatus?.())) this.waitingForDrain = true;
  };

  get isClosed(): boolean { return this.closed; }
  /**
   * True from the moment the connection failed, was destroyed or closed, before 'close' is emitted: a layer that
   * takes the connection over after an await (the session after the login) checks this, since the events it would
   * have listened for may already have gone by.
   */
  get ended(): boolean { return this.closed || this.destroyed; }
  /** Why the connection ended, when it was not a clean close (a framing violation, a socket error). */
  get failure(): Error | undefined { return this.failureValue; }
  get localAddress(): string | undefined { return this.socket.endpoints.localAddress; }
  get localPort(): number | undefined { return this.socket.endpoints.localPort; }
  get remoteAddress(): string | undefined { return this.socket.endpoints.remoteAddress; }
  get remotePort(): number | undefined { return this.socket.endpoints.remotePort; }

  /** Stops reading from the socket, or starts again: the peer sees a process that hung (fault injection). */
  setReading(reading: boolean): void { this.socket.setReading(reading); }

  stats(): { received: DeframerStats; sent: SendStats } {
    return { received: this.deframer.stats(), sent: { ...this.sent } };
  }

  /** Graceful: flushes what was sent, then closes. */
  close(): void {
    this.flush();
    this.socket.end();
  }

  destroy(error?: Error): void { this.close_(error, false); }

  /**
   * destroy() with an RST: the kernel discards what it has not sent yet, so nothing queued here can reach the peer
   * afterwards (a path declared dead must not deliver a WRITE after it was re-driven elsewhere). What had already
   * left may still be on its way, in a slow link's queue: returns how long it may yet take to arrive, in ms
   * (flightBoundMs), 0 when TCP had everything acknowledged.
   */
  abort(error?: Error): number { return flightBoundMs(this.close_(error, true)); }

  private close_(error: Error | undefined, abortive: boolean): InFlight | undefined {
    if (this.destroyed) return undefined;
    this.destroyed = true;
    if (error) this.failureValue ??= error;
    const inFlight = this.socket.destroy(abortive);
    // Like a Node socket: 'error' and 'close' come after the current tick.
    process.nextTick(() => {
      if (error && this.listenerCount('error') > 0) this.emit('error', error);
      this.markClosed();
    });
    return inFlight;
  }

  private receive(pdu: ReceivedPdu): void { this.emit('pdu', pdu); }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox = [];
    this.burstCount = 0;
    this.emit('close');
  }

  private failureValue?: Error;
  private fail(error: Error): void {
    if (this.failureValue) return;
    this.failureValue = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.destroy();
  }
}
