// A PDU connection's socket once Node has connected (initiator) or accepted (target) it: the addon's pump
// (native/socket_pump.cc) reads into the deframer and writes each tick's PDUs with one sendmsg, on the JS thread but
// without Node's stream layer, which cost more JavaScript per read and per write than a 4 KiB I/O itself. Node still
// makes the connection (connectBound: lookup, timeout, typed errors); the pump then works on a duplicate of the fd
// and Node's socket is closed.
import type * as net from 'node:net';
import { native } from '../native';
import type { Deframer } from './deframer';

export interface SocketEndpoints {
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
  remotePort?: number;
}

export interface NativeSocketEvents {
  /** The pump's read completed PDUs: `result` is the deframer's batch result (Deframer.delivered). */
  read(result: number): void;
  /** Everything queued went out. */
  drain(): void;
  /** The peer closed (error undefined) or the socket failed. Not called after destroy(). */
  close(error?: NodeJS.ErrnoException): void;
}

/** Words per Data-Out burst descriptor given to writev (native/socket_pump.cc kBurstWords, same order). */
export const BURST_WORDS = 10;

/** What TCP knew just before an abortive close: bytes sent and not yet acknowledged, and its round-trip estimate. */
export interface InFlight {
  unackedBytes: number;
  srttUs: number;
  rttvarUs: number;
  /** The retransmission timeout without backoff. */
  rtoUs: number;
  /** The most recent delivery rate TCP measured (bytes/s; 0 before any). */
  deliveryRate: number;
}

interface SocketPump {
  writev(buffers: Buffer[], bursts?: Uint32Array, burstCount?: number, awaitingStatus?: number): boolean;
  end(): void;
  destroy(abortive?: boolean): InFlight | undefined;
  setReading(reading: boolean): void;
}

export class NativeSocket {
  readonly endpoints: SocketEndpoints;
  private readonly pump: SocketPump;

  /**
   * Takes over `socket` (connected by Node): from here on the pump does all I/O; Node's handle is closed.
   * `coalesce`: wake only once half the payload of the registered tasks has come (an initiator's reads).
   */
  constructor(socket: net.Socket, deframer: Deframer, events: NativeSocketEvents, coalesce: boolean) {
    this.endpoints = { localAddress: socket.localAddress, localPort: socket.localPort, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort };
    const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
    // The pump lets go of these callbacks (and the deframer) when it closes: held by persistent references past the
    // close, they would keep the connection and its buffers alive for good (native/socket_pump.cc Shut()).
    this.pump = new native.SocketPump(fd, deframer.binding, events.read, events.drain, (code: string | null, message: string | null) => {
      events.close(code === null ? undefined : Object.assign(new Error(message ?? code), { code }));
    }, coalesce);
    socket.destroy();
  }

  /**
   * One sendmsg for all of `buffers` (unchanged until sent); false when part waits for 'drain'. The first
   * `burstCount` descriptors of `bursts` each turn one of the buffers into the Data-Out PDUs framed from it
   * (PduConnection.sendDataOut). `awaitingStatus`: commands outstanding, for the wakeup coalescing.
   */
  writev(buffers: Buffer[], bursts?: Uint32Array, burstCount = 0, awaitingStatus?: number): boolean {
    return this.pump.writev(buffers, bursts, burstCount, awaitingStatus);
  }
  /** Shuts the write side once everything queued is sent; close() follows when the peer closes. */
  end(): void { this.pump.end(); }
  /** Stops (false) or resumes reading; writing goes on. */
  setReading(reading: boolean): void { this.pump.setReading(reading); }
  /**
   * Stops all I/O and closes the fd at once; `abortive`: with an RST, discarding whatever the kernel has not sent,
   * and returning what had been sent without an acknowledgement yet (it may still reach the peer).
   */
  destroy(abortive = false): InFlight | undefined { return this.pump.destroy(abortive); }
}
