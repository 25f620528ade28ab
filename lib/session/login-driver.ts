// Drives one connection's login (RFC 7143 §6.3, §11.12-13): SecurityNegotiation (AuthMethod None or CHAP, one-way
// or mutual), LoginOperationalNegotiation with every operational key by its rule (lib/protocol/negotiation.ts),
// text continuation in both directions, and redirects (status 0x0101/0x0102) at any stage.
import { AuthenticationError, ChapAlgorithm, ChapInitiator, DEFAULT_CHAP_ALGORITHMS, type ChapInitiatorOptions } from '../protocol/chap';
import { parseTargetAddress, type TargetAddress } from '../protocol/discovery-text';
import { isSecurityKey } from '../protocol/keys';
import { interpretLoginStatus, LoginError } from '../protocol/login-status';
import { Negotiation, type NegotiatedParameters, type OperationalValues, type SessionType } from '../protocol/negotiation';
import { decodeTextKeys, encodeText, splitText, TextAssembler, type TextPair } from '../protocol/text';
import type { LoginResponse } from '../wire/bhs';
import type { PduConnection } from '../wire/connection';
import { Opcode } from '../wire/opcodes';
import { SessionProtocolError } from './errors';
import { PduReceiver } from './pdu-receiver';

const SECURITY = 0;
const OPERATIONAL = 1;
const FULL_FEATURE = 3;
/** Login PDUs carry at most 8192 data bytes until MaxRecvDataSegmentLength is known (RFC 7143 §13.12). */
const LOGIN_SEGMENT = 8192;

export interface LoginOptions {
  initiatorName: string;
  initiatorAlias?: string;
  /** Absent for a Discovery session. */
  targetName?: string;
  sessionType: SessionType;
  isid: Buffer;
  /** 0 for a new session. */
  tsih?: number;
  /** The CmdSN of the login; the first command of the session uses it again. */
  cmdSN: number;
  chap?: ChapInitiatorOptions;
  operational: OperationalValues;
  timeoutMs: number;
}

export type LoginResult =
  | {
      kind: 'loggedIn';
      parameters: NegotiatedParameters;
      tsih: number;
      /** ExpStatSN to use next. */
      expStatSN: number;
      expCmdSN: number;
      maxCmdSN: number;
      /** AuthMethod agreed: None or CHAP. */
      authMethod: 'None' | 'CHAP';
    }
  | { kind: 'redirect'; permanent: boolean; address: TargetAddress };

export async function runLogin(connection: PduConnection, options: LoginOptions): Promise<LoginResult> {
  const receiver = new PduReceiver(connection);
  try {
    return await new LoginExchange(connection, receiver, options).run();
  } catch (error) {
    if (error instanceof RedirectSignal) return { kind: 'redirect', permanent: error.permanent, address: error.address };
    throw error;
  } finally {
    receiver.detach();
  }
}

class LoginExchange {
  private readonly negotiation: Negotiation;
  private readonly chap?: ChapInitiator;
  private readonly assembler = new TextAssembler(64 * 1024);
  private expStatSN = 0;
  private readonly itt = 0;
  private chapStep: 'method' | 'challenge' | 'verify' | 'done' = 'method';
  private chapAlgorithm?: string;

  constructor(private readonly connection: PduConnection, private readonly receiver: PduReceiver, private readonly o: LoginOptions) {
    this.negotiation = new Negotiation({ role: 'initiator', local: o.operational, sessionType: o.sessionType });
    if (o.chap) this.chap = new ChapInitiator(o.chap);
  }

  async run(): Promise<LoginResult> {
    const identity: TextPair[] = [['InitiatorName', this.o.initiatorName]];
    if (this.o.initiatorAlias) identity.push(['InitiatorAlias', this.o.initiatorAlias]);
    if (this.o.targetName !== undefined) identity.push(['TargetName', this.o.targetName]);
    identity.push(['SessionType', this.o.sessionType]);
    identity.push(['AuthMethod', this.chap ? 'CHAP' : 'None']);
    // Without CHAP we ask to leave the security stage at once; with CHAP we must authenticate first.
    let stage = SECURITY;
    let transit = !this.chap;
    let response = await this.exchange(stage, transit, OPERATIONAL, identity);
    let pendingAnswers: TextPair[] = [];

    for (let rounds = 0; rounds < 32; rounds++) {
      const { bhs, keys } = response;
      if (bhs.csg !== stage) throw new SessionProtocolError(`Login Response for stage ${bhs.csg} while in stage ${stage}`);
      const operationalKeys = new Map([...keys].filter(([k]) => !isSecurityKey(k)));
      pendingAnswers.push(...this.negotiation.receive(operationalKeys));

      if (stage === SECURITY) {
        const send = this.security(keys, bhs);
        if (send) {
          response = await this.exchange(SECURITY, send.transit, OPERATIONAL, [...send.pairs]);
          continue;
        }
        // The target agreed to leave the security stage.
        if (!bhs.transit) throw new SessionProtocolError('security stage ended without the T bit');
        if (bhs.nsg === FULL_FEATURE) return this.finish(bhs);
        stage = OPERATIONAL;
        transit = true;
        const offers = this.negotiation.offers();
        response = await this.exchange(OPERATIONAL, transit, FULL_FEATURE, [...offers, ...pendingAnswers]);
        pendingAnswers = [];
        continue;
      }
      // Operational stage.
      if (bhs.transit && bhs.nsg === FULL_FEATURE) return this.finish(bhs);
      response = await this.exchange(OPERATIONAL, true, FULL_FEATURE, pendingAnswers);
      pendingAnswers = [];
    }
    throw new SessionProtocolError('login did not complete in 32 exchanges');
  }

  /** The next security-stage PDU to send, or undefined when the stage is over (the response has T=1). */
  private security(keys: Map<string, string>, bhs: LoginResponse): { pairs: TextPair[]; transit: boolean } | undefined {
    const method = keys.get('AuthMethod');
    if (!this.chap) {
      if (method !== undefined && method !== 'None') throw new LoginError(2, 1, `the target requires AuthMethod ${method} and no CHAP credentials were given`);
      return bhs.transit ? undefined : { pairs: [], transit: true };
    }
    switch (this.chapStep) {
      case 'method':
        if (method !== undefined && method !== 'CHAP') throw new LoginError(2, 1, `the target refused CHAP (AuthMethod=${method})`);
        if (bhs.transit) throw new LoginError(2, 1, 'the target skipped CHAP authentication we asked for');
        this.chapStep = 'challenge';
        return { pairs: [this.chap.algorithmOffer()], transit: false };
      case 'challenge':
        this.chapStep = 'verify';
        this.chapAlgorithm = keys.get('CHAP_A');
        return { pairs: this.chap.answerChallenge(keys), transit: true };
      case 'verify':
        if (!bhs.transit) return { pairs: [], transit: true };
        this.chap.verifyTarget(keys);
        this.chapStep = 'done';
        return undefined;
      default:
        return bhs.transit ? undefined : { pairs: [], transit: true };
    }
  }

  private finish(bhs: LoginResponse): LoginResult {
    return {
      kind: 'loggedIn',
      parameters: this.negotiation.parameters(),
      tsih: bhs.tsih,
      expStatSN: this.expStatSN,
      expCmdSN: bhs.expCmdSN,
      maxCmdSN: bhs.maxCmdSN,
      authMethod: this.chap ? 'CHAP' : 'None',
    };
  }

  /** Sends one logical Login Request (split with the C bit when long) and returns the whole logical response. */
  private async exchange(csg: number, transit: boolean, nsg: number, pairs: TextPair[]): Promise<{ bhs: LoginResponse; keys: Map<string, string> }> {
    const chunks = splitText(encodeText(pairs), LOGIN_SEGMENT);
    for (let i = 0; i < chunks.length; i++) {
      const last = i === chunks.length - 1;
      if (!last) {
        this.send(csg, false, true, nsg, chunks[i]);
        // The target acknowledges each C=1 PDU with an empty Login Response (RFC 7143 §6.1).
        await this.receive();
        continue;
      }
      this.send(csg, transit, false, nsg, chunks[i]);
    }
    for (;;) {
      const { bhs, data } = await this.receive();
      const whole = this.assembler.push(data, bhs.cont);
      if (whole) return { bhs, keys: decodeTextKeys(whole) };
      // More text follows: ask for it with an empty request (same stage, T=0).
      this.send(csg, false, false, nsg, Buffer.alloc(0));
    }
  }

  private send(csg: number, transit: boolean, cont: boolean, nsg: number, data: Buffer): void {
    this.connection.send({
      opcode: Opcode.LoginRequest, transit, cont, csg, nsg: transit ? nsg : 0, versionMax: 0, versionMin: 0,
      isid: this.o.isid, tsih: this.o.tsih ?? 0, itt: this.itt, cid: 0, cmdSN: this.o.cmdSN, expStatSN: this.expStatSN,
    }, data);
  }

  private async receive(): Promise<{ bhs: LoginResponse; data: Buffer }> {
    const pdu = await this.receiver.next(this.o.timeoutMs, 'Login Response');
    if (pdu.bhs.opcode !== Opcode.LoginResponse) {
      throw new SessionProtocolError(`expected a Login Response, got opcode 0x${pdu.bhs.opcode.toString(16)}`);
    }
    const bhs = pdu.bhs;
    const status = interpretLoginStatus(bhs.statusClass, bhs.statusDetail);
    if (status.kind === 'redirect') {
      // Sequence numbers of a non-zero status class are not valid (protocol.md §0 item 3): ignore them.
      const keys = pdu.data.length ? decodeTextKeys(pdu.data) : new Map<string, string>();
      const value = keys.get('TargetAddress');
      if (!value) throw new SessionProtocolError(`redirect (0x010${bhs.statusDetail}) without TargetAddress`);
      throw new RedirectSignal(status.permanent, parseTargetAddress(value));
    }
    if (status.kind === 'error') {
      if (this.chap && bhs.statusClass === 2) {
        // Right after our CHAP_A list: some targets (tgtd) fail the login on an algorithm they don't know
        // instead of picking one they do. The caller retries once offering MD5 only.
        const offered = this.o.chap!.algorithms ?? DEFAULT_CHAP_ALGORITHMS;
        if (this.chapStep === 'challenge' && offered.length > 1) throw new ChapAlgorithmsRefused(status.error);
        // tgt numbers SHA-1 as 7 (IANA: SHA-256), so it picks 7 and then refuses our SHA-256 answer: when a
        // response with a stronger algorithm than MD5 is refused, the caller retries once with MD5 alone.
        if (this.chapStep === 'verify' && offered.length > 1 && this.chapAlgorithm !== String(ChapAlgorithm.MD5)) throw new ChapAlgorithmsRefused(status.error);
        // Right after our CHAP response: the secret (or user) is wrong; say so plainly whatever detail came back.
        if (this.chapStep === 'verify') {
          throw Object.assign(new AuthenticationError(this.o.chap!.user, 'initiator', `the target refused our CHAP response (${status.error.message})`), { cause: status.error, reason: 'authentication-failed' });
        }
      }
      throw status.error;
    }
    if (bhs.itt !== this.itt) throw new SessionProtocolError(`Login Response ITT 0x${bhs.itt.toString(16)} is not ours`);
    if (this.o.isid.compare(bhs.isid) !== 0) throw new SessionProtocolError('Login Response ISID differs from the request');
    this.expStatSN = (bhs.statSN + 1) >>> 0;
    return { bhs, data: pdu.data };
  }
}

/** The target refused a login offering several CHAP algorithms; try again offering MD5 alone. */
export class ChapAlgorithmsRefused extends Error {
  constructor(readonly loginError: Error) { super(`CHAP algorithm list refused: ${loginError.message}`); }
}

/** MD5, the CHAP algorithm every target must support (RFC 7143 §12.1.3). */
export const MANDATORY_CHAP: ChapAlgorithm[] = [ChapAlgorithm.MD5];

/** Thrown inside the exchange to unwind to runLogin's caller as a redirect result. */
class RedirectSignal extends Error {
  constructor(readonly permanent: boolean, readonly address: TargetAddress) { super('redirect'); }
}
