// The initiator's login state machine (RFC 7143 §6.3, §11.12, §11.13), without I/O. The caller sends the PDU
// of each 'send' step and feeds every Login Response to receive(); the machine ends with 'done' (Full Feature
// Phase may begin), 'redirect' (close and reconnect elsewhere), or throws LoginError (the target refused),
// AuthenticationError (CHAP failed, either side), NegotiationError / ProtocolError (the target broke the RFC).
// After a throw or a redirect the caller closes the TCP connection.
import { Opcode, RESERVED_TAG } from '../wire/opcodes';
import type { LoginRequest, LoginResponse } from '../wire/bhs';
import { AuthenticationError, ChapAlgorithm, ChapInitiator, ChapInitiatorOptions } from './chap';
import { parseTargetAddress, TargetAddress } from './discovery-text';
import { NegotiationError, ProtocolError } from './errors';
import { isSecurityKey, keyDefinition, OBSOLETE_KEYS } from './keys';
import { interpretLoginStatus, LoginError } from './login-status';
import {
  checkAnswer, Digest, INITIATOR_DEFAULTS, Negotiation, NegotiatedParameters, OperationalValues, SessionType,
} from './negotiation';
import { LOGIN_MAX_DATA_LENGTH, OutgoingPdu, Pdu } from './pdu';
import { TextAssembler, TextPair, decodeTextKeys, decodeTextPairs, encodeText, splitText } from './text';

/** Login stages (CSG/NSG codes, RFC 7143 §11.12.3). */
export const enum LoginStage {
  Security = 0,
  Operational = 1,
  FullFeature = 3,
}

export interface InitiatorLoginOptions {
  initiatorName: string;
  initiatorAlias?: string;
  /** Required for a Normal session, absent for Discovery. */
  targetName?: string;
  /** Default: Normal when targetName is given, else Discovery. */
  sessionType?: SessionType;
  /** 6 bytes; see isid.ts. */
  isid: Buffer;
  /** 0 for a new session (or a reinstatement), the session's TSIH to add a connection. */
  tsih?: number;
  cid?: number;
  /** Initiator Task Tag used by every PDU of this login. Default 0. */
  itt?: number;
  /** The session's first CmdSN; login PDUs carry it and the first Full Feature command reuses it. Default 1. */
  cmdSN?: number;
  /** ExpStatSN of the first Login Request (only meaningful when reinstating a connection). Default 0. */
  expStatSN?: number;
  chap?: ChapInitiatorOptions;
  /** Digests wanted, in preference order. Default None for both. */
  digests?: { header?: Digest[]; data?: Digest[] };
  /** Operational values to propose; unspecified ones come from INITIATOR_DEFAULTS. */
  operational?: Partial<OperationalValues>;
  /** Extension keys (X#NodeArchitecture, X-vendor keys) sent with the operational offers; answers are not checked. */
  extensionKeys?: readonly TextPair[];
}

export interface LoginResult {
  parameters: NegotiatedParameters;
  /** The session handle assigned by the target (or the one we gave when adding a connection). */
  tsih: number;
  /** CmdSN of the first non-immediate Full Feature Phase command (the login's CmdSN, RFC 7143 §11.12.8). */
  cmdSN: number;
  /** ExpStatSN for the next PDU we send: the final Login Response's StatSN + 1. */
  expStatSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  targetPortalGroupTag?: number;
  /** How the initiator was authenticated; mutual means the target proved itself too. */
  authentication: 'None' | 'CHAP' | 'CHAP-mutual';
}

export interface LoginRedirect {
  /** The first TargetAddress given; connect there. */
  address: string;
  port: number;
  /** 0x0102: replace the stored portal. 0x0101: use it for this login only and return to the original portal later. */
  permanent: boolean;
  /** Every TargetAddress of the response, in order. */
  addresses: TargetAddress[];
}

export type InitiatorLoginStep =
  | { kind: 'send'; pdu: OutgoingPdu<LoginRequest> }
  | { kind: 'done'; result: LoginResult }
  | { kind: 'redirect'; redirect: LoginRedirect };

type SecurityState = 'auth-offered' | 'chap-algorithm-offered' | 'chap-answered' | 'complete';

/** Bounds the number of round trips so a target that never agrees to transit cannot stall us forever. */
const MAX_EXCHANGES = 64;

export class InitiatorLogin {
  readonly sessionType: SessionType;
  private readonly negotiation: Negotiation;
  private readonly chap?: ChapInitiator;
  private readonly itt: number;
  private readonly cmdSN: number;
  private readonly tsih: number;
  private readonly cid: number;
  private readonly isid: Buffer;
  private expStatSN: number;
  private stage: LoginStage = LoginStage.Security;
  private security: SecurityState = 'auth-offered';
  private authMethodOffer = '';
  private authMethod: 'None' | 'CHAP' | undefined;
  /** Transit request and NSG of the last complete request we sent. */
  private askedTransit = false;
  private askedNsg: LoginStage = LoginStage.Security;
  /** Chunks of a long request still to send, each after the target's empty acknowledgement. */
  private outgoing: { chunk: Buffer; last: boolean }[] = [];
  private readonly incoming = new TextAssembler(64 * 1024);
  private versionMax?: number;
  private exchanges = 0;
  private started = false;
  private finished = false;

  constructor(private readonly options: InitiatorLoginOptions) {
    this.sessionType = options.sessionType ?? (options.targetName === undefined ? 'Discovery' : 'Normal');
    if (!options.initiatorName) throw new RangeError('initiatorName is required');
    if (this.sessionType === 'Normal' && !options.targetName) throw new RangeError('targetName is required for a Normal session');
    if (options.isid.length !== 6) throw new RangeError(`ISID must be 6 bytes, got ${options.isid.length}`);
    this.isid = Buffer.from(options.isid);
    this.tsih = options.tsih ?? 0;
    this.cid = options.cid ?? 0;
    this.itt = options.itt ?? 0;
    if (this.itt === RESERVED_TAG) throw new RangeError('ITT 0xffffffff is reserved');
    this.cmdSN = options.cmdSN ?? 1;
    this.expStatSN = options.expStatSN ?? 0;
    if (options.chap) this.chap = new ChapInitiator(options.chap);
    const local: OperationalValues = { ...INITIATOR_DEFAULTS, ...options.operational };
    if (options.digests?.header) local.headerDigest = options.digests.header;
    if (options.digests?.data) local.dataDigest = options.digests.data;
    this.negotiation = new Negotiation({ role: 'initiator', local, sessionType: this.sessionType, leading: this.tsih === 0 });
  }

  /** The first Login Request. */
  start(): InitiatorLoginStep {
    if (this.started) throw new ProtocolError('login already started', 'ESTATE');
    this.started = true;
    const pairs: TextPair[] = [['InitiatorName', this.options.initiatorName]];
    if (this.options.initiatorAlias) pairs.push(this.negotiation.declare('InitiatorAlias', this.options.initiatorAlias));
    pairs.push(['SessionType', this.sessionType]);
    if (this.sessionType === 'Normal') pairs.push(['TargetName', this.options.targetName!]);
    // Mutual CHAP demands the target prove itself, so None must not be acceptable then.
    this.authMethodOffer = this.chap ? (this.chap.mutual ? 'CHAP' : 'CHAP,None') : 'None';
    pairs.push(['AuthMethod', this.authMethodOffer]);
    // With only None on offer there is nothing to wait for: ask to move on at once.
    return this.request(pairs, !this.chap, LoginStage.Operational);
  }

  /** The CHAP algorithm the target chose from our offer, once it has; undefined without CHAP. */
  get chapAlgorithm(): ChapAlgorithm | undefined { return this.chap?.chosenAlgorithm; }

  /** Consumes one Login Response and returns what to do next. */
  receive(pdu: Pdu<LoginResponse>): InitiatorLoginStep {
    if (!this.started || this.finished) throw new ProtocolError('Login Response outside a login in progress', 'ESTATE');
    try {
      return this.handle(pdu);
    } catch (err) {
      this.finished = true;
      throw err;
    }
  }

  private handle({ bhs, data }: Pdu<LoginResponse>): InitiatorLoginStep {
    if (bhs.opcode !== Opcode.LoginResponse) throw new ProtocolError(`expected a Login Response, got opcode 0x${(bhs as { opcode: number }).opcode.toString(16)}`);
    if (++this.exchanges > MAX_EXCHANGES) throw new ProtocolError(`login did not complete in ${MAX_EXCHANGES} exchanges`);
    if (data.length > LOGIN_MAX_DATA_LENGTH) throw new ProtocolError(`Login Response carries ${data.length} data bytes, more than ${LOGIN_MAX_DATA_LENGTH}`);
    if (this.versionMax !== undefined && bhs.versionMax !== this.versionMax) throw new ProtocolError(`Version-max changed from ${this.versionMax} to ${bhs.versionMax} during login`);
    this.versionMax = bhs.versionMax;

    const status = interpretLoginStatus(bhs.statusClass, bhs.statusDetail);
    if (status.kind === 'error') throw this.refusal(status.error);
    if (status.kind === 'redirect') {
      this.finished = true;
      return { kind: 'redirect', redirect: parseRedirect(data, status.permanent) };
    }
    // Only a class-0 response carries valid StatSN/ExpCmdSN/MaxCmdSN (RFC 7143 §11.13), and only there do we check
    // ITT and ISID: tgtd sends its redirects and refusals with ISID 0, and either ends this login anyway.
    if (bhs.itt !== this.itt) throw new ProtocolError(`Login Response ITT 0x${bhs.itt.toString(16)} does not match 0x${this.itt.toString(16)}`);
    if (!bhs.isid.equals(this.isid)) throw new ProtocolError(`Login Response ISID ${bhs.isid.toString('hex')} is not ours (${this.isid.toString('hex')})`);
    if (bhs.versionActive !== 0) throw new ProtocolError(`Version-active ${bhs.versionActive} is not the version we offered (0)`);
    this.expStatSN = (bhs.statSN + 1) >>> 0;
    if (bhs.csg !== this.stage) throw new ProtocolError(`Login Response CSG ${bhs.csg} while we are in stage ${this.stage}`);
    if (bhs.transit && bhs.cont) throw new ProtocolError('Login Response has both T and C set');
    if (bhs.transit) {
      if (!this.askedTransit) throw new ProtocolError('target set T without our transit request');
      if (bhs.nsg === 2 || bhs.nsg <= bhs.csg || bhs.nsg > this.askedNsg) {
        throw new ProtocolError(`illegal stage transition ${bhs.csg} -> ${bhs.nsg} (we asked for ${this.askedNsg})`);
      }
    }

    if (this.outgoing.length > 0) {
      if (data.length > 0 || bhs.transit || bhs.cont) throw new ProtocolError('expected an empty Login Response acknowledging our continued text');
      return this.sendNextChunk();
    }
    const text = this.incoming.push(data, bhs.cont);
    if (text === undefined) return this.emit(Buffer.alloc(0), false, false, LoginStage.Security); // acknowledge, wait for the rest
    const keys = decodeTextKeys(text);

    if (this.stage === LoginStage.Security) return this.securityStage(bhs, keys);
    return this.operationalStage(bhs, keys);
  }

  /**
   * A refusal (0x0200 or 0x0201) answering our CHAP response is a refusal of our credentials: an
   * AuthenticationError with the LoginError as its cause. tgtd sends the unspecific 0x0200 there, not 0x0201.
   */
  private refusal(error: LoginError): Error {
    if (this.security !== 'chap-answered' || error.statusClass !== 2 || error.statusDetail > 1) return error;
    return new AuthenticationError(this.options.chap!.user, 'initiator', `the target refused our CHAP response (${error.message})`, error);
  }

  private securityStage(bhs: LoginResponse, keys: Map<string, string>): InitiatorLoginStep {
    const security = new Map<string, string>();
    const other = new Map<string, string>();
    for (const [k, v] of keys) (isSecurityKey(k) ? security : other).set(k, v);
    const answers = this.negotiation.receive(other);

    switch (this.security) {
      case 'auth-offered': {
        const answer = security.get('AuthMethod');
        if (answer === undefined) {
          if (this.authMethodOffer !== 'None') throw new NegotiationError('AuthMethod', undefined, 'the target did not answer our AuthMethod offer');
          this.authMethod = 'None';
        } else {
          const chosen = checkAnswer(keyDefinition('AuthMethod')!, this.authMethodOffer, answer);
          if (chosen === undefined) {
            throw new AuthenticationError(this.options.chap?.user, 'initiator', `the target accepts none of AuthMethod=${this.authMethodOffer} (${answer})`);
          }
          this.authMethod = chosen as 'None' | 'CHAP';
        }
        if (this.authMethod === 'CHAP') {
          if (bhs.transit) throw new ProtocolError('target left the security stage before CHAP');
          this.security = 'chap-algorithm-offered';
          return this.request([...answers, this.chap!.algorithmOffer()], false, LoginStage.Operational);
        }
        this.security = 'complete';
        break;
      }
      case 'chap-algorithm-offered': {
        if (bhs.transit) throw new ProtocolError('target left the security stage before CHAP');
        const response = this.chap!.answerChallenge(security);
        this.security = 'chap-answered';
        return this.request([...answers, ...response], true, LoginStage.Operational);
      }
      case 'chap-answered':
        this.chap!.verifyTarget(security);
        this.security = 'complete';
        break;
      case 'complete':
        if (security.size > 0) throw new ProtocolError(`unexpected security keys after authentication: ${[...security.keys()].join(', ')}`);
        break;
    }
    if (bhs.transit) return this.enter(bhs.nsg, answers);
    return this.request(answers, true, LoginStage.Operational);
  }

  private operationalStage(bhs: LoginResponse, keys: Map<string, string>): InitiatorLoginStep {
    for (const k of keys.keys()) if (isSecurityKey(k)) throw new NegotiationError(k, keys.get(k), 'security key outside the SecurityNegotiation stage');
    const answers = this.negotiation.receive(keys);
    if (bhs.transit) {
      // Keys the target offered along with its final response get no answer from us; that is only harmful
      // when our answer would have changed the outcome.
      const owed = answers.filter(([k, v]) => !OBSOLETE_KEYS.has(k) && v !== 'NotUnderstood' && v !== 'Irrelevant' && v !== keys.get(k));
      if (owed.length > 0) throw new ProtocolError(`target moved to Full Feature Phase while offering ${owed.map(([k, v]) => `${k}=${keys.get(k)} (we answer ${v})`).join(', ')}`);
      return this.complete(bhs);
    }
    return this.request(answers, true, LoginStage.FullFeature);
  }

  /** The target agreed to move to `nsg`. */
  private enter(nsg: number, answers: TextPair[]): InitiatorLoginStep {
    if (nsg === LoginStage.FullFeature) throw new ProtocolError('a Full Feature transition must come from the operational stage here');
    this.stage = LoginStage.Operational;
    return this.request([...answers, ...this.negotiation.offers(), ...(this.options.extensionKeys ?? [])], true, LoginStage.FullFeature);
  }

  private complete(bhs: LoginResponse): InitiatorLoginStep {
    if (this.tsih === 0 && bhs.tsih === 0) throw new ProtocolError('final Login Response of a new session has TSIH 0');
    if (this.tsih !== 0 && bhs.tsih !== this.tsih) throw new ProtocolError(`final Login Response TSIH ${bhs.tsih} differs from ours ${this.tsih}`);
    const parameters = this.negotiation.parameters();
    if (this.sessionType === 'Normal' && this.tsih === 0 && parameters.targetPortalGroupTag === undefined) {
      throw new NegotiationError('TargetPortalGroupTag', undefined, 'a Normal session login must return it');
    }
    this.finished = true;
    this.stage = LoginStage.FullFeature;
    const result: LoginResult = {
      parameters, tsih: bhs.tsih, cmdSN: this.cmdSN, expStatSN: this.expStatSN, expCmdSN: bhs.expCmdSN,
      maxCmdSN: bhs.maxCmdSN, authentication: this.authMethod === 'CHAP' ? (this.chap!.mutual ? 'CHAP-mutual' : 'CHAP') : 'None',
    };
    if (parameters.targetPortalGroupTag !== undefined) result.targetPortalGroupTag = parameters.targetPortalGroupTag;
    return { kind: 'done', result };
  }

  /** Sends `pairs` in as many PDUs as needed; `transit`/`nsg` go on the last one. */
  private request(pairs: readonly TextPair[], transit: boolean, nsg: LoginStage): InitiatorLoginStep {
    const chunks = splitText(encodeText(pairs), LOGIN_MAX_DATA_LENGTH);
    this.askedTransit = transit;
    this.askedNsg = transit ? nsg : LoginStage.Security;
    this.outgoing = chunks.map((chunk, i) => ({ chunk, last: i === chunks.length - 1 }));
    return this.sendNextChunk();
  }

  private sendNextChunk(): InitiatorLoginStep {
    const { chunk, last } = this.outgoing.shift()!;
    return last ? this.emit(chunk, false, this.askedTransit, this.askedNsg) : this.emit(chunk, true, false, LoginStage.Security);
  }

  private emit(data: Buffer, cont: boolean, transit: boolean, nsg: LoginStage): InitiatorLoginStep {
    return {
      kind: 'send',
      pdu: {
        bhs: {
          opcode: Opcode.LoginRequest, transit, cont, csg: this.stage, nsg: transit ? nsg : 0, versionMax: 0, versionMin: 0,
          isid: this.isid, tsih: this.tsih, itt: this.itt, cid: this.cid, cmdSN: this.cmdSN, expStatSN: this.expStatSN,
          dataLength: data.length,
        },
        data,
      },
    };
  }
}

function parseRedirect(data: Buffer, permanent: boolean): LoginRedirect {
  const addresses = decodeTextPairs(data).filter(([k]) => k === 'TargetAddress').map(([, v]) => parseTargetAddress(v));
  if (addresses.length === 0) throw new ProtocolError('redirect (Status-Class 1) without a TargetAddress');
  return { address: addresses[0].address, port: addresses[0].port, permanent, addresses };
}
