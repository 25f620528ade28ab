import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import {
  AuthenticationError, ChapAlgorithm, ChapInitiator, ChapTarget, chapResponse, decodeBinary, encodeBinary,
} from '../lib/protocol/chap';
import { NegotiationError } from '../lib/protocol/errors';

const m = (pairs: readonly (readonly [string, string])[]) => new Map(pairs.map(([k, v]) => [k, v]));

describe('protocol/chap: responses', () => {
  it('match vectors computed independently (Python hashlib) for every algorithm', () => {
    const secret = 'mysecret12345';
    const seq = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i));
    assert.equal(chapResponse(ChapAlgorithm.MD5, 7, secret, seq(16)).toString('hex'), 'a92123f1e6c958da8067077481ab5de4');
    assert.equal(chapResponse(ChapAlgorithm.SHA1, 0, secret, seq(20)).toString('hex'), 'ce7b0c5278f6cb636c244af46be006b91ffcc58f');
    assert.equal(chapResponse(ChapAlgorithm.SHA256, 200, secret, seq(32)).toString('hex'), 'bcb08d967fd02165d2431d8a730cc4b5b535366343dce8fa274057682f14d5e0');
    assert.equal(chapResponse(ChapAlgorithm.SHA3_256, 255, secret, seq(32)).toString('hex'), 'c09122846376279b5190cbf8e38509d19e602911ca2aaaf3fc33880fb747aac7');
  });
  it('reject identifiers outside 0..255', () => {
    assert.throws(() => chapResponse(ChapAlgorithm.MD5, 256, 's', Buffer.alloc(16)), RangeError);
  });
  it('uses the IANA / LIO CHAP_A numbers', () => {
    assert.deepEqual([ChapAlgorithm.MD5, ChapAlgorithm.SHA1, ChapAlgorithm.SHA256, ChapAlgorithm.SHA3_256], [5, 6, 7, 8]);
  });
});

describe('protocol/chap: binary values', () => {
  const bytes = Buffer.from('00ff10abcdef', 'hex');
  it('encodes and decodes hex (0x) and base64 (0b)', () => {
    assert.equal(encodeBinary(bytes), '0x00ff10abcdef');
    assert.equal(encodeBinary(bytes, 'base64'), '0bAP8Qq83v');
    assert.deepEqual(decodeBinary('CHAP_C', '0x00FF10ABCDEF'), bytes);
    assert.deepEqual(decodeBinary('CHAP_C', '0X00ff10abcdef'), bytes);
    assert.deepEqual(decodeBinary('CHAP_C', '0bAP8Qq83v'), bytes);
    assert.deepEqual(decodeBinary('CHAP_C', '0x123'), Buffer.from('0123', 'hex'));
  });
  it('rejects malformed values naming the key', () => {
    for (const bad of ['00ff', '0x', '0xzz', '0b', '0b!!!!', 'abc', '0bA']) {
      assert.throws(() => decodeBinary('CHAP_R', bad), (e: NegotiationError) => e instanceof NegotiationError && e.key === 'CHAP_R');
    }
    assert.throws(() => decodeBinary('CHAP_C', `0x${'00'.repeat(1025)}`), /1024/);
  });
});

describe('protocol/chap: initiator against target', () => {
  const alice = { user: 'alice', secret: 'alice-secret-1234' };
  const tgt = { user: 'iqn.2024-01.test:tgt', secret: 'target-secret-5678' };
  const lookup = (u: string) => (u === alice.user ? alice.secret : undefined);

  it('one-way CHAP: the target verifies a correct response; an independent computation agrees', () => {
    const i = new ChapInitiator({ ...alice, algorithms: [ChapAlgorithm.MD5] });
    const t = new ChapTarget({ lookup });
    assert.deepEqual(i.algorithmOffer(), ['CHAP_A', '5']);
    const challenge = m(t.challengeFor(i.algorithmOffer()[1]));
    assert.equal(challenge.get('CHAP_A'), '5');
    assert.equal(decodeBinary('CHAP_C', challenge.get('CHAP_C')!).length, 16);
    const answer = m(i.answerChallenge(challenge));
    assert.equal(answer.get('CHAP_N'), 'alice');
    const expected = createHash('md5').update(Buffer.from([Number(challenge.get('CHAP_I'))]))
      .update(alice.secret).update(decodeBinary('CHAP_C', challenge.get('CHAP_C')!)).digest();
    assert.deepEqual(decodeBinary('CHAP_R', answer.get('CHAP_R')!), expected);
    assert.deepEqual(t.verify(answer), []);
    assert.equal(t.user, 'alice');
  });

  it('the target picks the first offered algorithm it accepts; challenge length follows the digest', () => {
    const t = new ChapTarget({ lookup, algorithms: [ChapAlgorithm.MD5, ChapAlgorithm.SHA256] });
    const c = m(t.challengeFor('8,7,5'));
    assert.equal(c.get('CHAP_A'), '7');
    assert.equal(decodeBinary('CHAP_C', c.get('CHAP_C')!).length, 32);
    assert.throws(() => new ChapTarget({ lookup, algorithms: [ChapAlgorithm.MD5] }).challengeFor('6,7'), AuthenticationError);
  });

  it('a wrong secret fails with an AuthenticationError naming the user and the initiator side', () => {
    const i = new ChapInitiator({ user: 'alice', secret: 'not-the-secret' });
    const t = new ChapTarget({ lookup });
    const answer = m(i.answerChallenge(m(t.challengeFor(i.algorithmOffer()[1]))));
    assert.throws(() => t.verify(answer), (e: AuthenticationError) =>
      e instanceof AuthenticationError && e.user === 'alice' && e.side === 'initiator' && /"alice"/.test(e.message) && /initiator/.test(e.message));
  });

  it('an unknown user fails', () => {
    const i = new ChapInitiator({ user: 'mallory', secret: 'whatever-secret' });
    const t = new ChapTarget({ lookup });
    assert.throws(() => t.verify(m(i.answerChallenge(m(t.challengeFor('7'))))), /unknown CHAP user/);
  });

  it('mutual CHAP in both encodings: the target answers the initiator challenge and the initiator verifies it', () => {
    for (const encoding of ['hex', 'base64'] as const) {
      const i = new ChapInitiator({ ...alice, mutual: tgt, encoding });
      const t = new ChapTarget({ lookup, outgoing: tgt, encoding });
      const answer = m(i.answerChallenge(m(t.challengeFor(i.algorithmOffer()[1]))));
      assert.ok(answer.has('CHAP_I') && answer.has('CHAP_C'));
      assert.equal(answer.get('CHAP_R')![1], encoding === 'hex' ? 'x' : 'b');
      const reply = m(t.verify(answer));
      assert.equal(reply.get('CHAP_N'), tgt.user);
      i.verifyTarget(reply);
    }
  });

  it('mutual CHAP: a target with the wrong secret fails on the target side', () => {
    const i = new ChapInitiator({ ...alice, mutual: tgt });
    const t = new ChapTarget({ lookup, outgoing: { user: tgt.user, secret: 'impostor-secret-0' } });
    const reply = m(t.verify(m(i.answerChallenge(m(t.challengeFor('7,5'))))));
    assert.throws(() => i.verifyTarget(reply), (e: AuthenticationError) => e.side === 'target' && e.user === tgt.user);
    assert.throws(() => i.verifyTarget(new Map()), /CHAP_N is missing/);
    assert.throws(() => i.verifyTarget(m([['CHAP_N', 'other'], ['CHAP_R', '0x00']])), /answered as "other"/);
  });

  it('the target refuses a mutual challenge that reflects its own', () => {
    const t = new ChapTarget({ lookup, outgoing: tgt });
    const c = m(t.challengeFor('5'));
    const id = Number(c.get('CHAP_I'));
    const r = chapResponse(ChapAlgorithm.MD5, id, alice.secret, decodeBinary('CHAP_C', c.get('CHAP_C')!));
    assert.throws(() => t.verify(m([['CHAP_N', 'alice'], ['CHAP_R', encodeBinary(r)], ['CHAP_I', '1'], ['CHAP_C', c.get('CHAP_C')!]])), /reflects/);
  });

  it('mutual CHAP requested from a target without credentials fails on the target side', () => {
    const i = new ChapInitiator({ ...alice, mutual: tgt });
    const t = new ChapTarget({ lookup });
    assert.throws(() => t.verify(m(i.answerChallenge(m(t.challengeFor('7'))))), (e: AuthenticationError) => e.side === 'target');
  });

  it('the initiator checks the target choice and configuration', () => {
    const i = new ChapInitiator({ ...alice, algorithms: [ChapAlgorithm.SHA256] });
    assert.throws(() => i.answerChallenge(m([['CHAP_A', '5'], ['CHAP_I', '1'], ['CHAP_C', '0x00']])), NegotiationError);
    assert.throws(() => i.answerChallenge(m([['CHAP_A', 'Reject']])), AuthenticationError);
    assert.throws(() => i.answerChallenge(m([['CHAP_A', '7'], ['CHAP_I', '300'], ['CHAP_C', '0x00']])), /CHAP_I/);
    assert.throws(() => new ChapInitiator({ ...alice, mutual: { user: 'x', secret: alice.secret } }), /differ/);
    assert.throws(() => new ChapInitiator({ user: 'a', secret: '' }), RangeError);
  });
});
