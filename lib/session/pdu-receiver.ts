// Awaitable PDUs for the request/response phases (login, discovery text): copies each PDU off the connection so
// it outlives the deframer's callback, and turns close/error/silence into rejections instead of hangs.
import type { PduConnection } from '../wire/connection';
import type { Bhs } from '../wire/bhs';
import { PathError, SessionProtocolError } from './errors';

export interface KeptPdu { bhs: Bhs; data: Buffer }

export class PduReceiver {
  private readonly queue: KeptPdu[] = [];
  private waiter?: { resolve: (p: KeptPdu) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private failure?: Error;
  private readonly onPdu = (pdu: { bhs: Bhs; data: Buffer | null }) => {
    this.push({ bhs: pdu.bhs, data: pdu.data ? Buffer.from(pdu.data) : Buffer.alloc(0) });
  };
  private readonly onError = (error: Error) => this.fail(new PathError(`connection failed: ${error.message}`, 'ECONNLOST', error));
  private readonly onClose = () => this.fail(new PathError('the target closed the connection', 'ECONNLOST'));

  constructor(private readonly connection: PduConnection) {
    connection.on('pdu', this.onPdu);
    connection.on('error', this.onError);
    connection.on('close', this.onClose);
  }

  /** The next PDU, or a rejection after `timeoutMs` of silence or when the connection ends. */
  next(timeoutMs: number, what: string): Promise<KeptPdu> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new SessionProtocolError(`no ${what} within ${timeoutMs} ms`, 'ETIMEDOUT'));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Stops listening; the connection's PDUs go to whoever subscribes next. */
  detach(): void {
    this.connection.off('pdu', this.onPdu);
    this.connection.off('error', this.onError);
    this.connection.off('close', this.onClose);
  }

  private push(pdu: KeptPdu): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(pdu);
    } else {
      this.queue.push(pdu);
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.reject(error);
    }
  }
}
