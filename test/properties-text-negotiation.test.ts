// Properties of the text data segment (RFC 7143 §6.1) and of key negotiation (§6.2, §13), checked by fast-check over
// generated keys, values and both sides' settings instead of a handful of examples.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { formatSendTargets, formatTargetAddress, parseSendTargets, parseTargetAddress } from '../lib/protocol/discovery-text';
import { NegotiationError, TextFormatError } from '../lib/protocol/errors';
import { KEY_DEFINITIONS, KeyDefinition } from '../lib/protocol/keys';
import { checkAnswer, Negotiation, parseNumber, respondToOffer } from '../lib/protocol/negotiation';
import { decodeTextKeys, decodeTextPairs, encodeText, splitText, TextAssembler } from '../lib/protocol/text';
import { digestClashes, distinctPairs, expectedParameters, keySet, operationalValues } from './support/protocol-arbitraries';

const RUNS = { numRuns: 300 };

describe('properties: text data segments', () => {
  it('decode(encode(pairs)) gives the pairs back, in order', () => {
    fc.assert(fc.property(distinctPairs, (pairs) => {
      assert.deepEqual(decodeTextPairs(encodeText(pairs)), pairs);
      assert.deepEqual([...decodeTextKeys(encodeText(pairs))], pairs);
    }), RUNS);
  });

  it('any bytes decode to pairs or fail with TextFormatError, never another error', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), distinctPairs.map((p) => encodeText(p)).chain((b) => fc.uint8Array({ minLength: b.length, maxLength: b.length }).map((noise) => b.map((x, i) => (noise[i] < 8 ? noise[i] * 31 : x)))))
    , (bytes) => {
      try {
        for (const [k, v] of decodeTextPairs(Buffer.from(bytes))) assert.ok(!k.includes('=') && !v.includes('\0'));
      } catch (error) {
        assert.ok(error instanceof TextFormatError, String(error));
      }
    }), RUNS);
  });

  it('a repeated key is a TextFormatError for login text, and kept in order for SendTargets text', () => {
    fc.assert(fc.property(distinctPairs.filter((p) => p.length > 0), fc.nat(), (pairs, at) => {
      const withRepeat = [...pairs, pairs[at % pairs.length]];
      assert.throws(() => decodeTextKeys(encodeText(withRepeat)), TextFormatError);
      assert.deepEqual(decodeTextPairs(encodeText(withRepeat)), withRepeat);
    }), RUNS);
  });

  it('text split into PDUs of any size reassembles to the same bytes; every chunk fits', () => {
    fc.assert(fc.property(distinctPairs, fc.integer({ min: 1, max: 600 }), (pairs, max) => {
      const text = encodeText(pairs);
      const chunks = splitText(text, max);
      assert.ok(chunks.length >= 1 && chunks.every((c) => c.length <= max));
      const assembler = new TextAssembler();
      const results = chunks.map((c, i) => assembler.push(c, i < chunks.length - 1));
      assert.ok(results.slice(0, -1).every((r) => r === undefined));
      assert.ok(results[results.length - 1]!.equals(text));
      assert.equal(assembler.pending, false);
    }), RUNS);
  });

  it('the assembler holds at most its bound: more throws TextFormatError and resets', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4096 }), fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 20 }), (bound, sizes) => {
      const assembler = new TextAssembler(bound);
      let held = 0;
      for (const size of sizes) {
        held += size;
        if (held > bound) {
          assert.throws(() => assembler.push(Buffer.alloc(size), true), TextFormatError);
          assert.equal(assembler.pending, false);
          return;
        }
        assembler.push(Buffer.alloc(size), true);
      }
    }), RUNS);
  });
});

const NEGOTIATED = [...KEY_DEFINITIONS.values()].filter((d) => d.type !== 'declarative' && d.use !== 'security');

/** Valid values of a negotiated key, as either side could hold or offer them. */
function validValue(def: KeyDefinition): fc.Arbitrary<string> {
  switch (def.type) {
    case 'list': return fc.shuffledSubarray([...def.values!], { minLength: 1 }).map((v) => v.join(','));
    case 'and': case 'or': return fc.constantFrom('Yes', 'No');
    default: return fc.integer({ min: def.range![0], max: def.range![1] }).map(String);
  }
}

describe('properties: negotiation of one key (RFC 7143 §6.2)', () => {
  it('the responder\'s answer always passes the originator\'s check, and both reach the same value by the key\'s rule', () => {
    const caseOf = fc.constantFrom(...NEGOTIATED).chain((def) => fc.tuple(fc.constant(def), validValue(def), validValue(def)));
    fc.assert(fc.property(caseOf, ([def, offered, local]) => {
      const [answer, result] = respondToOffer(def, offered, local);
      assert.equal(checkAnswer(def, offered, answer), result);
      if (def.type === 'min' || def.type === 'max') {
        const [o, l] = [parseNumber(offered)!, parseNumber(local)!];
        assert.equal(Number(result), def.type === 'min' ? Math.min(o, l) : Math.max(o, l));
      } else if (def.type === 'and' || def.type === 'or') {
        const [o, l] = [offered === 'Yes', local === 'Yes'];
        assert.equal(result, (def.type === 'and' ? o && l : o || l) ? 'Yes' : 'No');
      } else {
        const supported = local.split(',');
        const pick = offered.split(',').find((v) => supported.includes(v));
        assert.equal(result, pick);
        assert.equal(answer, pick ?? 'Reject');
      }
    }), { numRuns: 1000 });
  });

  it('an out-of-range or malformed numerical offer is answered Reject, never accepted', () => {
    const numeric = NEGOTIATED.filter((d) => d.type === 'min' || d.type === 'max');
    const bad = fc.constantFrom(...numeric).chain((def) => fc.tuple(fc.constant(def), fc.oneof(
      fc.integer({ min: def.range![1] + 1, max: 2 ** 40 }).map(String),
      fc.integer({ min: -1000, max: -1 }).map(String),
      fc.string().filter((s) => parseNumber(s) === undefined),
    )));
    fc.assert(fc.property(bad, ([def, offered]) => {
      assert.deepEqual(respondToOffer(def, offered, def.default!), ['Reject', undefined]);
    }), RUNS);
  });

  it('an answer outside the key\'s rule is a NegotiationError naming the key', () => {
    const caseOf = fc.constantFrom(...NEGOTIATED).chain((def) => fc.tuple(fc.constant(def), validValue(def), fc.string({ maxLength: 12 })));
    fc.assert(fc.property(caseOf, ([def, offered, answer]) => {
      let legal: boolean;
      try {
        checkAnswer(def, offered, answer);
        legal = true;
      } catch (error) {
        assert.ok(error instanceof NegotiationError && error.key === def.name, String(error));
        legal = false;
      }
      // What a legal answer is, written out from §6.2 independently of the code under test.
      const n = parseNumber(answer);
      const expected = ['Reject', 'Irrelevant', 'NotUnderstood'].includes(answer) || (
        def.type === 'list' ? offered.split(',').includes(answer)
          : def.type === 'min' ? n !== undefined && n >= def.range![0] && n <= Number(offered)
            : def.type === 'max' ? n !== undefined && n <= def.range![1] && n >= Number(offered)
              : def.type === 'and' ? answer === 'No' || (answer === 'Yes' && offered === 'Yes')
                : answer === 'Yes' || (answer === 'No' && offered === 'No'));
      assert.equal(legal, expected, `${def.name}: offered ${offered}, answered ${answer}`);
    }), { numRuns: 1000 });
  });
});

describe('properties: a whole operational negotiation between two engines', () => {
  it('both sides end with the same parameters, the ones RFC 7143 §13 prescribes', () => {
    fc.assert(fc.property(operationalValues, operationalValues, fc.boolean(), (wanted, limits, discovery) => {
      const sessionType = discovery ? 'Discovery' : 'Normal';
      const initiator = new Negotiation({ role: 'initiator', local: wanted, sessionType });
      const target = new Negotiation({ role: 'target', local: limits, sessionType });
      const answers = target.receive(new Map(initiator.offers()));
      answers.push(target.declare('MaxRecvDataSegmentLength', String(limits.maxRecvDataSegmentLength)));
      const clashes = digestClashes(wanted, limits);
      if (clashes.length > 0) {
        assert.throws(() => initiator.receive(new Map(answers)), (e: NegotiationError) => e instanceof NegotiationError && clashes.includes(e.key));
        return;
      }
      assert.deepEqual(initiator.receive(new Map(answers)), []);
      assert.deepEqual(initiator.unanswered(), []);
      const p = initiator.parameters();
      assert.deepEqual(target.parameters(), p);
      assert.deepEqual(p, expectedParameters(wanted, limits, discovery));
    }), { numRuns: 1000 });
  });

  it('any key set sent to either side yields answers or a NegotiationError, never another error', () => {
    fc.assert(fc.property(operationalValues, keySet, fc.constantFrom('initiator', 'target') as fc.Arbitrary<'initiator' | 'target'>, fc.boolean(), (local, pairs, role, leading) => {
      const n = new Negotiation({ role, local, sessionType: 'Normal', leading });
      if (role === 'initiator') n.offers();
      try {
        const answers = n.receive(new Map(pairs));
        // Answers are only for keys the peer sent, once each, and encode as legal text.
        assert.ok(answers.every(([k]) => pairs.some(([p]) => p === k)));
        assert.equal(new Set(answers.map(([k]) => k)).size, answers.length);
        encodeText(answers);
        n.parameters();
      } catch (error) {
        assert.ok(error instanceof NegotiationError || error instanceof TextFormatError, `${(error as Error).name}: ${(error as Error).message}`);
      }
    }), { numRuns: 2000 });
  });
});

describe('properties: TargetAddress and SendTargets text (RFC 7143 §13.3, §13.8)', () => {
  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
  const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.')));
  const portal = fc.record({ address: host, port: fc.integer({ min: 1, max: 65535 }), tpgt: fc.nat(65535) });
  const target = fc.record({ name: fc.stringMatching(/^iqn\.20[0-9]{2}-[01][0-9]\.[a-z.]{1,20}:[a-z0-9.:-]{1,30}$/), portals: fc.array(portal, { maxLength: 4 }) });

  it('formatTargetAddress then parseTargetAddress gives the address back', () => {
    fc.assert(fc.property(portal, fc.boolean(), (p, withTag) => {
      const a = withTag ? p : { address: p.address, port: p.port };
      assert.deepEqual(parseTargetAddress(formatTargetAddress(a)), { ...a });
    }), RUNS);
  });

  it('a SendTargets answer parses back to the targets and portals it was made from', () => {
    fc.assert(fc.property(fc.array(target, { maxLength: 5 }), (targets) => {
      assert.deepEqual(parseSendTargets(formatSendTargets(targets)), targets.map((t) => ({ name: t.name, portals: t.portals.map((p) => ({ ...p })) })));
    }), RUNS);
  });

  it('any TargetAddress value or SendTargets text parses or fails with TextFormatError', () => {
    const value = fc.string({ unit: fc.constantFrom(...'[]:,.0123456789abcdef-x '.split('')), maxLength: 30 });
    fc.assert(fc.property(value, (v) => {
      try {
        const a = parseTargetAddress(v);
        assert.ok(a.port >= 1 && a.port <= 65535 && a.address.length > 0);
      } catch (error) {
        assert.ok(error instanceof TextFormatError, String(error));
      }
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('TargetName', 'TargetAddress', 'TargetAlias'), value)), (pairs) => {
      try { parseSendTargets(encodeText(pairs)); } catch (error) { assert.ok(error instanceof TextFormatError, String(error)); }
    }), RUNS);
  });
});
