// The target's login state machine (RFC 7143 §6.3, §11.12, §11.13), without I/O: one instance per connection
// login. Each Login Request goes into receive(), which returns the Login Response to send and the outcome:
// 'continue' (wait for the next request), 'established' (Full Feature Phase starts after this response),
// 'failed' or 'redirected' (send the response, then close the connection).
import { randomInt } from 'node:crypto';
import { Opcode } from '../wire/opcodes';
import type { LoginRequest, LoginResponse } from '../wire/bhs';
import { AuthenticationError, ChapTarget, ChapTargetOptions } from './chap';
import { formatTargetAddress } from './discovery-text';
import { NegotiationError, ProtocolError, TextFormatError } from './errors';
import { LoginStage } from './initiator-login';
import { isSecurityKey, LOGIN_IDENTITY_KEYS } from './keys';
import { LOGIN_STATUS, LoginError, LoginStatusCode } from './login-status';
import { Negotiation, NegotiatedParameters, OperationalValues, RFC_DEFAULTS, SessionType } from './negotiation';
import { LOGIN_MAX_DATA_LENGTH, OutgoingPdu, Pdu } from './pdu';
import { TextAssembler, TextPair, decodeTextKeys, encodeText, splitList, splitText } from './text';

/** Authentication a target requires; absent = none. */
export interface TargetAuthPolicy {
  /** CHAP: `lookup` gives the initiators' secrets, `outgoing` the target's own for mutual CHAP. */
  chap: ChapTargetOptions;
}

/** What the login needs to know about one target node. */
export interface TargetNodeConfig {
  alias?: string;
  auth?: TargetAuthPolicy;
}

export interface RedirectContext {
  /** The stage (CSG) of the request being answered. */
  stage: number;
  initiatorName: string;
  targetName?: string;
  sessionType: SessionType;
  isid: Buffer;
  authenticated: boolean;
}

export interface RedirectDecision { address: string; port: number; permanent: boolean }

export interface TargetLoginConfig {
  /** Looks up a TargetName; undefined = no such target here (0x0203). */
  findTarget: (name: string) => TargetNodeConfig | undefined;
  /** The portal group tag of the portal this connection arrived on. */
  portalGroupTag: number;
  /** Discovery sessions: allowed unless `allowed` is false; `auth` makes them require CHAP. */
  discovery?: { allowed?: boolean; auth?: TargetAuthPolicy };
  /** The target's limits for operational keys; unspecified ones are the RFC defaults. */
  limits?: Partial<OperationalValues>;
  /** Gives the TSIH of a new session (non-zero, unique among live sessions). Default: a counter from 1. */
  allocateTsih?: () => number;
  /** Called for every complete request: return a decision to redirect the initiator (Status-Class 1). */
  redirect?: (context: RedirectContext) => RedirectDecision | undefined;
  /** Whether this initiator may use this target (false: 0x0202). Default: everyone. */
  authorize?: (initiatorName: string, targetName: string) => boolean;
  /** First StatSN of the connection. Default random. */
  statSN?: number;
  /** Commands the initiator may have outstanding: MaxCmdSN = ExpCmdSN + commandWindow - 1. Default 32. */
  commandWindow?: number;
  /** Most text bytes one login request may spread over C=1 continuations (initiator error past it). Default 64 KiB. */
  maxTextBytes?: number;
}

/** A login that reached Full Feature Phase. */
export interface EstablishedLogin {
  tsih: number;
  isid: Buffer;
  cid: number;
  initiatorName: string;
  initiatorAlias?: string;
  targetName?: string;
  sessionType: SessionType;
  parameters: NegotiatedParameters;
  /** The CmdSN the first Full Feature command will carry (= ExpCmdSN). */
  expCmdSN: number;
  maxCmdSN: number;
  /** The StatSN of the next response on this connection. */
  statSN: number;
  /** The CHAP user the initiator authenticated as, if any. */
  chapUser?: string;
}

export type TargetLoginOutcome = 'continue' | 'established' | 'failed' | 'redirected';

export interface TargetLoginReply {
  pdu: OutgoingPdu<LoginResponse>;
  outcome: TargetLoginOutcome;
  /** Set when outcome is 'established'. */
  session?: EstablishedLogin;
  /** Set when outcome is 'failed': why (LoginError, AuthenticationError, ProtocolError...). */
  error?: Error;
}

let nextTsih = 1;
function defaultAllocateTsih(): number {
  const tsih = nextTsih;
  nextTsih = nextTsih >= 0xffff ? 1 : nextTsih + 1;
  return tsih;
}

/** A login failure carrying the status to answer with. */
class Refusal extends Error {
  constructor(readonly status: LoginStatusCode, readonly failure: Error) { super(failure.message); }
}
const refuse = (status: LoginStatusCode, message: string) => new Refusal(status, new LoginError(status.statusClass, status.statusDetail, message));

export class TargetLogin {
  private stage: LoginStage | undefined;
  private statSN: number;
  private readonly window: number;
  private readonly limits: OperationalValues;
  private first?: { isid: Buffer; tsih: number; cid: number; cmdSN: number };
  private identity?: { initiatorName: string; initiatorAlias?: string; targetName?: string; sessionType: SessionType; node?: TargetNodeConfig };
  private negotiation?: Negotiation;
  private auth?: TargetAuthPolicy;
  private chap?: ChapTarget;
  private security: 'start' | 'chap-algorithm' | 'chap-response' | 'complete' = 'start';
  private authenticated = false;
  private readonly incoming: TextAssembler;
  private outgoing: { chunk: Buffer; last: boolean }[] = [];
  private pendingFlags = { transit: false, nsg: 0 };
  private declaredIdentity = false;
  private finished = false;

  constructor(private readonly config: TargetLoginConfig) {
    this.statSN = config.statSN ?? randomInt(0, 0xffffffff);
    this.window = config.commandWindow ?? 32;
    this.limits = { ...RFC_DEFAULTS, ...config.limits };
    this.incoming = new TextAssembler(config.maxTextBytes ?? 64 * 1024);
  }

  /** Consumes one Login Request; returns the response and what happens next. */
  receive(pdu: Pdu<LoginRequest>): TargetLoginReply {
    if (this.finished) throw new ProtocolError('Login Request after the login ended', 'ESTATE');
    try {
      return this.handle(pdu);
    } catch (err) {
      this.finished = true;
      const refusal = err instanceof Refusal ? err : new Refusal(statusFor(err as Error), err as Error);
      return { pdu: this.response(pdu.bhs, Buffer.alloc(0), { cont: false, transit: false, nsg: 0 }, refusal.status), outcome: 'failed', error: refusal.failure };
    }
  }

  private handle({ bhs, data }: Pdu<LoginRequest>): TargetLoginReply {
    if (bhs.opcode !== Opcode.LoginRequest) throw refuse(LOGIN_STATUS.invalidDuringLogin, 'only Login Requests are allowed during login');
    if (bhs.versionMin > 0) throw refuse(LOGIN_STATUS.unsupportedVersion, `Version-min ${bhs.versionMin}; only version 0 is supported`);
    this.checkConstantFields(bhs);
    if (bhs.transit && bhs.cont) throw new ProtocolError('Login Request has both T and C set');
    if (this.stage === undefined) {
      if (bhs.csg !== LoginStage.Security && bhs.csg !== LoginStage.Operational) throw refuse(LOGIN_STATUS.invalidDuringLogin, `login cannot start in stage ${bhs.csg}`);
      this.stage = bhs.csg;
    } else if (bhs.csg !== this.stage) {
      throw refuse(LOGIN_STATUS.invalidDuringLogin, `request for stage ${bhs.csg} while in stage ${this.stage}`);
    }
    if (bhs.transit && (bhs.nsg === 2 || bhs.nsg <= bhs.csg)) throw refuse(LOGIN_STATUS.invalidDuringLogin, `illegal transition ${bhs.csg} -> ${bhs.nsg}`);
    if (data.length > LOGIN_MAX_DATA_LENGTH) throw new ProtocolError(`Login Request carries ${data.length} data bytes, more than ${LOGIN_MAX_DATA_LENGTH}`);

    if (this.outgoing.length > 0) {
      if (data.length > 0 || bhs.transit || bhs.cont) throw new ProtocolError('expected an empty Login Request acknowledging our continued text');
      return this.sendNextChunk(bhs);
    }
    const text = this.incoming.push(data, bhs.cont);
    if (text === undefined) return this.reply(bhs, [], false, 0);
    const keys = decodeTextKeys(text);

    this.takeIdentity(keys);
    const id = this.identity!;
    const redirect = this.config.redirect?.({
      stage: bhs.csg, initiatorName: id.initiatorName, targetName: id.targetName, sessionType: id.sessionType,
      isid: this.first!.isid, authenticated: this.authenticated,
    });
    if (redirect) return this.redirectTo(bhs, redirect);

    const pairs: TextPair[] = [];
    if (!this.declaredIdentity) {
      this.declaredIdentity = true;
      if (id.node?.alias) pairs.push(this.negotiation!.declare('TargetAlias', id.node.alias));
      if (id.sessionType === 'Normal') pairs.push(this.negotiation!.declare('TargetPortalGroupTag', String(this.config.portalGroupTag)));
    }
    return this.stage === LoginStage.Security ? this.securityStage(bhs, keys, pairs) : this.operationalStage(bhs, keys, pairs);
  }

  private checkConstantFields(bhs: LoginRequest): void {
    if (!this.first) {
      if (bhs.tsih !== 0) {
        // Adding a connection to a session (MC/S) is not supported: MaxConnections is 1 here.
        throw refuse(LOGIN_STATUS.sessionDoesNotExist, `no session with TSIH ${bhs.tsih}`);
      }
      this.first = { isid: Buffer.from(bhs.isid), tsih: bhs.tsih, cid: bhs.cid, cmdSN: bhs.cmdSN };
      return;
    }
    const f = this.first;
    if (!bhs.isid.equals(f.isid) || bhs.tsih !== f.tsih || bhs.cid !== f.cid || bhs.cmdSN !== f.cmdSN) {
      throw refuse(LOGIN_STATUS.initiatorError, 'ISID, TSIH, CID and CmdSN must not change during a login');
    }
  }

  /** The first complete text of the login names the initiator, the session type and the target. */
  private takeIdentity(keys: Map<string, string>): void {
    if (this.identity) {
      for (const k of LOGIN_IDENTITY_KEYS) if (keys.has(k)) throw new NegotiationError(k, keys.get(k), 'declared twice in one login');
      return;
    }
    const initiatorName = keys.get('InitiatorName');
    if (!initiatorName) throw refuse(LOGIN_STATUS.missingParameter, 'InitiatorName is missing');
    const typeValue = keys.get('SessionType') ?? 'Normal';
    if (typeValue !== 'Normal' && typeValue !== 'Discovery') throw refuse(LOGIN_STATUS.sessionTypeNotSupported, `SessionType=${typeValue}`);
    const sessionType: SessionType = typeValue;
    const targetName = keys.get('TargetName');
    let node: TargetNodeConfig | undefined;
    if (sessionType === 'Normal') {
      if (!targetName) throw refuse(LOGIN_STATUS.missingParameter, 'TargetName is missing in a Normal session login');
      node = this.config.findTarget(targetName);
      if (!node) throw refuse(LOGIN_STATUS.targetNotFound, `no target ${targetName}`);
      if (this.config.authorize && !this.config.authorize(initiatorName, targetName)) {
        throw refuse(LOGIN_STATUS.authorizationFailure, `${initiatorName} may not access ${targetName}`);
      }
      this.auth = node.auth;
    } else {
      if (this.config.discovery?.allowed === false) throw refuse(LOGIN_STATUS.sessionTypeNotSupported, 'discovery sessions are not allowed');
      this.auth = this.config.discovery?.auth;
    }
    this.identity = { initiatorName, targetName: sessionType === 'Normal' ? targetName : undefined, sessionType, node };
    const alias = keys.get('InitiatorAlias');
    if (alias !== undefined) this.identity.initiatorAlias = alias;
    for (const k of LOGIN_IDENTITY_KEYS) keys.delete(k);
    this.negotiation = new Negotiation({ role: 'target', local: this.limits, sessionType, leading: true });
  }

  private securityStage(bhs: LoginRequest, keys: Map<string, string>, pairs: TextPair[]): TargetLoginReply {
    const security = new Map<string, string>();
    const other = new Map<string, string>();
    for (const [k, v] of keys) (isSecurityKey(k) ? security : other).set(k, v);
    pairs.push(...this.negotiation!.receive(other));
    const user = () => security.get('CHAP_N') ?? this.chap?.user;

    if (this.security === 'start') {
      const offer = security.get('AuthMethod');
      if (offer === undefined) throw refuse(LOGIN_STATUS.missingParameter, 'AuthMethod is missing in the security stage');
      const offered = splitList(offer);
      if (this.auth) {
        if (!offered.includes('CHAP')) throw new AuthenticationError(undefined, 'initiator', `the target requires CHAP, offered AuthMethod=${offer}`);
        pairs.push(['AuthMethod', 'CHAP']);
        this.chap = new ChapTarget(this.auth.chap);
        this.security = 'chap-algorithm';
      } else {
        if (!offered.includes('None')) throw new AuthenticationError(undefined, 'initiator', `the target has no authentication configured, offered AuthMethod=${offer}`);
        pairs.push(['AuthMethod', 'None']);
        this.security = 'complete';
        this.authenticated = true;
      }
      security.delete('AuthMethod');
    } else if (this.security === 'chap-algorithm') {
      const offer = security.get('CHAP_A');
      if (offer === undefined) throw new AuthenticationError(user(), 'initiator', 'CHAP_A is missing');
      pairs.push(...this.chap!.challengeFor(offer));
      security.delete('CHAP_A');
    } else if (this.security === 'chap-response') {
      pairs.push(...this.chap!.verify(security));
      for (const k of ['CHAP_N', 'CHAP_R', 'CHAP_I', 'CHAP_C']) security.delete(k);
      this.security = 'complete';
      this.authenticated = true;
    }
    if (security.size > 0) throw new ProtocolError(`unexpected security keys ${[...security.keys()].join(', ')} at this step`);
    // The challenge goes out in this response: the initiator's CHAP_R comes next.
    if (this.security === 'chap-algorithm' && pairs.some(([k]) => k === 'CHAP_C')) this.security = 'chap-response';
    // An initiator may ask to transit early; we agree only once authentication is complete.
    if (bhs.transit && this.security === 'complete') {
      if (bhs.nsg === LoginStage.FullFeature) return this.establish(bhs, pairs);
      return this.reply(bhs, pairs, true, bhs.nsg, LoginStage.Operational);
    }
    return this.reply(bhs, pairs, false, 0);
  }

  private operationalStage(bhs: LoginRequest, keys: Map<string, string>, pairs: TextPair[]): TargetLoginReply {
    if (!this.authenticated) {
      if (this.auth) throw new AuthenticationError(undefined, 'initiator', 'the target requires CHAP but the login skipped the security stage');
      this.authenticated = true;
    }
    pairs.push(...this.negotiation!.receive(keys));
    if (!this.negotiation!.hasDeclared('MaxRecvDataSegmentLength')) {
      pairs.push(this.negotiation!.declare('MaxRecvDataSegmentLength', String(this.limits.maxRecvDataSegmentLength)));
    }
    if (bhs.transit) return this.establish(bhs, pairs);
    return this.reply(bhs, pairs, false, 0);
  }

  private establish(bhs: LoginRequest, pairs: TextPair[]): TargetLoginReply {
    const parameters = this.negotiation!.parameters();
    const tsih = (this.config.allocateTsih ?? defaultAllocateTsih)();
    if (!Number.isInteger(tsih) || tsih < 1 || tsih > 0xffff) throw new RangeError(`allocateTsih returned ${tsih}`);
    const id = this.identity!;
    const session: EstablishedLogin = {
      tsih, isid: this.first!.isid, cid: this.first!.cid, initiatorName: id.initiatorName, sessionType: id.sessionType,
      parameters, expCmdSN: this.first!.cmdSN, maxCmdSN: (this.first!.cmdSN + this.window - 1) >>> 0, statSN: this.statSN,
    };
    if (id.initiatorAlias !== undefined) session.initiatorAlias = id.initiatorAlias;
    if (id.targetName !== undefined) session.targetName = id.targetName;
    if (this.chap?.user !== undefined) session.chapUser = this.chap.user;
    this.pendingSession = session;
    return this.reply(bhs, pairs, true, LoginStage.FullFeature, LoginStage.FullFeature, tsih);
  }

  private redirectTo(bhs: LoginRequest, decision: RedirectDecision): TargetLoginReply {
    this.finished = true;
    const status = decision.permanent ? LOGIN_STATUS.movedPermanently : LOGIN_STATUS.movedTemporarily;
    const data = encodeText([['TargetAddress', formatTargetAddress({ address: decision.address, port: decision.port })]]);
    return { pdu: this.response(bhs, data, { cont: false, transit: false, nsg: 0 }, status), outcome: 'redirected' };
  }

  /**
   * Sends `pairs`, split over several responses when longer than 8192 bytes; the transit flag goes on the last.
   * `nextStage` is where we are after the last chunk; `tsih` is set on the final response of a new session.
   */
  private reply(bhs: LoginRequest, pairs: TextPair[], transit: boolean, nsg: number, nextStage?: LoginStage, tsih?: number): TargetLoginReply {
    const chunks = splitText(encodeText(pairs), LOGIN_MAX_DATA_LENGTH);
    this.outgoing = chunks.map((chunk, i) => ({ chunk, last: i === chunks.length - 1 }));
    this.pendingFlags = { transit, nsg };
    this.pendingStage = nextStage;
    this.pendingTsih = tsih;
    return this.sendNextChunk(bhs);
  }
  private pendingStage?: LoginStage;
  private pendingTsih?: number;
  /** The session that starts once the last chunk of the final response is sent. */
  private pendingSession?: EstablishedLogin;

  private sendNextChunk(bhs: LoginRequest): TargetLoginReply {
    const { chunk, last } = this.outgoing.shift()!;
    if (!last) return { pdu: this.response(bhs, chunk, { cont: true, transit: false, nsg: 0 }, LOGIN_STATUS.success), outcome: 'continue' };
    const { transit, nsg } = this.pendingFlags;
    const pdu = this.response(bhs, chunk, { cont: false, transit, nsg }, LOGIN_STATUS.success, this.pendingTsih);
    if (this.pendingStage !== undefined) this.stage = this.pendingStage;
    // A long final response is only final once its last chunk goes out.
    if (this.pendingSession) {
      this.finished = true;
      // The StatSN after this response is the connection's first Full Feature StatSN.
      return { pdu, outcome: 'established', session: { ...this.pendingSession, statSN: this.statSN } };
    }
    return { pdu, outcome: 'continue' };
  }

  private response(req: LoginRequest, data: Buffer, flags: { cont: boolean; transit: boolean; nsg: number }, status: LoginStatusCode, tsih?: number): OutgoingPdu<LoginResponse> {
    const statSN = this.statSN;
    this.statSN = (this.statSN + 1) >>> 0;
    // A refused PDU of another opcode (0x020b) lacks the login fields: those answer as zeros.
    const login = req.opcode === Opcode.LoginRequest;
    const cmdSN = (req as { cmdSN?: number }).cmdSN ?? 0;
    return {
      bhs: {
        opcode: Opcode.LoginResponse, transit: flags.transit, cont: flags.cont, csg: login ? req.csg & 3 : 0, nsg: flags.transit ? flags.nsg : 0,
        versionMax: 0, versionActive: 0, isid: login ? Buffer.from(req.isid) : Buffer.alloc(6), tsih: tsih ?? (login ? req.tsih : 0), itt: req.itt, statSN,
        expCmdSN: cmdSN, maxCmdSN: (cmdSN + this.window - 1) >>> 0, statusClass: status.statusClass,
        statusDetail: status.statusDetail, dataLength: data.length,
      },
      data,
    };
  }
}

/** The status a failure maps to when it was not raised with one. */
function statusFor(err: Error): LoginStatusCode {
  if (err instanceof AuthenticationError) return LOGIN_STATUS.authenticationFailed;
  if (err instanceof LoginError) return { statusClass: err.statusClass, statusDetail: err.statusDetail };
  if (err instanceof TextFormatError || err instanceof NegotiationError || err instanceof ProtocolError) return LOGIN_STATUS.initiatorError;
  return LOGIN_STATUS.targetError;
}
