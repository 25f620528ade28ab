// SendTargets discovery (RFC 7143 §13.3, Appendix C): a Discovery session, one Text Request `SendTargets=All`,
// the answer gathered over as many Text Responses as the target needs (C bit + Target Transfer Tag), logout.
import type { ChapInitiatorOptions } from '../protocol/chap';
import { parseSendTargets, type DiscoveredTarget } from '../protocol/discovery-text';
import { digestOffer, type OperationalValues } from '../protocol/negotiation';
import { encodeText, TextAssembler } from '../protocol/text';
import { Opcode, RESERVED_TAG } from '../wire/opcodes';
import { SessionProtocolError } from './errors';
import { PduReceiver } from './pdu-receiver';
import { formatPortal, type Portal } from '../portal';
import { loginWithRedirects } from './portal-login';

export interface DiscoveryOptions {
  initiatorName: string;
  portal: Portal;
  isid: Buffer;
  sourceAddress?: string;
  device?: string;
  chap?: ChapInitiatorOptions;
  /** Each Text Response (default 10 s); also the login's unless loginTimeoutMs is given. */
  timeoutMs?: number;
  /** The TCP connect (at most 5 s of it) and each Login Response. */
  loginTimeoutMs?: number;
  maxRedirects?: number;
  /** CRC32C digests: required (true), refused (false), preferred (unset). */
  digests?: boolean;
  /** Operational wishes for the discovery login (e.g. a smaller MaxRecvDataSegmentLength). */
  operational?: Partial<OperationalValues>;
  /** Told of what went wrong without spoiling the answer (a Logout Request left unanswered: ELOGOUTUNANSWERED). */
  onWarning?: (warning: Error) => void;
}

/** 4 MiB of answer (the assembler's bound) in 8 KiB responses is 512 of them. */
const MAX_TEXT_RESPONSES = 1024;
const MAX_EMPTY_CONTINUATIONS = 4;
/** The whole answer gets this many per-response timeouts. */
const ANSWER_TIMEOUTS = 6;

export async function sendTargets(options: DiscoveryOptions): Promise<DiscoveredTarget[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const loginTimeoutMs = options.loginTimeoutMs ?? timeoutMs;
  const { connection, login, landed } = await loginWithRedirects({
    initiatorName: options.initiatorName, sessionType: 'Discovery', isid: options.isid, chap: options.chap, timeoutMs: loginTimeoutMs,
    portal: options.portal, sourceAddress: options.sourceAddress, device: options.device, connectTimeoutMs: Math.min(loginTimeoutMs, 5000),
    maxRedirects: options.maxRedirects ?? 8, operational: options.operational,
    digests: { header: digestOffer(options.digests), data: digestOffer(options.digests) },
  });
  // Immediate PDUs carry the login's CmdSN without advancing it.
  const { cmdSN, parameters: p } = login;
  const receiver = new PduReceiver(connection);
  let expStatSN = login.expStatSN;
  const itt = 1;
  try {
    const assembler = new TextAssembler(4 << 20);
    let ttt = RESERVED_TAG;
    let data = encodeText([['SendTargets', 'All']]);
    let text: Buffer | undefined;
    // A target that never sets F (or trickles the answer) must not hold us forever: the answer is bounded in bytes
    // (the assembler), in responses, in responses that bring nothing, and in time.
    const deadline = Date.now() + ANSWER_TIMEOUTS * timeoutMs;
    let responses = 0;
    let empty = 0;
    while (!text) {
      connection.send({ opcode: Opcode.TextRequest, immediate: true, final: true, cont: false, lun: 0, itt, ttt, cmdSN, expStatSN }, data);
      const left = deadline - Date.now();
      if (left <= 0) throw new SessionProtocolError(`the SendTargets answer did not complete within ${ANSWER_TIMEOUTS * timeoutMs} ms (${responses} Text Responses so far)`, 'ETIMEDOUT');
      const { bhs, data: answer } = await receiver.next(Math.min(timeoutMs, left), 'Text Response');
      if (bhs.opcode === Opcode.Reject) throw new SessionProtocolError(`the target rejected SendTargets (reason 0x${bhs.reason.toString(16)})`);
      if (bhs.opcode !== Opcode.TextResponse || bhs.itt !== itt) throw new SessionProtocolError(`expected a Text Response, got opcode 0x${bhs.opcode.toString(16)}`);
      expStatSN = (bhs.statSN + 1) >>> 0;
      if (++responses > MAX_TEXT_RESPONSES) throw new SessionProtocolError(`the SendTargets answer goes on past ${MAX_TEXT_RESPONSES} Text Responses`, 'ETEXTCONTINUATION');
      empty = answer.length === 0 && !bhs.final ? empty + 1 : 0;
      if (empty > MAX_EMPTY_CONTINUATIONS) throw new SessionProtocolError(`${empty} Text Responses in a row continue the SendTargets answer without a byte of it`, 'ETEXTCONTINUATION');
      // More follows while F is clear, with C set or not: tgtd cuts a long answer mid-pair with F=0 and C=0, so
      // the answer is the bytes of every response joined, complete only at the final one.
      text = assembler.push(answer, bhs.cont || !bhs.final);
      // Continue with an empty request carrying the target's TTT (RFC 7143 §11.10.4).
      ttt = bhs.ttt;
      data = Buffer.alloc(0);
    }
    const targets = parseSendTargets(text);
    // A target listed without an address is reachable where we asked (RFC 7143 §13.3).
    for (const t of targets) {
      if (t.portals.length === 0) t.portals.push({ address: landed.address, port: landed.port, tpgt: p.targetPortalGroupTag ?? 1 });
    }
    // Logout, bounded: a discovery session has nothing to lose.
    connection.send({ opcode: Opcode.LogoutRequest, immediate: true, reason: 0, cid: 0, itt: 2, cmdSN, expStatSN });
    const logoutMs = Math.min(timeoutMs, 3000);
    await receiver.next(logoutMs, 'Logout Response').catch(() => {
      options.onWarning?.(new SessionProtocolError(`the target at ${formatPortal(landed)} did not answer our Logout Request within ${logoutMs} ms`, 'ELOGOUTUNANSWERED'));
    });
    return targets;
  } finally {
    receiver.detach();
    connection.destroy();
  }
}
