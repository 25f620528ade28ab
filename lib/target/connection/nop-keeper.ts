// NOP-Out answers and the target's own NOP-In pings on an idle connection (RFC 7143 §11.18-§11.19). A connection
// that leaves a ping unanswered is dropped, except while its member is stalled: a frozen controller neither
// pings nor notices silence.
import type { NopOut } from '../../wire/bhs';
import type { ReceivedPdu } from '../../wire/deframer';
import { Opcode, RESERVED_TAG } from '../../wire/opcodes';
import type { TargetConnection } from '../target-connection';

export class NopKeeper {
  private timer?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private pendingTtt?: number;

  constructor(private readonly c: TargetConnection, private readonly allocateTtt: () => number) {}

  nopOut(bhs: NopOut, pdu: ReceivedPdu): void {
    const c = this.c;
    if (bhs.itt === RESERVED_TAG) {
      // The answer to our ping (or a plain ExpStatSN update): nothing to send back.
      if (bhs.ttt !== RESERVED_TAG && bhs.ttt === this.pendingTtt) this.answered();
      return;
    }
    if (!bhs.immediate && !c.window!.accept(bhs.cmdSN)) return;
    const echo = pdu.data && pdu.data.length > 0 ? Buffer.from(pdu.data) : undefined;
    c.send({ opcode: Opcode.NopIn, lun: bhs.lun, itt: bhs.itt, ttt: RESERVED_TAG, statSN: c.statSN++, ...c.windowFields() }, echo);
  }

  arm(): void {
    const interval = this.c.host.nopInterval;
    if (!interval || this.c.phase !== 'full-feature') return;
    this.timer = setTimeout(() => this.ping(), interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.deadline) clearTimeout(this.deadline);
  }

  private ping(): void {
    const c = this.c;
    if (c.phase !== 'full-feature') return;
    // Only ping an idle connection: any PDU received counts as a sign of life. A stalled member pings nobody.
    if (Date.now() - c.lastReceived < c.host.nopInterval || c.host.hold.active) return this.arm();
    const ttt = (0x80000000 | this.allocateTtt()) >>> 0; // high bit set: ping tags never collide with R2T tags
    this.pendingTtt = ttt;
    c.send({ opcode: Opcode.NopIn, lun: 0, itt: RESERVED_TAG, ttt, statSN: c.statSN, ...c.windowFields() });
    this.deadline = setTimeout(() => {
      if (this.pendingTtt !== ttt) return;
      if (c.host.hold.active) return this.answered();
      c.emit('warning', new Error(`no answer to NOP-In ping within ${c.host.nopTimeout} ms: dropping the connection`));
      c.drop();
    }, c.host.nopTimeout);
    this.deadline.unref();
  }

  private answered(): void {
    this.pendingTtt = undefined;
    if (this.deadline) clearTimeout(this.deadline);
    this.arm();
  }
}
