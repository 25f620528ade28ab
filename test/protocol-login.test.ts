import { strict as assert } from 'node:assert';
import { encodeBhs, BhsInit, LoginRequest, LoginResponse } from '../lib/wire/bhs';
import { Opcode } from '../lib/wire/opcodes';
import { InitiatorLogin, InitiatorLoginOptions } from '../lib/protocol/initiator-login';
import { TargetLogin, TargetLoginConfig, TargetNodeConfig } from '../lib/protocol/target-login';
import { AuthenticationError } from '../lib/protocol/chap';
import { LoginError } from '../lib/protocol/login-status';
import { NegotiationError, ProtocolError } from '../lib/protocol/errors';
import { deriveIsid } from '../lib/protocol/isid';
import { decodeTextKeys, decodeTextPairs, encodeText } from '../lib/protocol/text';
import type { OutgoingPdu, Pdu } from '../lib/protocol/pdu';
import { runLogin, runLoginExpectingError, wire } from './support/protocol-login-harness';

const INITIATOR = 'iqn.2024-01.org.example:initiator';
const TARGET = 'iqn.2024-01.org.example:disk1';
const alice = { user: 'alice', secret: 'alice-secret-1234' };
const tgtCreds = { user: TARGET, secret: 'target-secret-5678' };
const isid = deriveIsid({ initiatorName: INITIATOR, targetName: TARGET, portal: '127.0.0.1:3260', sourceAddress: '127.0.0.2' });

function initiator(extra: Partial<InitiatorLoginOptions> = {}) {
  return new InitiatorLogin({ initiatorName: INITIATOR, targetName: TARGET, isid, itt: 0x10, cmdSN: 100, ...extra });
}
function target(extra: Partial<TargetLoginConfig> = {}, node: TargetNodeConfig = {}) {
  return new TargetLogin({ findTarget: (n) => (n === TARGET ? { alias: 'disk one', ...node } : undefined), portalGroupTag: 7, statSN: 5000, allocateTsih: () => 0x1234, ...extra });
}
const chapTarget = (outgoing = false) => target({}, { auth: { chap: { lookup: (u: string) => (u === alice.user ? alice.secret : undefined), ...(outgoing ? { outgoing: tgtCreds } : {}) } } });
const keysOf = (p: Pdu) => decodeTextKeys(p.data);

describe('protocol/login: initiator and target machines against each other', () => {
  it('no authentication: two round trips, RFC rules on every PDU', () => {
    const { step, exchange, last } = runLogin(initiator(), target());
    assert.equal(step.kind, 'done');
    const { requests: q, responses: r } = exchange;
    assert.equal(q.length, 2);
    // First request: identity, AuthMethod=None, and a request to move on to the operational stage.
    assert.deepEqual([...keysOf(q[0])], [['InitiatorName', INITIATOR], ['SessionType', 'Normal'], ['TargetName', TARGET], ['AuthMethod', 'None']]);
    assert.deepEqual([q[0].bhs.csg, q[0].bhs.transit, q[0].bhs.nsg], [0, true, 1]);
    assert.deepEqual([r[0].bhs.csg, r[0].bhs.transit, r[0].bhs.nsg], [0, true, 1]);
    assert.equal(keysOf(r[0]).get('TargetPortalGroupTag'), '7');
    assert.equal(keysOf(r[0]).get('TargetAlias'), 'disk one');
    assert.deepEqual([q[1].bhs.csg, q[1].bhs.transit, q[1].bhs.nsg], [1, true, 3]);
    assert.deepEqual([r[1].bhs.csg, r[1].bhs.transit, r[1].bhs.nsg], [1, true, 3]);
    // Every Login Request: immediate, version 0, same ITT/ISID/CID/CmdSN, TSIH 0; ExpStatSN follows StatSN.
    for (const req of q) {
      const raw = Buffer.alloc(48);
      encodeBhs({ ...req.bhs } as BhsInit, raw);
      assert.equal(raw[0], 0x43);
      assert.deepEqual([req.bhs.versionMax, req.bhs.versionMin, req.bhs.itt, req.bhs.cid, req.bhs.cmdSN, req.bhs.tsih], [0, 0, 0x10, 0, 100, 0]);
      assert.deepEqual(req.bhs.isid, isid);
    }
    assert.equal(q[1].bhs.expStatSN, r[0].bhs.statSN + 1);
    assert.deepEqual([r[0].bhs.statSN, r[1].bhs.statSN, r[1].bhs.expCmdSN, r[1].bhs.tsih, r[0].bhs.tsih], [5000, 5001, 100, 0x1234, 0]);
    if (step.kind !== 'done') return;
    assert.deepEqual({ ...step.result, parameters: undefined }, {
      parameters: undefined, tsih: 0x1234, cmdSN: 100, expStatSN: 5002, expCmdSN: 100, maxCmdSN: 131, targetPortalGroupTag: 7, authentication: 'None',
    });
    assert.equal(last.outcome, 'established');
    assert.deepEqual(last.session!.parameters, step.result.parameters);
    assert.equal(last.session!.statSN, step.result.expStatSN);
    assert.equal(last.session!.expCmdSN, 100);
    assert.equal(step.result.parameters.targetAlias, 'disk one');
  });

  it('discovery session: no TargetName, no session data keys, no TPGT needed', () => {
    const { step, exchange, last } = runLogin(new InitiatorLogin({ initiatorName: INITIATOR, isid }), target());
    assert.equal(step.kind, 'done');
    assert.ok(!keysOf(exchange.requests[0]).has('TargetName'));
    assert.equal(keysOf(exchange.requests[0]).get('SessionType'), 'Discovery');
    assert.ok(!keysOf(exchange.requests[1]).has('InitialR2T'));
    assert.equal(last.session!.sessionType, 'Discovery');
    assert.equal(last.session!.targetName, undefined);
  });

  it('one-way CHAP (SHA-256 preferred)', () => {
    const { step, exchange, last } = runLogin(initiator({ chap: alice }), chapTarget());
    assert.equal(step.kind === 'done' && step.result.authentication, 'CHAP');
    const q = exchange.requests.map(keysOf);
    const r = exchange.responses.map(keysOf);
    assert.equal(q[0].get('AuthMethod'), 'CHAP,None');
    assert.equal(r[0].get('AuthMethod'), 'CHAP');
    assert.equal(q[1].get('CHAP_A'), '7,5');
    assert.equal(r[1].get('CHAP_A'), '7');
    assert.equal(q[2].get('CHAP_N'), 'alice');
    assert.ok(!q[2].has('CHAP_C'));
    assert.equal(exchange.requests[2].bhs.transit, true);
    assert.equal(last.session!.chapUser, 'alice');
  });

  it('mutual CHAP with MD5 only', () => {
    const { step, exchange } = runLogin(initiator({ chap: { ...alice, algorithms: [5], mutual: tgtCreds } }), chapTarget(true));
    assert.equal(step.kind === 'done' && step.result.authentication, 'CHAP-mutual');
    assert.equal(keysOf(exchange.requests[0]).get('AuthMethod'), 'CHAP');
    assert.equal(keysOf(exchange.responses[2]).get('CHAP_N'), TARGET);
  });

  it('wrong initiator secret: AuthenticationError caused by LoginError authentication-failed; the target reports the user', () => {
    const { error, last } = runLoginExpectingError(initiator({ chap: { ...alice, secret: 'wrong-secret-0000' } }), chapTarget());
    assert.ok(error instanceof AuthenticationError, `${error.name}: ${error.message}`);
    assert.deepEqual([error.side, error.user, error.code], ['initiator', 'alice', 'EAUTH']);
    assert.match(error.message, /alice.*refused our CHAP response/);
    assert.ok(error.cause instanceof LoginError);
    assert.equal(error.cause.reason, 'authentication-failed');
    assert.equal(last.outcome, 'failed');
    assert.ok(last.error instanceof AuthenticationError);
    assert.match(last.error!.message, /initiator "alice"/);
  });

  it('a refusal answering our CHAP response: 0x0200 (as tgtd sends it) is an AuthenticationError, 0x0202 stays a LoginError', () => {
    // Response 2 answers our CHAP_N/CHAP_R (0: AuthMethod, 1: challenge).
    const refuse = (detail: number) => (p: Pdu<LoginResponse>, i: number) => {
      if (i === 2) {
        Object.assign(p.bhs, { statusClass: 2, statusDetail: detail, transit: false, nsg: 0 });
        p.data = Buffer.alloc(0);
      }
      return p;
    };
    const i = initiator({ chap: alice });
    const generic = runLoginExpectingError(i, chapTarget(), refuse(0)).error;
    assert.ok(generic instanceof AuthenticationError, `${generic.name}: ${generic.message}`);
    assert.ok(generic.cause instanceof LoginError && generic.cause.reason === 'initiator-error');
    assert.equal(i.chapAlgorithm, 7, 'the algorithm the target chose from 7,5 stays visible after the failure');
    const denied = runLoginExpectingError(initiator({ chap: alice }), chapTarget(), refuse(2)).error;
    assert.ok(denied instanceof LoginError && denied.reason === 'authorization-failure', `${denied.name}: ${denied.message}`);
    // The same status before any CHAP response is the target refusing the login, not our credentials.
    const early = runLoginExpectingError(initiator({ chap: alice }), chapTarget(), (p, n) => { if (n === 0) Object.assign(p.bhs, { statusClass: 2, statusDetail: 0 }); return p; }).error;
    assert.ok(early instanceof LoginError && early.reason === 'initiator-error', `${early.name}: ${early.message}`);
    assert.equal(initiator({ chap: { ...alice, algorithms: [5] } }).chapAlgorithm, undefined);
  });

  it('wrong target secret in mutual CHAP: AuthenticationError on the target side', () => {
    const t = target({}, { auth: { chap: { lookup: () => alice.secret, outgoing: { user: TARGET, secret: 'impostor-secret-9' } } } });
    const { error } = runLoginExpectingError(initiator({ chap: { ...alice, mutual: tgtCreds } }), t);
    assert.ok(error instanceof AuthenticationError);
    assert.equal((error as AuthenticationError).side, 'target');
    assert.equal((error as AuthenticationError).user, TARGET);
  });

  it('a target requiring CHAP refuses an initiator without credentials', () => {
    const { error } = runLoginExpectingError(initiator(), chapTarget());
    assert.equal((error as LoginError).reason, 'authentication-failed');
  });

  it('a target without authentication: one-way CHAP falls back to None, mutual CHAP does not', () => {
    const ok = runLogin(initiator({ chap: alice }), target());
    assert.equal(ok.step.kind === 'done' && ok.step.result.authentication, 'None');
    const { error } = runLoginExpectingError(initiator({ chap: { ...alice, mutual: tgtCreds } }), target());
    assert.equal((error as LoginError).reason, 'authentication-failed');
  });

  it('redirect at the security stage (temporary) and at the operational stage (permanent)', () => {
    const early = runLogin(initiator(), target({ redirect: (c) => (c.stage === 0 ? { address: '127.0.0.9', port: 3261, permanent: false } : undefined) }));
    assert.deepEqual(early.step, { kind: 'redirect', redirect: { address: '127.0.0.9', port: 3261, permanent: false, addresses: [{ address: '127.0.0.9', port: 3261 }] } });
    assert.deepEqual([early.exchange.responses[0].bhs.statusClass, early.exchange.responses[0].bhs.statusDetail], [1, 1]);
    assert.equal(early.last.outcome, 'redirected');
    const late = runLogin(initiator({ chap: alice }), target({ redirect: (c) => (c.stage === 1 && c.authenticated ? { address: '::1', port: 3260, permanent: true } : undefined) },
      { auth: { chap: { lookup: () => alice.secret } } }));
    assert.equal(late.step.kind, 'redirect');
    if (late.step.kind === 'redirect') assert.deepEqual([late.step.redirect.address, late.step.redirect.permanent], ['::1', true]);
    assert.equal(late.exchange.responses.at(-1)!.data.toString(), 'TargetAddress=[::1]:3260\0');
  });

  it('continuation both ways: long text goes in ≤ 8192-byte PDUs with the C bit and empty acknowledgements', () => {
    const extensionKeys: [string, string][] = [];
    for (let i = 0; i < 300; i++) extensionKeys.push([`X-org.example.key${i}`, 'v'.repeat(100)]);
    const { step, exchange } = runLogin(initiator({ extensionKeys }), target());
    assert.equal(step.kind, 'done');
    const { requests: q, responses: r } = exchange;
    const all = [...q, ...r];
    assert.ok(all.every((p) => p.data.length <= 8192));
    assert.ok(all.every((p) => !(p.bhs.cont && p.bhs.transit)));
    const continued = q.filter((p) => p.bhs.cont);
    assert.ok(continued.length >= 1, 'the initiator continued its text');
    for (let i = 0; i < q.length; i++) if (q[i].bhs.cont) assert.equal(r[i].data.length, 0, 'the target acknowledges with an empty response');
    const rc = r.findIndex((p) => p.bhs.cont);
    assert.ok(rc >= 0, 'the target continued its answer (NotUnderstood for each key)');
    assert.equal(q[rc + 1].data.length, 0);
    assert.equal(q[rc + 1].bhs.transit, false);
    // Reassembled, the target's answer holds one NotUnderstood per extension key.
    const text = Buffer.concat(r.slice(rc).map((p) => p.data));
    assert.equal(decodeTextPairs(text).filter(([, v]) => v === 'NotUnderstood').length, 300);
  });

  it('digests: CRC32C when both accept it, None otherwise', () => {
    const both = runLogin(initiator({ digests: { header: ['CRC32C', 'None'], data: ['CRC32C', 'None'] } }), target({ limits: { headerDigest: ['CRC32C', 'None'], dataDigest: ['None'] } }));
    assert.ok(both.step.kind === 'done');
    if (both.step.kind !== 'done') return;
    assert.deepEqual([both.step.result.parameters.headerDigest, both.step.result.parameters.dataDigest], ['CRC32C', 'None']);
    assert.deepEqual([both.last.session!.parameters.headerDigest, both.last.session!.parameters.dataDigest], ['CRC32C', 'None']);
  });

  it('ImmediateData / InitialR2T and burst limits: both sides reach the same values', () => {
    const cases = [
      { i: { immediateData: true, initialR2T: false }, t: { immediateData: true, initialR2T: false }, want: [true, false] },
      { i: { immediateData: true, initialR2T: false }, t: { immediateData: false, initialR2T: true }, want: [false, true] },
      { i: { immediateData: false, initialR2T: true }, t: { immediateData: true, initialR2T: false }, want: [false, true] },
    ];
    for (const c of cases) {
      const { step, last } = runLogin(initiator({ operational: c.i }), target({ limits: c.t }));
      if (step.kind !== 'done') assert.fail('login failed');
      assert.deepEqual([step.result.parameters.immediateData, step.result.parameters.initialR2T], c.want);
      assert.deepEqual(last.session!.parameters, step.result.parameters);
    }
    const { step } = runLogin(
      initiator({ operational: { maxRecvDataSegmentLength: 16777215, maxBurstLength: 1048576, firstBurstLength: 524288 } }),
      target({ limits: { maxRecvDataSegmentLength: 512, maxBurstLength: 131072, firstBurstLength: 8192 } }),
    );
    if (step.kind !== 'done') assert.fail('login failed');
    const p = step.result.parameters;
    assert.deepEqual([p.initiatorMaxRecvDataSegmentLength, p.targetMaxRecvDataSegmentLength, p.maxBurstLength, p.firstBurstLength], [16777215, 512, 131072, 8192]);
  });
});

describe('protocol/login: the initiator refuses responses that break the RFC', () => {
  const tamperAt = (index: number, f: (p: Pdu<LoginResponse>) => void) => (p: Pdu<LoginResponse>, i: number) => {
    if (i === index) f(p);
    return p;
  };
  const fails = (tamper: (p: Pdu<LoginResponse>, i: number) => Pdu<LoginResponse>, type: Function, pattern: RegExp) => {
    const { error } = runLoginExpectingError(initiator(), target(), tamper);
    assert.ok(error instanceof type, `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return error;
  };

  it('wrong Version-active', () => fails(tamperAt(0, (p) => { p.bhs.versionActive = 1; }), ProtocolError, /Version-active/));
  it('Version-max changing during login', () => fails(tamperAt(1, (p) => { p.bhs.versionMax = 2; }), ProtocolError, /Version-max/));
  it('an illegal stage transition', () => fails(tamperAt(0, (p) => { p.bhs.nsg = 2; }), ProtocolError, /transition/));
  it('a transit to a stage we did not ask for', () => fails(tamperAt(0, (p) => { p.bhs.nsg = 3; }), ProtocolError, /transition/));
  it('a response for another stage', () => fails(tamperAt(1, (p) => { p.bhs.csg = 0; }), ProtocolError, /CSG/));
  it('T and C both set', () => fails(tamperAt(0, (p) => { p.bhs.cont = true; }), ProtocolError, /both T and C/));
  it('login data over 8192 bytes', () => fails(tamperAt(0, (p) => { p.data = Buffer.alloc(8193); }), ProtocolError, /8192/));
  it('a foreign ISID or ITT', () => {
    fails(tamperAt(0, (p) => { p.bhs.isid = Buffer.alloc(6); }), ProtocolError, /ISID/);
    fails(tamperAt(0, (p) => { p.bhs.itt = 99; }), ProtocolError, /ITT/);
  });
  it('a redirect or refusal with ISID 0 (as tgtd sends them) is still a redirect or a LoginError', () => {
    const zeroIsid = (statusClass: number, data: string) => tamperAt(0, (p) => {
      Object.assign(p.bhs, { statusClass, statusDetail: 1, isid: Buffer.alloc(6), transit: false, nsg: 0 });
      p.data = Buffer.from(data);
    });
    const moved = runLogin(initiator(), target(), zeroIsid(1, 'TargetAddress=127.0.0.9:3261,1\0')).step;
    assert.deepEqual(moved.kind === 'redirect' && [moved.redirect.address, moved.redirect.port], ['127.0.0.9', 3261]);
    fails(zeroIsid(2, ''), LoginError, /authentication failed/);
  });
  it('TSIH 0 in the final response of a new session', () => fails(tamperAt(1, (p) => { p.bhs.tsih = 0; }), ProtocolError, /TSIH/));
  it('an illegal negotiation answer names the key and the value', () => {
    const error = fails(tamperAt(1, (p) => {
      const keys = decodeTextKeys(p.data);
      keys.set('MaxBurstLength', '33554432');
      p.data = encodeText(keys);
    }), NegotiationError, /MaxBurstLength=33554432/);
    assert.equal((error as NegotiationError).key, 'MaxBurstLength');
  });
  it('a missing TargetPortalGroupTag in a Normal session', () => fails(tamperAt(0, (p) => {
    const keys = decodeTextKeys(p.data);
    keys.delete('TargetPortalGroupTag');
    p.data = encodeText(keys);
  }), NegotiationError, /TargetPortalGroupTag/));
  it('a status-class 3 response is a retryable LoginError and yields no sequence numbers', () => {
    const error = fails(tamperAt(1, (p) => { p.bhs.statusClass = 3; p.bhs.statusDetail = 2; p.bhs.statSN = 1; }), LoginError, /out of resources/);
    assert.equal((error as LoginError).retryable, true);
  });
  it('a redirect without TargetAddress', () => fails(tamperAt(0, (p) => { p.bhs.statusClass = 1; p.bhs.statusDetail = 1; p.data = Buffer.alloc(0); }), ProtocolError, /TargetAddress/));
  it('refuses use after the end', () => {
    const i = initiator();
    const { step } = runLogin(i, target());
    assert.equal(step.kind, 'done');
    assert.throws(() => i.receive({ bhs: {} as LoginResponse, data: Buffer.alloc(0) }), ProtocolError);
  });
});

describe('protocol/login: the target refuses bad logins with the right status', () => {
  function request(keys: [string, string][], over: Partial<LoginRequest> = {}): Pdu<LoginRequest> {
    const data = encodeText(keys);
    const bhs: BhsInit<LoginRequest> = {
      opcode: Opcode.LoginRequest, transit: true, cont: false, csg: 0, nsg: 1, versionMax: 0, versionMin: 0, isid, tsih: 0,
      itt: 1, cid: 0, cmdSN: 1, expStatSN: 0, dataLength: data.length, ...over,
    };
    return wire({ bhs, data });
  }
  const status = (t: TargetLogin, req: Pdu<LoginRequest>) => {
    const reply = t.receive(req);
    return [reply.outcome, (reply.pdu.bhs.statusClass << 8) | reply.pdu.bhs.statusDetail];
  };
  const identity: [string, string][] = [['InitiatorName', INITIATOR], ['SessionType', 'Normal'], ['TargetName', TARGET], ['AuthMethod', 'None']];

  it('missing InitiatorName or TargetName: 0x0207', () => {
    assert.deepEqual(status(target(), request([['TargetName', TARGET], ['AuthMethod', 'None']])), ['failed', 0x0207]);
    assert.deepEqual(status(target(), request([['InitiatorName', INITIATOR], ['AuthMethod', 'None']])), ['failed', 0x0207]);
  });
  it('unknown target: 0x0203, through the initiator as target-not-found', () => {
    const { error } = runLoginExpectingError(initiator({ targetName: 'iqn.2024-01.org.example:nope' }), target());
    assert.equal((error as LoginError).reason, 'target-not-found');
  });
  it('authorization, session type, version and TSIH checks', () => {
    assert.deepEqual(status(target({ authorize: () => false }), request(identity)), ['failed', 0x0202]);
    assert.deepEqual(status(target({ discovery: { allowed: false } }), request([['InitiatorName', INITIATOR], ['SessionType', 'Discovery'], ['AuthMethod', 'None']])), ['failed', 0x0209]);
    assert.deepEqual(status(target(), request([['InitiatorName', INITIATOR], ['SessionType', 'Bogus']])), ['failed', 0x0209]);
    assert.deepEqual(status(target(), request(identity, { versionMin: 1, versionMax: 1 })), ['failed', 0x0205]);
    assert.deepEqual(status(target(), request(identity, { tsih: 9 })), ['failed', 0x020a]);
  });
  it('malformed text and illegal transitions: initiator errors', () => {
    assert.deepEqual(status(target(), wire({ bhs: { ...request(identity).bhs, dataLength: 3 }, data: Buffer.from('A=1') })), ['failed', 0x0200]);
    assert.deepEqual(status(target(), request(identity, { nsg: 0 })), ['failed', 0x020b]);
    assert.deepEqual(status(target(), request(identity, { csg: 3, nsg: 3 })), ['failed', 0x020b]);
  });
  it('skipping the security stage is refused when CHAP is required, allowed otherwise', () => {
    const ops: [string, string][] = [['InitiatorName', INITIATOR], ['TargetName', TARGET], ['MaxRecvDataSegmentLength', '65536']];
    assert.deepEqual(status(chapTarget(), request(ops, { csg: 1, nsg: 3 })), ['failed', 0x0201]);
    const t = target();
    const reply = t.receive(request(ops, { csg: 1, nsg: 3 }));
    assert.equal(reply.outcome, 'established');
    assert.equal(reply.session!.parameters.initiatorMaxRecvDataSegmentLength, 65536);
    assert.equal(keysOf(wire(reply.pdu)).get('MaxRecvDataSegmentLength'), '8192');
  });
  it('a changed CmdSN or ISID during login: 0x0200', () => {
    const t = chapTarget();
    assert.equal(t.receive(request([...identity.slice(0, 3), ['AuthMethod', 'CHAP']], { transit: false, nsg: 0 })).outcome, 'continue');
    assert.deepEqual(status(t, request([['CHAP_A', '5']], { transit: false, nsg: 0, cmdSN: 2 })), ['failed', 0x0200]);
  });
});

describe('protocol/login: target offers along the way (as tgtd makes them)', () => {
  const addKeys = (extra: Record<string, string>) => (p: Pdu<LoginResponse>, i: number) => {
    if (i === 1) p.data = Buffer.concat([p.data, encodeText(Object.entries(extra))]);
    return p;
  };
  it('answers target offers in a T=0 response and then completes', () => {
    const i = initiator();
    const t = target();
    const q0 = wire((i.start() as { pdu: OutgoingPdu<LoginRequest> }).pdu);
    const r0 = wire(t.receive(q0).pdu);
    const q1 = wire((i.receive(r0) as { pdu: OutgoingPdu<LoginRequest> }).pdu);
    // The target holds back the transit and offers keys of its own.
    const r1 = wire(t.receive(q1).pdu);
    r1.bhs.transit = false;
    r1.bhs.nsg = 0;
    r1.bhs.tsih = 0;
    r1.data = Buffer.concat([r1.data, encodeText([['OFMarker', 'No'], ['TaskReporting', 'RFC3720,FastAbort']])]);
    const step = i.receive(r1);
    assert.equal(step.kind, 'send');
    const q2 = wire((step as { pdu: OutgoingPdu<LoginRequest> }).pdu);
    assert.deepEqual([...keysOf(q2)], [['OFMarker', 'Reject'], ['TaskReporting', 'RFC3720']]);
    assert.deepEqual([q2.bhs.csg, q2.bhs.transit, q2.bhs.nsg, q2.bhs.expStatSN], [1, true, 3, r1.bhs.statSN + 1]);
    const final = wire<LoginResponse>({ bhs: { ...r1.bhs, transit: true, nsg: 3, tsih: 0x77, statSN: r1.bhs.statSN + 1 }, data: Buffer.alloc(0) });
    const done = i.receive(final);
    assert.equal(done.kind, 'done');
    if (done.kind === 'done') assert.deepEqual([done.result.tsih, done.result.expStatSN, done.result.parameters.taskReporting], [0x77, r1.bhs.statSN + 2, 'RFC3720']);
  });
  it('a final response with agreeing offers is accepted, a disagreeing one is not', () => {
    assert.equal(runLogin(initiator(), target(), addKeys({ IFMarker: 'No', OFMarkInt: 'Reject', iSCSIProtocolLevel: '1' })).step.kind, 'done');
    const { error } = runLoginExpectingError(initiator(), target(), addKeys({ TaskReporting: 'FastAbort' }));
    assert.match(error.message, /TaskReporting=FastAbort/);
  });
});
