// Operational key negotiation (RFC 7143 §6.2, §13) for one connection's login, on either side. The same engine
// originates offers, answers the peer's offers with the responder rules, checks the peer's answers to ours, and
// finally yields the typed NegotiatedParameters. Security keys (AuthMethod, CHAP_*) and the login identity keys
// are handled by the login state machines and must not be passed here.
import { NegotiationError } from './errors';
import { KeyDefinition, OBSOLETE_KEYS, SPECIAL_ANSWERS, keyDefinition } from './keys';
import { TextPair, splitList } from './text';

export type Digest = 'None' | 'CRC32C';
export type SessionType = 'Normal' | 'Discovery';
export type Role = 'initiator' | 'target';

/** What one side wants (initiator) or allows (target) for each operational key. */
export interface OperationalValues {
  /** Acceptable digests in order of preference. */
  headerDigest: Digest[];
  dataDigest: Digest[];
  /** The largest data segment this side can receive (declared, per connection and direction). */
  maxRecvDataSegmentLength: number;
  maxBurstLength: number;
  firstBurstLength: number;
  immediateData: boolean;
  initialR2T: boolean;
  maxOutstandingR2T: number;
  maxConnections: number;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
  dataPDUInOrder: boolean;
  dataSequenceInOrder: boolean;
  errorRecoveryLevel: number;
}

/** The values in force when nothing is negotiated (RFC 7143 §13). */
export const RFC_DEFAULTS: Readonly<OperationalValues> = Object.freeze<OperationalValues>({
  headerDigest: ['None'], dataDigest: ['None'], maxRecvDataSegmentLength: 8192, maxBurstLength: 262144,
  firstBurstLength: 65536, immediateData: true, initialR2T: true, maxOutstandingR2T: 1, maxConnections: 1,
  defaultTime2Wait: 2, defaultTime2Retain: 20, dataPDUInOrder: true, dataSequenceInOrder: true, errorRecoveryLevel: 0,
});

/**
 * What our initiator offers unless told otherwise: unsolicited and immediate data allowed, large bursts, no task
 * retention after failure (we recover whole sessions, ERL 0), the same choices open-iscsi makes.
 *
 * Why these help writes: every R2T a write waits for is a round trip and a wakeup on both sides, and every Data-Out
 * PDU a header. ImmediateData=Yes with InitialR2T=No lets a write up to FirstBurstLength go out with its command
 * and no R2T at all; a large FirstBurstLength and MaxBurstLength mean one burst (one R2T) for the rest; the
 * target's MaxRecvDataSegmentLength then decides how many PDUs a burst takes, and we offer the largest of ours so
 * reads come in few Data-In PDUs. Each key settles at what the target allows (InitialR2T is an OR, the lengths
 * the minimum), so these are ceilings: tgtd's defaults (InitialR2T=Yes, FirstBurstLength 64 KiB, 8 KiB segments)
 * make a 64 KiB write 8 KiB immediate, one R2T and seven Data-Out PDUs; the embedded target's (InitialR2T=No,
 * 256 KiB segments and first burst) make it one PDU.
 */
export const INITIATOR_DEFAULTS: Readonly<OperationalValues> = Object.freeze<OperationalValues>({
  ...RFC_DEFAULTS, maxRecvDataSegmentLength: 262144, maxBurstLength: 16776192, firstBurstLength: 262144,
  initialR2T: false, immediateData: true, defaultTime2Wait: 2, defaultTime2Retain: 0,
});

/** The outcome of a login: what both sides must obey on this connection and session. */
export interface NegotiatedParameters {
  sessionType: SessionType;
  /** Connection scope. */
  headerDigest: Digest;
  dataDigest: Digest;
  /** Declared by the initiator: the target sends at most this many data bytes per PDU. Connection scope. */
  initiatorMaxRecvDataSegmentLength: number;
  /** Declared by the target: the initiator sends at most this many data bytes per PDU. Connection scope. */
  targetMaxRecvDataSegmentLength: number;
  maxBurstLength: number;
  firstBurstLength: number;
  immediateData: boolean;
  initialR2T: boolean;
  maxOutstandingR2T: number;
  maxConnections: number;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
  dataPDUInOrder: boolean;
  dataSequenceInOrder: boolean;
  errorRecoveryLevel: number;
  taskReporting: string;
  iSCSIProtocolLevel: number;
  targetPortalGroupTag?: number;
  targetAlias?: string;
  initiatorAlias?: string;
}

/** OperationalValues field for each negotiable operational key. */
const FIELD_OF_KEY: Record<string, keyof OperationalValues> = {
  HeaderDigest: 'headerDigest', DataDigest: 'dataDigest', MaxRecvDataSegmentLength: 'maxRecvDataSegmentLength',
  MaxBurstLength: 'maxBurstLength', FirstBurstLength: 'firstBurstLength', ImmediateData: 'immediateData',
  InitialR2T: 'initialR2T', MaxOutstandingR2T: 'maxOutstandingR2T', MaxConnections: 'maxConnections',
  DefaultTime2Wait: 'defaultTime2Wait', DefaultTime2Retain: 'defaultTime2Retain', DataPDUInOrder: 'dataPDUInOrder',
  DataSequenceInOrder: 'dataSequenceInOrder', ErrorRecoveryLevel: 'errorRecoveryLevel',
};

/** Order in which an initiator offers keys (open-iscsi's order, which every target is known to accept). */
const OFFER_ORDER = [
  'HeaderDigest', 'DataDigest', 'DefaultTime2Wait', 'DefaultTime2Retain', 'ErrorRecoveryLevel', 'InitialR2T',
  'ImmediateData', 'MaxBurstLength', 'FirstBurstLength', 'MaxOutstandingR2T', 'MaxConnections', 'DataPDUInOrder',
  'DataSequenceInOrder',
];

const NUMBER = /^(?:[0-9]+|0[xX][0-9a-fA-F]+)$/;

/** Parses a numerical value (decimal or 0x hex, RFC 7143 §6.1); undefined when malformed or unsafe. */
export function parseNumber(value: string): number | undefined {
  if (!NUMBER.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

function parseBoolean(value: string): boolean | undefined {
  return value === 'Yes' ? true : value === 'No' ? false : undefined;
}

const yesNo = (b: boolean) => (b ? 'Yes' : 'No');

function inRange(def: KeyDefinition, n: number): boolean {
  return !def.range || (n >= def.range[0] && n <= def.range[1]);
}

/** The value a side offers for `key`, from its OperationalValues. */
function localValue(local: OperationalValues, key: string): string {
  // Keys outside OperationalValues (TaskReporting, iSCSIProtocolLevel): we support exactly their defaults.
  if (!(key in FIELD_OF_KEY)) return keyDefinition(key)!.default!;
  const v = local[FIELD_OF_KEY[key]];
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'boolean') return yesNo(v);
  return String(v);
}

/**
 * The responder's answer to an offered value (RFC 7143 §6.2): returns [answer, resulting value]. `local` is what
 * this side supports or would have chosen. Values outside the key's range or grammar are answered Reject and the
 * key keeps its default.
 */
export function respondToOffer(def: KeyDefinition, offered: string, local: string): [answer: string, result: string | undefined] {
  if (SPECIAL_ANSWERS.has(offered)) throw new NegotiationError(def.name, offered, 'is an answer, not an offer');
  switch (def.type) {
    case 'list': {
      const supported = splitList(local);
      const pick = splitList(offered).find((v) => supported.includes(v));
      return pick === undefined ? ['Reject', undefined] : [pick, pick];
    }
    case 'min':
    case 'max': {
      const mine = parseNumber(local)!;
      const n = parseNumber(offered);
      if (n === undefined || !inRange(def, n)) return ['Reject', undefined];
      const v = String(def.type === 'min' ? Math.min(n, mine) : Math.max(n, mine));
      return [v, v];
    }
    case 'and':
    case 'or': {
      const mine = parseBoolean(local)!;
      const b = parseBoolean(offered);
      if (b === undefined) return ['Reject', undefined];
      const v = yesNo(def.type === 'and' ? b && mine : b || mine);
      return [v, v];
    }
    case 'declarative':
      throw new NegotiationError(def.name, offered, 'is declarative and takes no answer');
  }
}

/**
 * What the initiator offers for one digest key: CRC32C only when asked for (`true`), None only when refused
 * (`false`), and, when the user said neither, CRC32C with None as the fallback, so a target that wants digests
 * gets them and one that does not still logs in.
 */
export function digestOffer(want: boolean | undefined): Digest[] {
  return want === undefined ? ['CRC32C', 'None'] : want ? ['CRC32C'] : ['None'];
}

/**
 * The target accepts none of the digests we offered: falling back to the default (None) would run the session with
 * a digest one side refused, so the login ends here, naming the key and the setting that would work.
 */
function digestRejected(key: string, offered: string, answer: string): NegotiationError {
  const fix = offered.includes('CRC32C') ? 'turn digests off (--no-digests, digests: false)' : 'turn digests on (--digests, digests: true)';
  return new NegotiationError(key, offered, `the target accepts none of these (it answered ${answer}); ${fix}`);
}

/**
 * Checks the peer's answer to our offer (RFC 7143 §6.2) and returns the resulting value (undefined = the key
 * keeps its default). Throws NegotiationError naming key and value when the answer breaks the key's rule.
 */
export function checkAnswer(def: KeyDefinition, offered: string, answer: string): string | undefined {
  if (SPECIAL_ANSWERS.has(answer)) return undefined;
  const illegal = (why: string) => new NegotiationError(def.name, answer, `illegal answer to ${offered}: ${why}`);
  switch (def.type) {
    case 'list':
      if (answer.includes(',')) throw illegal('a list answer must be a single value');
      if (!splitList(offered).includes(answer)) throw illegal('not one of the offered values');
      return answer;
    case 'min':
    case 'max': {
      const n = parseNumber(answer);
      if (n === undefined || !inRange(def, n)) throw illegal(`not a number in ${def.range?.join('..')}`);
      const o = parseNumber(offered)!;
      if (def.type === 'min' && n > o) throw illegal('exceeds the offered value (result function is minimum)');
      if (def.type === 'max' && n < o) throw illegal('is below the offered value (result function is maximum)');
      return String(n);
    }
    case 'and':
    case 'or': {
      const b = parseBoolean(answer);
      if (b === undefined) throw illegal('not Yes or No');
      if (def.type === 'and' && offered === 'No' && b) throw illegal('AND with an offered No can only be No');
      if (def.type === 'or' && offered === 'Yes' && !b) throw illegal('OR with an offered Yes can only be Yes');
      return answer;
    }
    case 'declarative':
      throw illegal('declarative keys take no answer');
  }
}

export interface NegotiationOptions {
  role: Role;
  /** This side's wishes (initiator) or limits (target). */
  local: OperationalValues;
  sessionType: SessionType;
  /** The leading (first) connection of a session; only it may carry LO keys. Default true. */
  leading?: boolean;
}

/** One side of the operational negotiation of one login. */
export class Negotiation {
  readonly role: Role;
  readonly sessionType: SessionType;
  private readonly local: OperationalValues;
  private readonly leading: boolean;
  /** Our offers still waiting for an answer. */
  private readonly pending = new Map<string, string>();
  /** Our offers, kept for the determined-boolean rule at the end. */
  private readonly offered = new Map<string, string>();
  private readonly results = new Map<string, string | undefined>();
  private readonly ownDeclared = new Map<string, string>();
  private readonly peerDeclared = new Map<string, string>();

  constructor(options: NegotiationOptions) {
    this.role = options.role;
    this.local = options.local;
    this.sessionType = options.sessionType;
    this.leading = options.leading ?? true;
    validateLocal(this.local);
  }

  private relevant(def: KeyDefinition): boolean {
    if (this.sessionType === 'Discovery' && def.irrelevantInDiscovery) return false;
    return this.leading || def.use !== 'LO';
  }

  /** The initiator's offers for the operational stage, with its MaxRecvDataSegmentLength declaration. */
  offers(): TextPair[] {
    const pairs: TextPair[] = [];
    for (const name of OFFER_ORDER) {
      const def = keyDefinition(name)!;
      if (!this.relevant(def) || this.results.has(name) || this.pending.has(name)) continue;
      const value = localValue(this.local, name);
      this.pending.set(name, value);
      this.offered.set(name, value);
      pairs.push([name, value]);
    }
    pairs.push(this.declare('MaxRecvDataSegmentLength', String(this.local.maxRecvDataSegmentLength)));
    return pairs;
  }

  /** Records a declaration of ours (MaxRecvDataSegmentLength, TargetAlias, TargetPortalGroupTag...) and returns the pair to send. */
  declare(key: string, value: string): TextPair {
    this.ownDeclared.set(key, value);
    return [key, value];
  }

  /** True once we declared `key` in this login. */
  hasDeclared(key: string): boolean { return this.ownDeclared.has(key); }

  /** A declarative value the peer sent. */
  peerDeclaration(key: string): string | undefined { return this.peerDeclared.get(key); }

  /** Offers of ours that the peer has not answered yet. */
  unanswered(): string[] { return [...this.pending.keys()]; }

  /**
   * Takes the peer's operational keys (answers to our offers, its own offers, declarations) and returns the
   * answers we owe. Throws NegotiationError on an illegal answer, a forbidden key or a renegotiated key.
   */
  receive(keys: ReadonlyMap<string, string>): TextPair[] {
    const answers: TextPair[] = [];
    for (const [name, value] of keys) {
      const obsolete = OBSOLETE_KEYS.get(name);
      if (obsolete !== undefined) {
        if (!SPECIAL_ANSWERS.has(value)) answers.push([name, obsolete]);
        continue;
      }
      const def = keyDefinition(name);
      if (!def) {
        if (this.pending.delete(name)) this.results.set(name, undefined);
        else if (value !== 'NotUnderstood') answers.push([name, 'NotUnderstood']);
        continue;
      }
      this.checkAllowed(def, value);
      if (def.type === 'declarative') {
        this.receiveDeclaration(def, value);
      } else if (this.pending.has(name)) {
        const offered = this.pending.get(name)!;
        // Reject, or (tgtd) its own setting in place of one of ours: either way it takes none of our digests.
        if ((name === 'HeaderDigest' || name === 'DataDigest') && (value === 'Reject' || !splitList(offered).includes(value))) throw digestRejected(name, offered, value);
        this.results.set(name, checkAnswer(def, this.pending.get(name)!, value));
        this.pending.delete(name);
      } else {
        if (this.results.has(name)) throw new NegotiationError(name, value, 'negotiated twice in one login');
        if (!this.relevant(def)) {
          answers.push([name, 'Irrelevant']);
          this.results.set(name, undefined);
          continue;
        }
        const [answer, result] = respondToOffer(def, value, localValue(this.local, name));
        answers.push([name, answer]);
        this.results.set(name, result);
      }
    }
    return this.reconcileBursts(answers, keys);
  }

  private checkAllowed(def: KeyDefinition, value: string): void {
    const peer: Role = this.role === 'initiator' ? 'target' : 'initiator';
    if (def.use === 'security') throw new NegotiationError(def.name, value, 'security key outside the SecurityNegotiation stage');
    if (def.use === 'FFPO') throw new NegotiationError(def.name, value, 'allowed in Full Feature Phase only');
    if (def.senders !== 'both' && def.senders !== peer) throw new NegotiationError(def.name, value, `may not be sent by the ${peer}`);
    if (def.use === 'LO' && !this.leading) throw new NegotiationError(def.name, value, 'leading-only key on a non-leading connection');
  }

  private receiveDeclaration(def: KeyDefinition, value: string): void {
    if (this.peerDeclared.has(def.name) && def.name !== 'TargetAddress') {
      throw new NegotiationError(def.name, value, 'declared twice in one login');
    }
    if (def.range) {
      const n = parseNumber(value);
      if (n === undefined || !inRange(def, n)) throw new NegotiationError(def.name, value, `not a number in ${def.range.join('..')}`);
    }
    if (def.values && !def.values.includes(value)) throw new NegotiationError(def.name, value, `must be one of ${def.values.join(', ')}`);
    this.peerDeclared.set(def.name, value);
  }

  /**
   * As responder, keep FirstBurstLength ≤ MaxBurstLength (RFC 7143 §13.14) and answer it Irrelevant when
   * InitialR2T=Yes and ImmediateData=No leave no unsolicited data to bound.
   */
  private reconcileBursts(answers: TextPair[], received: ReadonlyMap<string, string>): TextPair[] {
    const index = answers.findIndex(([k]) => k === 'FirstBurstLength');
    if (index < 0 || answers[index][1] === 'Reject') return answers;
    const offeredFirst = parseNumber(received.get('FirstBurstLength')!)!;
    const offeredMax = received.has('MaxBurstLength') ? parseNumber(received.get('MaxBurstLength')!) : undefined;
    if (offeredMax !== undefined && offeredFirst > offeredMax) {
      throw new NegotiationError('FirstBurstLength', String(offeredFirst), `exceeds the offered MaxBurstLength ${offeredMax}`);
    }
    const p = this.current();
    if (p.initialR2T && !p.immediateData) {
      answers[index] = ['FirstBurstLength', 'Irrelevant'];
      this.results.set('FirstBurstLength', undefined);
    } else if (p.firstBurstLength > p.maxBurstLength) {
      answers[index] = ['FirstBurstLength', String(p.maxBurstLength)];
      this.results.set('FirstBurstLength', String(p.maxBurstLength));
    }
    return answers;
  }

  /** The value of a negotiated key now: the result, a determined boolean offer, or the default. */
  private value(name: string): string {
    const result = this.results.get(name);
    if (result !== undefined) return result;
    const def = keyDefinition(name)!;
    const mine = this.offered.get(name);
    // A boolean offer that fixes the outcome by itself needs no answer (RFC 7143 §6.2.2).
    if (this.pending.has(name) && ((def.type === 'and' && mine === 'No') || (def.type === 'or' && mine === 'Yes'))) return mine!;
    return def.default!;
  }

  private current(): NegotiatedParameters {
    const num = (k: string) => parseNumber(this.value(k))!;
    const bool = (k: string) => this.value(k) === 'Yes';
    const declaredBy = (side: Role, k: string) => (side === this.role ? this.ownDeclared : this.peerDeclared).get(k);
    const mrdsl = (side: Role) => parseNumber(declaredBy(side, 'MaxRecvDataSegmentLength') ?? '8192')!;
    const tpgt = declaredBy('target', 'TargetPortalGroupTag');
    const params: NegotiatedParameters = {
      sessionType: this.sessionType,
      headerDigest: this.value('HeaderDigest') as Digest,
      dataDigest: this.value('DataDigest') as Digest,
      initiatorMaxRecvDataSegmentLength: mrdsl('initiator'),
      targetMaxRecvDataSegmentLength: mrdsl('target'),
      maxBurstLength: num('MaxBurstLength'),
      firstBurstLength: num('FirstBurstLength'),
      immediateData: bool('ImmediateData'),
      initialR2T: bool('InitialR2T'),
      maxOutstandingR2T: num('MaxOutstandingR2T'),
      maxConnections: num('MaxConnections'),
      defaultTime2Wait: num('DefaultTime2Wait'),
      defaultTime2Retain: num('DefaultTime2Retain'),
      dataPDUInOrder: bool('DataPDUInOrder'),
      dataSequenceInOrder: bool('DataSequenceInOrder'),
      errorRecoveryLevel: num('ErrorRecoveryLevel'),
      taskReporting: this.value('TaskReporting'),
      iSCSIProtocolLevel: num('iSCSIProtocolLevel'),
    };
    if (tpgt !== undefined) params.targetPortalGroupTag = parseNumber(tpgt);
    const targetAlias = declaredBy('target', 'TargetAlias');
    if (targetAlias !== undefined) params.targetAlias = targetAlias;
    const initiatorAlias = declaredBy('initiator', 'InitiatorAlias');
    if (initiatorAlias !== undefined) params.initiatorAlias = initiatorAlias;
    return params;
  }

  /**
   * The negotiated parameters. Offers left unanswered keep their default, except a boolean offer that decides
   * the result alone. Throws NegotiationError if the outcome breaks a cross-key rule.
   */
  parameters(): NegotiatedParameters {
    const p = this.current();
    const burstMatters = !(p.initialR2T && !p.immediateData);
    if (this.sessionType === 'Normal' && burstMatters && p.firstBurstLength > p.maxBurstLength) {
      throw new NegotiationError('FirstBurstLength', String(p.firstBurstLength), `exceeds MaxBurstLength ${p.maxBurstLength}`);
    }
    return p;
  }
}

/** Throws RangeError when this side's own configuration is outside RFC 7143 ranges. */
export function validateLocal(local: OperationalValues): void {
  for (const [name, field] of Object.entries(FIELD_OF_KEY)) {
    const def = keyDefinition(name)!;
    const v = local[field];
    if (Array.isArray(v)) {
      if (v.length === 0 || v.some((d) => !def.values!.includes(d))) throw new RangeError(`${field} must list values of ${def.values!.join(', ')}`);
    } else if (typeof v === 'number') {
      if (!Number.isInteger(v) || !inRange(def, v)) throw new RangeError(`${field} = ${v} is outside ${def.range!.join('..')}`);
    } else if (typeof v !== 'boolean') {
      throw new RangeError(`${field} must be a boolean`);
    }
  }
  if (local.firstBurstLength > local.maxBurstLength) throw new RangeError(`firstBurstLength ${local.firstBurstLength} exceeds maxBurstLength ${local.maxBurstLength}`);
}
