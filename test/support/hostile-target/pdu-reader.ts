// Initiator PDUs off a raw socket, for the hostile target: BHS, AHS, header digest, data, padding, data digest.
// Digests are checked (a target that cannot tell our PDUs apart would prove nothing) and switched on by the caller
// once the login negotiated them. PDUs wait in a queue so a script can take the one it wants (a Data-Out) and leave
// the rest (commands that crossed it) in order.
import type net from 'node:net';
import { type Bhs, decodeBhs } from '../../../lib/wire/bhs';
import { crc32c } from '../../../lib/wire/crc32c';

export interface InitiatorPdu { bhs: Bhs; data: Buffer }

export class PduReader {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly queue: InitiatorPdu[] = [];
  private readonly waiters = new Set<() => void>();
  headerDigest = false;
  dataDigest = false;
  closed = false;
  error?: Error;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => undefined);
  }

  /** The first queued PDU that `match` accepts (default: any), waiting up to `timeoutMs`; undefined once closed. */
  async take(match: (pdu: InitiatorPdu) => boolean = () => true, timeoutMs = 10_000): Promise<InitiatorPdu | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex(match);
      if (i >= 0) return this.queue.splice(i, 1)[0];
      if (this.closed || this.error) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`hostile target: no matching initiator PDU within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void { clearTimeout(timer); resolve(); }
        this.waiters.add(done);
      });
    }
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  private parse(): void {
    for (;;) {
      const b = this.buffered;
      if (b.length < 48) break;
      const ahs = b[4] * 4;
      const dataLength = (b[5] << 16) | (b[6] << 8) | b[7];
      const headerEnd = 48 + ahs + (this.headerDigest ? 4 : 0);
      const pad = (4 - (dataLength % 4)) % 4;
      const total = headerEnd + (dataLength > 0 ? dataLength + pad + (this.dataDigest ? 4 : 0) : 0);
      if (b.length < total) break;
      if (this.headerDigest && crc32c(b.subarray(0, 48 + ahs)) !== b.readUInt32LE(48 + ahs)) {
        this.error = new Error('hostile target: the initiator sent a bad header digest');
        break;
      }
      const data = Buffer.from(b.subarray(headerEnd, headerEnd + dataLength));
      if (this.dataDigest && dataLength > 0) {
        const crc = crc32c(b.subarray(headerEnd, headerEnd + dataLength + pad));
        if (crc !== b.readUInt32LE(headerEnd + dataLength + pad)) {
          this.error = new Error('hostile target: the initiator sent a bad data digest');
          break;
        }
      }
      this.queue.push({ bhs: decodeBhs(b), data });
      this.buffered = b.subarray(total);
    }
    this.wake();
  }
}
