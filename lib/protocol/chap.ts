// CHAP for iSCSI (RFC 7143 §12.1.3, RFC 1994): one-way and mutual, both sides. Response = H(CHAP_I ‖ secret ‖
// CHAP_C) with H chosen by CHAP_A; the numbers are the IANA "PPP Authentication Algorithms" values, the same
// ones Linux LIO uses (CHAP_DIGEST_MD5 5, SHA1 6, SHA256 7, SHA3_256 8). Binary values travel as 0x hex or 0b
// base64 (RFC 7143 §6.1).
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { NegotiationError } from './errors';
import { TextPair, MAX_BINARY_LENGTH, splitList } from './text';
import { parseNumber } from './negotiation';

export enum ChapAlgorithm {
  MD5 = 5,
  SHA1 = 6,
  SHA256 = 7,
  SHA3_256 = 8,
}

interface AlgorithmInfo { name: string; hash: string; length: number }
const ALGORITHMS: ReadonlyMap<number, AlgorithmInfo> = new Map([
  [ChapAlgorithm.MD5, { name: 'MD5', hash: 'md5', length: 16 }],
  [ChapAlgorithm.SHA1, { name: 'SHA-1', hash: 'sha1', length: 20 }],
  [ChapAlgorithm.SHA256, { name: 'SHA-256', hash: 'sha256', length: 32 }],
  [ChapAlgorithm.SHA3_256, { name: 'SHA3-256', hash: 'sha3-256', length: 32 }],
]);

/** Preferred first: SHA-256 where the peer has it, MD5 (the only one RFC 7143 mandates) otherwise. */
export const DEFAULT_CHAP_ALGORITHMS: readonly ChapAlgorithm[] = [ChapAlgorithm.SHA256, ChapAlgorithm.MD5];

/** Digest length of an algorithm; our challenges have this length too (as LIO does). */
export function chapDigestLength(algorithm: ChapAlgorithm): number {
  return algorithmInfo(algorithm).length;
}

function algorithmInfo(algorithm: number): AlgorithmInfo {
  const info = ALGORITHMS.get(algorithm);
  if (!info) throw new RangeError(`unsupported CHAP algorithm ${algorithm}`);
  return info;
}

/** Which side failed to prove its identity. */
export type ChapSide = 'initiator' | 'target';

/** CHAP failed: `side` did not authenticate as `user`. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  readonly code = 'EAUTH';
  /** `cause`: the target's refusal (a LoginError) when it, not our check, ended the authentication. */
  constructor(readonly user: string | undefined, readonly side: ChapSide, readonly reason: string, cause?: Error) {
    super(`CHAP authentication of the ${side}${user === undefined ? '' : ` "${user}"`} failed: ${reason}`, cause ? { cause } : undefined);
  }
}

export interface ChapCredentials { user: string; secret: string | Buffer }

/** CHAP response H(id ‖ secret ‖ challenge) (RFC 1994 §4.1). */
export function chapResponse(algorithm: ChapAlgorithm, id: number, secret: string | Buffer, challenge: Buffer): Buffer {
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new RangeError(`CHAP identifier ${id} is not 0..255`);
  return createHash(algorithmInfo(algorithm).hash).update(Buffer.of(id)).update(toBuffer(secret)).update(challenge).digest();
}

/** Encodes a binary value as `0x…` (hex) or `0b…` (base64). */
export function encodeBinary(value: Buffer, form: 'hex' | 'base64' = 'hex'): string {
  return form === 'hex' ? `0x${value.toString('hex')}` : `0b${value.toString('base64')}`;
}

/** Decodes a `0x`/`0X` hex or `0b`/`0B` base64 value; throws NegotiationError naming `key` when malformed. */
export function decodeBinary(key: string, value: string): Buffer {
  const prefix = value.slice(0, 2).toLowerCase();
  const body = value.slice(2);
  let out: Buffer | undefined;
  if (prefix === '0x' && /^[0-9a-fA-F]+$/.test(body)) {
    out = Buffer.from(body.length % 2 ? `0${body}` : body, 'hex');
  } else if (prefix === '0b' && /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 !== 1) {
    out = Buffer.from(body, 'base64');
  }
  if (!out || out.length === 0) throw new NegotiationError(key, value, 'not a 0x hex or 0b base64 binary value');
  if (out.length > MAX_BINARY_LENGTH) throw new NegotiationError(key, value, `binary value longer than ${MAX_BINARY_LENGTH} bytes`);
  return out;
}

function toBuffer(secret: string | Buffer): Buffer {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
}

function checkCredentials(what: string, c: ChapCredentials): void {
  if (!c.user) throw new RangeError(`${what}: CHAP user name is empty`);
  if (toBuffer(c.secret).length === 0) throw new RangeError(`${what}: CHAP secret is empty`);
}

function parseIdentifier(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const id = parseNumber(value);
  return id !== undefined && id <= 255 ? id : undefined;
}

function required(keys: ReadonlyMap<string, string>, key: string, user: string | undefined, side: ChapSide): string {
  const v = keys.get(key);
  if (v === undefined) throw new AuthenticationError(user, side, `${key} is missing`);
  return v;
}

export interface ChapInitiatorOptions extends ChapCredentials {
  /** CHAP_A values to offer, in preference order. Default: SHA-256, MD5. */
  algorithms?: readonly ChapAlgorithm[];
  /** Mutual CHAP: the target must prove it knows this secret under this name. */
  mutual?: ChapCredentials;
  /** Encoding of the binary values we send. Default hex. */
  encoding?: 'hex' | 'base64';
}

/** The initiator's side of CHAP: answer the target's challenge, and for mutual CHAP challenge the target. */
export class ChapInitiator {
  private readonly algorithms: readonly ChapAlgorithm[];
  private algorithm?: ChapAlgorithm;
  private ourId?: number;
  private ourChallenge?: Buffer;

  constructor(private readonly options: ChapInitiatorOptions) {
    checkCredentials('initiator', options);
    this.algorithms = options.algorithms ?? DEFAULT_CHAP_ALGORITHMS;
    if (this.algorithms.length === 0) throw new RangeError('no CHAP algorithm to offer');
    this.algorithms.forEach(algorithmInfo);
    if (options.mutual) {
      checkCredentials('mutual (target)', options.mutual);
      // RFC 7143 §12.1.3: a secret must never serve to authenticate both directions.
      if (toBuffer(options.mutual.secret).equals(toBuffer(options.secret))) {
        throw new RangeError('mutual CHAP: the target secret must differ from the initiator secret');
      }
    }
  }

  get mutual(): boolean { return this.options.mutual !== undefined; }

  /** The algorithm the target chose from our offer, once its challenge has been answered. */
  get chosenAlgorithm(): ChapAlgorithm | undefined { return this.algorithm; }

  /** The CHAP_A offer of the first CHAP step. */
  algorithmOffer(): TextPair {
    return ['CHAP_A', this.algorithms.join(',')];
  }

  /** Answers the target's CHAP_A/CHAP_I/CHAP_C with CHAP_N/CHAP_R, plus CHAP_I/CHAP_C of our own for mutual CHAP. */
  answerChallenge(keys: ReadonlyMap<string, string>): TextPair[] {
    const user = this.options.user;
    const a = required(keys, 'CHAP_A', user, 'initiator');
    if (a === 'Reject') throw new AuthenticationError(user, 'initiator', `the target supports none of the CHAP algorithms ${this.algorithms.join(',')}`);
    const algorithm = parseNumber(a);
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) throw new NegotiationError('CHAP_A', a, `not one of the offered ${this.algorithms.join(',')}`);
    const id = parseIdentifier(required(keys, 'CHAP_I', user, 'initiator'));
    if (id === undefined) throw new NegotiationError('CHAP_I', keys.get('CHAP_I'), 'not a number in 0..255');
    const challenge = decodeBinary('CHAP_C', required(keys, 'CHAP_C', user, 'initiator'));
    this.algorithm = algorithm;
    const form = this.options.encoding ?? 'hex';
    const answer: TextPair[] = [
      ['CHAP_N', user],
      ['CHAP_R', encodeBinary(chapResponse(algorithm, id, this.options.secret, challenge), form)],
    ];
    if (this.options.mutual) {
      this.ourId = randomInt(256);
      do this.ourChallenge = randomBytes(chapDigestLength(algorithm)); while (this.ourChallenge.equals(challenge));
      answer.push(['CHAP_I', String(this.ourId)], ['CHAP_C', encodeBinary(this.ourChallenge, form)]);
    }
    return answer;
  }

  /** Mutual CHAP: checks the target's CHAP_N/CHAP_R against our challenge; throws AuthenticationError. */
  verifyTarget(keys: ReadonlyMap<string, string>): void {
    const mutual = this.options.mutual;
    if (!mutual) return;
    if (this.algorithm === undefined || this.ourChallenge === undefined || this.ourId === undefined) {
      throw new AuthenticationError(mutual.user, 'target', 'the target ended authentication before it was challenged');
    }
    const name = required(keys, 'CHAP_N', mutual.user, 'target');
    if (name !== mutual.user) throw new AuthenticationError(mutual.user, 'target', `it answered as "${name}"`);
    const response = decodeBinary('CHAP_R', required(keys, 'CHAP_R', mutual.user, 'target'));
    const expected = chapResponse(this.algorithm, this.ourId, mutual.secret, this.ourChallenge);
    if (response.length !== expected.length || !timingSafeEqual(response, expected)) {
      throw new AuthenticationError(mutual.user, 'target', 'wrong CHAP_R (the target does not know the mutual secret)');
    }
  }
}

export interface ChapTargetOptions {
  /** The secret of an initiator CHAP user, or undefined when the user is unknown. */
  lookup: (user: string) => string | Buffer | undefined;
  /** The target's own credentials, used when the initiator asks for mutual CHAP. */
  outgoing?: ChapCredentials;
  /** Algorithms the target accepts. Default: all of MD5, SHA-1, SHA-256, SHA3-256. */
  algorithms?: readonly ChapAlgorithm[];
  encoding?: 'hex' | 'base64';
}

/** The target's side of CHAP: challenge the initiator, verify it, and answer a mutual challenge. */
export class ChapTarget {
  private algorithm?: ChapAlgorithm;
  private id?: number;
  private challenge?: Buffer;
  /** The CHAP_N the initiator authenticated as, once verified. */
  user?: string;

  constructor(private readonly options: ChapTargetOptions) {
    if (options.outgoing) checkCredentials('target', options.outgoing);
  }

  /** Picks the first offered CHAP_A we accept and returns CHAP_A, CHAP_I and a fresh CHAP_C. */
  challengeFor(offer: string): TextPair[] {
    const accepted = this.options.algorithms ?? [...ALGORITHMS.keys()];
    const pick = splitList(offer).map(parseNumber).find((n): n is number => n !== undefined && accepted.includes(n));
    if (pick === undefined) throw new AuthenticationError(undefined, 'initiator', `no acceptable CHAP algorithm in CHAP_A=${offer}`);
    this.algorithm = pick;
    this.id = randomInt(256);
    this.challenge = randomBytes(chapDigestLength(pick));
    return [['CHAP_A', String(pick)], ['CHAP_I', String(this.id)], ['CHAP_C', encodeBinary(this.challenge, this.options.encoding ?? 'hex')]];
  }

  /**
   * Verifies CHAP_N/CHAP_R; if the initiator also sent CHAP_I/CHAP_C (mutual CHAP) returns our CHAP_N/CHAP_R,
   * else an empty list. Throws AuthenticationError naming the user on any failure.
   */
  verify(keys: ReadonlyMap<string, string>): TextPair[] {
    if (this.algorithm === undefined || this.challenge === undefined || this.id === undefined) {
      throw new AuthenticationError(keys.get('CHAP_N'), 'initiator', 'CHAP_R before a challenge was issued');
    }
    const user = required(keys, 'CHAP_N', undefined, 'initiator');
    const response = decodeBinary('CHAP_R', required(keys, 'CHAP_R', user, 'initiator'));
    const secret = this.options.lookup(user);
    if (secret === undefined) throw new AuthenticationError(user, 'initiator', 'unknown CHAP user');
    const expected = chapResponse(this.algorithm, this.id, secret, this.challenge);
    if (response.length !== expected.length || !timingSafeEqual(response, expected)) {
      throw new AuthenticationError(user, 'initiator', 'wrong CHAP_R (wrong secret)');
    }
    const mutualId = keys.get('CHAP_I');
    const mutualChallenge = keys.get('CHAP_C');
    if (mutualId === undefined && mutualChallenge === undefined) {
      this.user = user;
      return [];
    }
    const outgoing = this.options.outgoing;
    if (!outgoing) throw new AuthenticationError(user, 'target', 'mutual CHAP requested but the target has no credentials');
    const id = parseIdentifier(mutualId);
    if (id === undefined) throw new NegotiationError('CHAP_I', mutualId, 'not a number in 0..255');
    const challenge = decodeBinary('CHAP_C', required(keys, 'CHAP_C', user, 'initiator'));
    // A reflected challenge would let an attacker use us as an oracle for our own challenge (RFC 7143 §12.1.3).
    if (challenge.equals(this.challenge)) throw new AuthenticationError(user, 'initiator', 'mutual CHAP challenge reflects the target challenge');
    if (toBuffer(outgoing.secret).equals(toBuffer(secret))) {
      throw new AuthenticationError(user, 'target', 'the target secret equals the initiator secret');
    }
    this.user = user;
    const form = this.options.encoding ?? 'hex';
    return [['CHAP_N', outgoing.user], ['CHAP_R', encodeBinary(chapResponse(this.algorithm, id, outgoing.secret, challenge), form)]];
  }
}
