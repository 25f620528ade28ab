// Text Requests in Full Feature Phase (RFC 7143 §11.10-§11.11): SendTargets, and NotUnderstood for any other key.
// A text spread over C=1 continuations is gathered up to the maxTextBytes cap: each part gets an empty Text
// Response with a Target Transfer Tag the next part must carry; past the cap the connection is Rejected and closed.
import type { TextRequest } from '../../wire/bhs';
import type { ReceivedPdu } from '../../wire/deframer';
import { Opcode, RESERVED_TAG } from '../../wire/opcodes';
import { decodeTextPairs, encodeText, TextAssembler, type TextPair } from '../../protocol/text';
import { REJECT_INVALID_PDU_FIELD, REJECT_PROTOCOL_ERROR } from '../write-task';
import type { TargetConnection } from '../target-connection';

const REJECT_COMMAND_NOT_SUPPORTED = 0x05;

export class TextExchange {
  private readonly assembler: TextAssembler;
  /** The TTT the next part of a continued text must carry. */
  private continuation?: { itt: number; ttt: number };

  constructor(private readonly c: TargetConnection, maxTextBytes: number, private readonly allocateTtt: () => number) {
    this.assembler = new TextAssembler(maxTextBytes);
  }

  request(bhs: TextRequest, pdu: ReceivedPdu): void {
    const c = this.c;
    if (!bhs.immediate && !c.window!.accept(bhs.cmdSN)) return;
    const expected = this.continuation;
    if (expected ? bhs.itt !== expected.itt || bhs.ttt !== expected.ttt : bhs.ttt !== RESERVED_TAG) {
      return c.reject(bhs, REJECT_INVALID_PDU_FIELD, true);
    }
    let text: Buffer | undefined;
    try {
      text = this.assembler.push(pdu.data ? Buffer.from(pdu.data) : Buffer.alloc(0), bhs.cont);
    } catch (error) {
      c.emit('warning', error);
      return c.reject(bhs, REJECT_PROTOCOL_ERROR, true);
    }
    if (text === undefined) {
      this.continuation = { itt: bhs.itt, ttt: this.allocateTtt() };
      c.send({ opcode: Opcode.TextResponse, final: false, cont: false, lun: 0, itt: bhs.itt, ttt: this.continuation.ttt, statSN: c.statSN++, ...c.windowFields() });
      return;
    }
    this.continuation = undefined;
    let pairs: TextPair[];
    try {
      pairs = decodeTextPairs(text);
    } catch {
      return c.reject(bhs, REJECT_PROTOCOL_ERROR, true);
    }
    const answer: Buffer[] = [];
    for (const [key, value] of pairs) {
      if (key === 'SendTargets') answer.push(c.host.sendTargets(value, c.outcome!.sessionType));
      else answer.push(encodeText([[key, 'NotUnderstood']]));
    }
    const data = Buffer.concat(answer);
    if (data.length > c.params!.initiatorMaxRecvDataSegmentLength) return c.reject(bhs, REJECT_COMMAND_NOT_SUPPORTED, false);
    c.send({ opcode: Opcode.TextResponse, final: true, cont: false, lun: 0, itt: bhs.itt, ttt: RESERVED_TAG, statSN: c.statSN++, ...c.windowFields() }, data);
  }
}
