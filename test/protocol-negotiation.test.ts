import { strict as assert } from 'node:assert';
import { KEY_DEFINITIONS, keyDefinition } from '../lib/protocol/keys';
import {
  INITIATOR_DEFAULTS, Negotiation, OperationalValues, RFC_DEFAULTS, checkAnswer, respondToOffer, validateLocal,
} from '../lib/protocol/negotiation';
import { NegotiationError } from '../lib/protocol/errors';

const def = (name: string) => keyDefinition(name)!;
const keys = (o: Record<string, string>) => new Map(Object.entries(o));

describe('protocol/keys: the RFC 7143 key table', () => {
  // [key, type, scope, use, default, range]
  const table: [string, string, string, string, string | undefined, [number, number] | undefined][] = [
    ['HeaderDigest', 'list', 'connection', 'IO', 'None', undefined],
    ['DataDigest', 'list', 'connection', 'IO', 'None', undefined],
    ['MaxConnections', 'min', 'session', 'LO', '1', [1, 65535]],
    ['InitialR2T', 'or', 'session', 'LO', 'Yes', undefined],
    ['ImmediateData', 'and', 'session', 'LO', 'Yes', undefined],
    ['MaxRecvDataSegmentLength', 'declarative', 'connection', 'ALL', '8192', [512, 2 ** 24 - 1]],
    ['MaxBurstLength', 'min', 'session', 'LO', '262144', [512, 2 ** 24 - 1]],
    ['FirstBurstLength', 'min', 'session', 'LO', '65536', [512, 2 ** 24 - 1]],
    ['DefaultTime2Wait', 'max', 'session', 'LO', '2', [0, 3600]],
    ['DefaultTime2Retain', 'min', 'session', 'LO', '20', [0, 3600]],
    ['MaxOutstandingR2T', 'min', 'session', 'LO', '1', [1, 65535]],
    ['DataPDUInOrder', 'or', 'session', 'LO', 'Yes', undefined],
    ['DataSequenceInOrder', 'or', 'session', 'LO', 'Yes', undefined],
    ['ErrorRecoveryLevel', 'min', 'session', 'LO', '0', [0, 2]],
    ['SessionType', 'declarative', 'session', 'LO', 'Normal', undefined],
    ['TargetPortalGroupTag', 'declarative', 'session', 'IO', undefined, [0, 65535]],
    ['AuthMethod', 'list', 'connection', 'security', 'None', undefined],
    ['SendTargets', 'declarative', 'session', 'FFPO', undefined, undefined],
  ];
  for (const [name, type, scope, use, dflt, range] of table) {
    it(`${name}: ${type}, ${scope}, ${use}, default ${dflt}`, () => {
      const d = def(name);
      assert.equal(d.type, type);
      assert.equal(d.scope, scope);
      assert.equal(d.use, use);
      assert.equal(d.default, dflt);
      assert.deepEqual(d.range, range);
    });
  }
  it('RFC_DEFAULTS agree with the key table', () => {
    for (const [name, field] of [['MaxBurstLength', 'maxBurstLength'], ['FirstBurstLength', 'firstBurstLength'], ['DefaultTime2Retain', 'defaultTime2Retain'], ['MaxRecvDataSegmentLength', 'maxRecvDataSegmentLength']] as const) {
      assert.equal(String(RFC_DEFAULTS[field]), KEY_DEFINITIONS.get(name)!.default);
    }
  });
});

describe('protocol/negotiation: responder rules key by key', () => {
  it('list: first offered value the responder supports, else Reject', () => {
    assert.deepEqual(respondToOffer(def('HeaderDigest'), 'CRC32C,None', 'None,CRC32C'), ['CRC32C', 'CRC32C']);
    assert.deepEqual(respondToOffer(def('HeaderDigest'), 'None,CRC32C', 'CRC32C,None'), ['None', 'None']);
    assert.deepEqual(respondToOffer(def('DataDigest'), 'CRC32C', 'None'), ['Reject', undefined]);
    assert.deepEqual(respondToOffer(def('DataDigest'), 'FancyCRC,CRC32C', 'CRC32C,None'), ['CRC32C', 'CRC32C']);
  });
  it('min: the smaller value; out of range answers Reject', () => {
    assert.deepEqual(respondToOffer(def('MaxBurstLength'), '16776192', '262144'), ['262144', '262144']);
    assert.deepEqual(respondToOffer(def('MaxBurstLength'), '65536', '262144'), ['65536', '65536']);
    assert.deepEqual(respondToOffer(def('MaxBurstLength'), '100', '262144'), ['Reject', undefined]);
    assert.deepEqual(respondToOffer(def('ErrorRecoveryLevel'), '2', '0'), ['0', '0']);
    assert.deepEqual(respondToOffer(def('ErrorRecoveryLevel'), '3', '0'), ['Reject', undefined]);
    assert.deepEqual(respondToOffer(def('MaxConnections'), '0x10', '4'), ['4', '4']); // hex numbers are numbers
    assert.deepEqual(respondToOffer(def('MaxConnections'), 'many', '4'), ['Reject', undefined]);
  });
  it('max: the larger value (DefaultTime2Wait)', () => {
    assert.deepEqual(respondToOffer(def('DefaultTime2Wait'), '2', '5'), ['5', '5']);
    assert.deepEqual(respondToOffer(def('DefaultTime2Wait'), '10', '5'), ['10', '10']);
    assert.deepEqual(respondToOffer(def('DefaultTime2Wait'), '3601', '5'), ['Reject', undefined]);
  });
  it('and (ImmediateData) and or (InitialR2T, DataPDUInOrder)', () => {
    assert.deepEqual(respondToOffer(def('ImmediateData'), 'Yes', 'Yes'), ['Yes', 'Yes']);
    assert.deepEqual(respondToOffer(def('ImmediateData'), 'Yes', 'No'), ['No', 'No']);
    assert.deepEqual(respondToOffer(def('ImmediateData'), 'No', 'Yes'), ['No', 'No']);
    assert.deepEqual(respondToOffer(def('InitialR2T'), 'No', 'No'), ['No', 'No']);
    assert.deepEqual(respondToOffer(def('InitialR2T'), 'No', 'Yes'), ['Yes', 'Yes']);
    assert.deepEqual(respondToOffer(def('InitialR2T'), 'Yes', 'No'), ['Yes', 'Yes']);
    assert.deepEqual(respondToOffer(def('DataPDUInOrder'), 'maybe', 'Yes'), ['Reject', undefined]);
  });
  it('refuses Reject/Irrelevant/NotUnderstood as offers and answers to declaratives', () => {
    assert.throws(() => respondToOffer(def('MaxBurstLength'), 'Reject', '512'), NegotiationError);
    assert.throws(() => respondToOffer(def('MaxRecvDataSegmentLength'), '512', '512'), NegotiationError);
  });
});

describe('protocol/negotiation: the originator checks answers', () => {
  const illegal = (name: string, offered: string, answer: string) =>
    assert.throws(() => checkAnswer(def(name), offered, answer), (e: NegotiationError) => e instanceof NegotiationError && e.key === name && e.value === answer);
  it('list: the answer must be one offered value', () => {
    assert.equal(checkAnswer(def('HeaderDigest'), 'CRC32C,None', 'None'), 'None');
    illegal('HeaderDigest', 'CRC32C', 'None'); // None is selectable only if offered
    illegal('HeaderDigest', 'CRC32C,None', 'CRC32C,None');
  });
  it('min / max: the answer must respect the result function and the range', () => {
    assert.equal(checkAnswer(def('MaxBurstLength'), '262144', '65536'), '65536');
    illegal('MaxBurstLength', '262144', '524288');
    illegal('MaxBurstLength', '262144', '256');
    illegal('FirstBurstLength', '65536', 'lots');
    assert.equal(checkAnswer(def('DefaultTime2Wait'), '2', '4'), '4');
    illegal('DefaultTime2Wait', '4', '2');
    illegal('ErrorRecoveryLevel', '0', '1');
  });
  it('booleans: a determined outcome cannot be overturned', () => {
    illegal('ImmediateData', 'No', 'Yes');
    assert.equal(checkAnswer(def('ImmediateData'), 'Yes', 'No'), 'No');
    illegal('InitialR2T', 'Yes', 'No');
    assert.equal(checkAnswer(def('InitialR2T'), 'No', 'Yes'), 'Yes');
    illegal('DataSequenceInOrder', 'No', 'Perhaps');
  });
  it('Reject, Irrelevant and NotUnderstood leave the default', () => {
    for (const a of ['Reject', 'Irrelevant', 'NotUnderstood']) assert.equal(checkAnswer(def('MaxBurstLength'), '512', a), undefined);
  });
});

describe('protocol/negotiation: Negotiation between an initiator and a target', () => {
  function negotiate(initiator: Partial<OperationalValues>, target: Partial<OperationalValues>, sessionType: 'Normal' | 'Discovery' = 'Normal') {
    const i = new Negotiation({ role: 'initiator', local: { ...INITIATOR_DEFAULTS, ...initiator }, sessionType });
    const t = new Negotiation({ role: 'target', local: { ...RFC_DEFAULTS, ...target }, sessionType });
    const offers = i.offers();
    const answers = t.receive(new Map(offers));
    answers.push(t.declare('MaxRecvDataSegmentLength', String(target.maxRecvDataSegmentLength ?? 8192)));
    assert.deepEqual(i.receive(new Map(answers)), []);
    return { i: i.parameters(), t: t.parameters(), offers: new Map(offers), answers: new Map(answers) };
  }

  it('agrees on both sides and keeps MaxRecvDataSegmentLength per direction', () => {
    const { i, t } = negotiate({ maxRecvDataSegmentLength: 65536 }, { maxRecvDataSegmentLength: 16384 });
    assert.deepEqual(i, t);
    assert.equal(i.initiatorMaxRecvDataSegmentLength, 65536);
    assert.equal(i.targetMaxRecvDataSegmentLength, 16384);
  });

  it('digests: CRC32C only when both sides accept it', () => {
    assert.equal(negotiate({ headerDigest: ['CRC32C', 'None'] }, { headerDigest: ['CRC32C', 'None'] }).i.headerDigest, 'CRC32C');
    assert.equal(negotiate({ headerDigest: ['CRC32C', 'None'] }, { headerDigest: ['None'] }).i.headerDigest, 'None');
    assert.equal(negotiate({ dataDigest: ['None', 'CRC32C'] }, { dataDigest: ['CRC32C', 'None'] }).i.dataDigest, 'None');
  });

  it('digests: an offer the target rejects outright ends the login with a NegotiationError naming the key and the fix', () => {
    assert.throws(() => negotiate({ dataDigest: ['CRC32C'] }, { dataDigest: ['None'] }),
      (e: NegotiationError) => e instanceof NegotiationError && e.key === 'DataDigest' && /answered Reject.*--no-digests/.test(e.message));
    assert.throws(() => negotiate({ headerDigest: ['None'] }, { headerDigest: ['CRC32C'] }),
      (e: NegotiationError) => e instanceof NegotiationError && e.key === 'HeaderDigest' && /--digests, digests: true/.test(e.message));
  });

  it('ImmediateData / InitialR2T combinations', () => {
    for (const [iI, iR, tI, tR, immediate, r2t] of [
      [true, false, true, false, true, false], [true, false, false, false, false, false], [true, false, true, true, true, true],
      [false, true, true, false, false, true], [true, true, true, false, true, true],
    ] as const) {
      const { i } = negotiate({ immediateData: iI, initialR2T: iR }, { immediateData: tI, initialR2T: tR });
      assert.equal(i.immediateData, immediate, `ImmediateData ${iI}/${tI}`);
      assert.equal(i.initialR2T, r2t, `InitialR2T ${iR}/${tR}`);
    }
  });

  it('FirstBurstLength is Irrelevant when InitialR2T=Yes and ImmediateData=No', () => {
    const r = negotiate({ immediateData: false, initialR2T: true }, {});
    assert.equal(r.answers.get('FirstBurstLength'), 'Irrelevant');
    assert.equal(r.i.firstBurstLength, 65536);
  });

  it('burst limits: the minimum of both, FirstBurstLength never above MaxBurstLength', () => {
    const { i } = negotiate({ maxBurstLength: 1048576, firstBurstLength: 262144 }, { maxBurstLength: 131072, firstBurstLength: 131072 });
    assert.equal(i.maxBurstLength, 131072);
    assert.equal(i.firstBurstLength, 131072);
    // The initiator offers FirstBurstLength but leaves MaxBurstLength at its default of 262144.
    const t = new Negotiation({ role: 'target', local: { ...RFC_DEFAULTS, firstBurstLength: 1048576, maxBurstLength: 1048576 }, sessionType: 'Normal' });
    const a = new Map(t.receive(keys({ FirstBurstLength: '1048576' })));
    assert.equal(a.get('FirstBurstLength'), '262144');
    // A later, separate MaxBurstLength offer below it makes the outcome illegal.
    t.receive(keys({ MaxBurstLength: '512' }));
    assert.throws(() => t.parameters(), (e: NegotiationError) => e.key === 'FirstBurstLength');
  });

  it('rejects an initiator offering FirstBurstLength above its MaxBurstLength', () => {
    const t = new Negotiation({ role: 'target', local: RFC_DEFAULTS, sessionType: 'Normal' });
    assert.throws(() => t.receive(keys({ MaxBurstLength: '65536', FirstBurstLength: '131072' })), NegotiationError);
  });

  it('discovery sessions answer Irrelevant to session data keys and do not offer them', () => {
    const i = new Negotiation({ role: 'initiator', local: INITIATOR_DEFAULTS, sessionType: 'Discovery' });
    const offered = i.offers().map(([k]) => k);
    assert.ok(!offered.includes('InitialR2T') && !offered.includes('MaxBurstLength'));
    assert.ok(offered.includes('HeaderDigest') && offered.includes('MaxRecvDataSegmentLength'));
    const t = new Negotiation({ role: 'target', local: RFC_DEFAULTS, sessionType: 'Discovery' });
    assert.deepEqual(t.receive(keys({ ImmediateData: 'Yes' })), [['ImmediateData', 'Irrelevant']]);
  });

  it('answers unknown keys NotUnderstood and obsolete marker keys Reject', () => {
    const t = new Negotiation({ role: 'target', local: RFC_DEFAULTS, sessionType: 'Normal' });
    assert.deepEqual(t.receive(keys({ 'X-com.example.Foo': 'Bar', OFMarker: 'No', IFMarkInt: '2048~4096' })),
      [['X-com.example.Foo', 'NotUnderstood'], ['OFMarker', 'Reject'], ['IFMarkInt', 'Reject']]);
  });

  it('treats a renegotiated key, a key from the wrong sender and security keys as errors', () => {
    const t = new Negotiation({ role: 'target', local: RFC_DEFAULTS, sessionType: 'Normal' });
    t.receive(keys({ MaxOutstandingR2T: '4' }));
    assert.throws(() => t.receive(keys({ MaxOutstandingR2T: '4' })), /negotiated twice/);
    assert.throws(() => t.receive(keys({ TargetAlias: 'x' })), /may not be sent by the initiator/);
    assert.throws(() => t.receive(keys({ CHAP_A: '5' })), /security key/);
    assert.throws(() => t.receive(keys({ SendTargets: 'All' })), /Full Feature Phase only/);
    const nonLeading = new Negotiation({ role: 'target', local: RFC_DEFAULTS, sessionType: 'Normal', leading: false });
    assert.throws(() => nonLeading.receive(keys({ MaxBurstLength: '512' })), /leading-only/);
  });

  it('the initiator answers keys the target offers, and checks declarations', () => {
    const i = new Negotiation({ role: 'initiator', local: INITIATOR_DEFAULTS, sessionType: 'Normal' });
    i.offers();
    assert.deepEqual(i.receive(keys({ MaxOutstandingR2T: '1', TaskReporting: 'FastAbort,RFC3720' })), [['TaskReporting', 'RFC3720']]);
    assert.deepEqual(new Negotiation({ role: 'initiator', local: INITIATOR_DEFAULTS, sessionType: 'Normal' }).receive(keys({ TaskReporting: 'FastAbort' })), [['TaskReporting', 'Reject']]);
    assert.throws(() => i.receive(keys({ MaxRecvDataSegmentLength: '100' })), /512/);
    assert.throws(() => i.receive(keys({ TargetPortalGroupTag: '70000' })), NegotiationError);
  });

  it('unanswered offers keep the default unless the offer decides a boolean alone', () => {
    const i = new Negotiation({ role: 'initiator', local: { ...INITIATOR_DEFAULTS, dataPDUInOrder: true, immediateData: false }, sessionType: 'Normal' });
    i.offers();
    i.receive(keys({ InitialR2T: 'Yes' }));
    const p = i.parameters();
    assert.equal(p.maxBurstLength, 262144); // not answered: default, not our 16776192
    assert.equal(p.immediateData, false); // AND with No is No without an answer
    assert.equal(p.initialR2T, true);
    assert.ok(i.unanswered().includes('MaxBurstLength'));
  });

  it('validates local configuration', () => {
    assert.throws(() => validateLocal({ ...RFC_DEFAULTS, maxRecvDataSegmentLength: 100 }), RangeError);
    assert.throws(() => validateLocal({ ...RFC_DEFAULTS, firstBurstLength: 524288, maxBurstLength: 262144 }), RangeError);
    assert.throws(() => validateLocal({ ...RFC_DEFAULTS, headerDigest: [] }), RangeError);
  });
});
