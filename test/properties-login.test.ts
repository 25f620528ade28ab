// Properties of the two login state machines driven against each other in memory, PDU by PDU through the BHS codec:
// random settings on both sides, CHAP (one-way, mutual, right and wrong secrets, algorithm sets) or none, Normal or
// Discovery, extension keys, and the keys of every PDU shuffled. They must agree on the outcome and on every
// negotiated value, or both fail with typed errors.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { ChapAlgorithm } from '../lib/protocol/chap';
import { InitiatorLogin, InitiatorLoginOptions, InitiatorLoginStep, LoginResult } from '../lib/protocol/initiator-login';
import { OperationalValues } from '../lib/protocol/negotiation';
import type { Pdu } from '../lib/protocol/pdu';
import { EstablishedLogin, TargetLogin, TargetLoginConfig, TargetLoginReply } from '../lib/protocol/target-login';
import { decodeTextPairs, encodeText, TextPair } from '../lib/protocol/text';
import { decodeBhs, encodeBhs, BhsInit, LoginRequest, LoginResponse } from '../lib/wire/bhs';
import { digestClashes, expectedParameters, isTypedProtocolError, keyName, keySet, operationalValues } from './support/protocol-arbitraries';

const INITIATOR = 'iqn.2024-01.org.example:initiator';
const TARGET = 'iqn.2024-01.org.example:disk1';
const ALGORITHMS = [ChapAlgorithm.MD5, ChapAlgorithm.SHA1, ChapAlgorithm.SHA256, ChapAlgorithm.SHA3_256];

interface Scenario {
  discovery: boolean;
  wanted: OperationalValues;
  limits: OperationalValues;
  /** Initiator CHAP, and what the target knows. */
  chap?: { user: string; secret: string; algorithms: ChapAlgorithm[]; encoding: 'hex' | 'base64'; mutual?: { user: string; secret: string } };
  targetChap?: { user: string; secret: string; algorithms: ChapAlgorithm[]; outgoing?: { user: string; secret: string } };
  alias?: string;
  initiatorAlias?: string;
  extensionKeys: TextPair[];
  shuffleSeed: number;
}

// A few accounts, so that names and secrets on both sides often match and sometimes do not.
const account = fc.constantFrom({ user: 'alice', secret: 'alice-secret-1234' }, { user: 'bob', secret: 'bob-secret-56789' }, { user: 'alice', secret: 'wrong-secret-000' });
const targetAccount = fc.constantFrom({ user: TARGET, secret: 'target-secret-5678' }, { user: 'array', secret: 'array-secret-0001' }, { user: TARGET, secret: 'alice-secret-1234' });
const algorithms = fc.shuffledSubarray(ALGORITHMS, { minLength: 1 });
const scenario: fc.Arbitrary<Scenario> = fc.record({
  discovery: fc.boolean(),
  wanted: operationalValues,
  limits: operationalValues,
  chap: fc.option(fc.record({
    credentials: account, algorithms, encoding: fc.constantFrom('hex', 'base64') as fc.Arbitrary<'hex' | 'base64'>,
    mutual: fc.option(targetAccount, { nil: undefined }),
  }).map(({ credentials, ...rest }) => ({ ...credentials, ...rest })), { nil: undefined }),
  targetChap: fc.option(fc.record({
    credentials: account.filter((a) => a.secret !== 'wrong-secret-000'), algorithms, outgoing: fc.option(targetAccount, { nil: undefined }),
  }).map(({ credentials, ...rest }) => ({ ...credentials, ...rest })), { nil: undefined }),
  alias: fc.option(fc.constantFrom('disk one', 'ünïcödé alias', 'x'), { nil: undefined }),
  initiatorAlias: fc.option(fc.constantFrom('host-a', 'rechner ä'), { nil: undefined }),
  extensionKeys: fc.uniqueArray(fc.tuple(keyName.map((k) => `X-org.example.${k}`.slice(0, 63)), fc.constantFrom('1', 'Yes', 'abc')), { selector: ([k]) => k, maxLength: 3 })
    .map((pairs) => pairs as TextPair[]),
  shuffleSeed: fc.integer(),
}, { requiredKeys: ['discovery', 'wanted', 'limits', 'extensionKeys', 'shuffleSeed'] });

function wire<T extends LoginRequest | LoginResponse>(bhs: BhsInit<T>, data: Buffer): Pdu<T> {
  const raw = Buffer.alloc(48);
  encodeBhs({ ...bhs, dataLength: data.length } as BhsInit, raw);
  return { bhs: decodeBhs(raw) as T, data: Buffer.from(data) };
}

/** The same pairs in another order (a peer may order keys as it likes, RFC 7143 §6.1), when the text is whole. */
function shuffled(data: Buffer, cont: boolean, random: () => number): Buffer {
  if (cont || data.length === 0) return data;
  const pairs = decodeTextPairs(data);
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  return encodeText(pairs);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Outcome { result?: LoginResult; initiatorError?: unknown; session?: EstablishedLogin; lastReply?: TargetLoginReply }

function run(s: Scenario): Outcome {
  const options: InitiatorLoginOptions = {
    initiatorName: INITIATOR, isid: Buffer.from([0x80, 1, 2, 3, 4, 5]), itt: 7, cmdSN: 0xfffffff0,
    operational: s.wanted, extensionKeys: s.extensionKeys, initiatorAlias: s.initiatorAlias,
    ...(s.discovery ? {} : { targetName: TARGET }),
  };
  if (s.chap) options.chap = s.chap;
  const auth = s.targetChap && { chap: { lookup: (u: string) => (u === s.targetChap!.user ? s.targetChap!.secret : undefined), algorithms: s.targetChap.algorithms, outgoing: s.targetChap.outgoing } };
  const config: TargetLoginConfig = {
    findTarget: (n) => (n === TARGET ? { alias: s.alias, auth } : undefined), portalGroupTag: 3, limits: s.limits,
    discovery: { auth }, allocateTsih: () => 0x4242, statSN: 0xfffffffe,
  };
  const random = mulberry32(s.shuffleSeed);
  const out: Outcome = {};
  let initiator: InitiatorLogin;
  try {
    initiator = new InitiatorLogin(options);
  } catch (error) {
    // Settings the initiator refuses before any PDU (mutual CHAP with the same secret both ways).
    assert.ok(error instanceof RangeError, String(error));
    assert.equal(s.chap?.mutual?.secret, s.chap?.secret);
    return { initiatorError: error };
  }
  const target = new TargetLogin(config);
  try {
    let step: InitiatorLoginStep = initiator.start();
    for (let i = 0; step.kind === 'send'; i++) {
      assert.ok(i < 40, 'login does not converge');
      const req = wire<LoginRequest>(step.pdu.bhs, shuffled(step.pdu.data, step.pdu.bhs.cont, random));
      const reply = target.receive(req);
      out.lastReply = reply;
      if (reply.outcome === 'established') out.session = reply.session;
      if (reply.outcome === 'failed') assert.ok(isTypedProtocolError(reply.error), `target failed untyped: ${String(reply.error)}`);
      const rsp = wire<LoginResponse>(reply.pdu.bhs, shuffled(reply.pdu.data, reply.pdu.bhs.cont, random));
      step = initiator.receive(rsp);
    }
    assert.equal(step.kind, 'done');
    if (step.kind === 'done') out.result = step.result;
  } catch (error) {
    out.initiatorError = error;
  }
  return out;
}

/** Whether authentication can succeed, from the scenario alone. */
function authenticates(s: Scenario): boolean {
  if (!s.targetChap) return !s.chap?.mutual; // None needs the initiator to accept None
  if (!s.chap || s.chap.user !== s.targetChap.user || s.chap.secret !== s.targetChap.secret) return false;
  if (!s.chap.algorithms.some((a) => s.targetChap!.algorithms.includes(a))) return false;
  if (!s.chap.mutual) return true;
  const o = s.targetChap.outgoing;
  return o !== undefined && o.user === s.chap.mutual.user && o.secret === s.chap.mutual.secret && o.secret !== s.targetChap.secret;
}

describe('properties: initiator and target login machines against each other', () => {
  it('agree on the outcome and on every negotiated value, or both fail with typed errors', () => {
    const seen = { established: 0, failed: 0, chap: 0, mutual: 0 };
    fc.assert(fc.property(scenario, (s) => {
      const o = run(s);
      if (o.result) {
        seen.established++;
        if (o.result.authentication !== 'None') seen.chap++;
        if (o.result.authentication === 'CHAP-mutual') seen.mutual++;
      } else {
        seen.failed++;
      }
      if (o.initiatorError instanceof RangeError && !isTypedProtocolError(o.initiatorError)) return; // refused settings
      if (o.result) {
        assert.ok(o.session, 'the initiator is done but the target did not establish the session');
        assert.ok(authenticates(s), 'logged in although authentication should fail');
        assert.deepEqual(digestClashes(s.wanted, s.limits), [], 'logged in with a digest the initiator did not offer');
        assert.deepEqual(o.result.parameters, o.session.parameters);
        const { targetPortalGroupTag, targetAlias, initiatorAlias, ...negotiated } = o.result.parameters;
        assert.deepEqual(negotiated, expectedParameters(s.wanted, s.limits, s.discovery));
        assert.equal(targetPortalGroupTag, s.discovery ? undefined : 3);
        assert.equal(targetAlias, s.discovery ? undefined : s.alias);
        assert.equal(initiatorAlias, s.initiatorAlias);
        assert.equal(o.result.tsih, 0x4242);
        assert.equal(o.result.cmdSN, o.session.expCmdSN);
        assert.equal(o.result.expStatSN, o.session.statSN);
        assert.equal(o.result.maxCmdSN, (o.session.expCmdSN + 31) >>> 0);
        assert.equal(o.result.authentication, s.targetChap ? (s.chap?.mutual ? 'CHAP-mutual' : 'CHAP') : 'None');
        assert.equal(o.session.chapUser, s.targetChap ? s.chap!.user : undefined);
      } else {
        assert.ok(isTypedProtocolError(o.initiatorError), `initiator failed untyped: ${String(o.initiatorError)}`);
        const clashes = digestClashes(s.wanted, s.limits);
        // A digest clash is found in the target's last answer, which may already take the session to Full Feature
        // Phase on its side: the initiator then refuses it by closing the connection.
        if (clashes.length === 0) assert.notEqual(o.lastReply?.outcome, 'established', `the target established a session the initiator refused: ${String(o.initiatorError)}`);
        assert.ok(!authenticates(s) || clashes.length > 0, `login failed although it should succeed: ${String(o.initiatorError)}`);
      }
    }), { numRuns: 800 });
    // The generators must reach both outcomes and every kind of authentication, or the property says little.
    assert.ok(seen.established > 40 && seen.failed > 40 && seen.chap > 5 && seen.mutual > 0, JSON.stringify(seen));
  });

  it('a PDU of any other opcode during login is refused with 0x020b (invalid during login), never a throw', () => {
    const others = [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x31, 0x32, 0x3f];
    fc.assert(fc.property(fc.constantFrom(...others), fc.uint8Array({ minLength: 48, maxLength: 48 }), (opcode, raw) => {
      const buf = Buffer.from(raw);
      buf[0] = opcode;
      buf[8] &= 0x3f; // a LUN the codec can read back
      const reply = new TargetLogin({ findTarget: () => ({}), portalGroupTag: 1 }).receive({ bhs: decodeBhs(buf) as LoginRequest, data: Buffer.alloc(0) });
      assert.equal(reply.outcome, 'failed');
      assert.deepEqual([reply.pdu.bhs.statusClass, reply.pdu.bhs.statusDetail], [2, 0x0b]);
      assert.ok(isTypedProtocolError(reply.error));
      encodeBhs(reply.pdu.bhs as BhsInit, Buffer.alloc(48));
    }), { numRuns: 300 });
  });

  it('the initiator facing a target that says anything (random keys, flags, status) ends done, redirected or with a typed error', () => {
    const tamper = fc.record({
      at: fc.nat(4), keys: keySet, keep: fc.boolean(),
      flags: fc.record({ transit: fc.boolean(), cont: fc.boolean(), csg: fc.nat(3), nsg: fc.nat(3), statusClass: fc.constantFrom(0, 0, 0, 1, 2, 3, 9), statusDetail: fc.nat(12), tsih: fc.nat(0xffff) }, { requiredKeys: [] }),
    });
    fc.assert(fc.property(scenario, tamper, (s, t) => {
      const chap = s.chap && { ...s.chap, mutual: s.chap.mutual?.secret === s.chap.secret ? undefined : s.chap.mutual };
      const initiator = new InitiatorLogin({
        initiatorName: INITIATOR, isid: Buffer.from([0x80, 1, 2, 3, 4, 5]), itt: 7, operational: s.wanted, chap,
        ...(s.discovery ? {} : { targetName: TARGET }),
      });
      const auth = s.targetChap && { chap: { lookup: () => s.targetChap!.secret, algorithms: s.targetChap.algorithms } };
      const target = new TargetLogin({ findTarget: () => ({ auth }), portalGroupTag: 3, limits: s.limits, discovery: { auth } });
      try {
        let step: InitiatorLoginStep = initiator.start();
        for (let i = 0; step.kind === 'send' && i < 40; i++) {
          const reply = target.receive(wire<LoginRequest>(step.pdu.bhs, step.pdu.data));
          let data = reply.pdu.data;
          let bhs = reply.pdu.bhs;
          if (i === t.at) {
            data = t.keep ? Buffer.concat([data, encodeText(t.keys.filter(([k]) => !decodeTextPairs(data).some(([d]) => d === k)))]) : encodeText(t.keys);
            bhs = { ...bhs, ...t.flags };
          }
          step = initiator.receive(wire<LoginResponse>(bhs, data));
        }
      } catch (error) {
        assert.ok(isTypedProtocolError(error), `${(error as Error).stack}`);
      }
    }), { numRuns: 1000 });
  });
});
