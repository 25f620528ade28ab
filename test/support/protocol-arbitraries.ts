// fast-check generators for the protocol layer, shared by the property tests and the login fuzz script: text keys
// and values, operational values either side may hold, and the test of "a typed error" every failure must pass.
import fc from 'fast-check';
import { AuthenticationError } from '../../lib/protocol/chap';
import { ProtocolError } from '../../lib/protocol/errors';
import { KEY_DEFINITIONS, OBSOLETE_KEYS } from '../../lib/protocol/keys';
import { LoginError } from '../../lib/protocol/login-status';
import { Digest, NegotiatedParameters, OperationalValues, RFC_DEFAULTS } from '../../lib/protocol/negotiation';
import type { TextPair } from '../../lib/protocol/text';
import { BhsError } from '../../lib/wire/bhs';

/** The error classes the protocol layer promises; anything else escaping it (TypeError, RangeError...) is a bug. */
export function isTypedProtocolError(error: unknown): boolean {
  return error instanceof ProtocolError || error instanceof LoginError || error instanceof AuthenticationError || error instanceof BhsError;
}

const KEY_HEAD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.split('');
const KEY_TAIL = [...KEY_HEAD, ...'0123456789.-+@_'.split('')];

/** A key name the RFC 7143 §6.1 grammar accepts: a letter, then up to 62 letters, digits or `.-+@_`. */
export const keyName = fc.tuple(fc.constantFrom(...KEY_HEAD), fc.array(fc.constantFrom(...KEY_TAIL), { maxLength: 62 }))
  .map(([h, t]) => h + t.join(''));

/** A value for a plain key: UTF-8 without NUL, at most 255 bytes per comma-separated item. */
export const textValue = fc.string({ unit: 'grapheme', maxLength: 80 })
  .map((s) => s.replace(/\0/g, ''))
  .filter((s) => s.split(',').every((item) => Buffer.byteLength(item, 'utf8') <= 255));

/** Pairs with distinct key names (login and negotiation text allow each key once). */
export const distinctPairs = fc.uniqueArray(fc.tuple(keyName, textValue), { selector: ([k]) => k, maxLength: 12 })
  .map((pairs) => pairs as TextPair[]);

const digestList = fc.shuffledSubarray<Digest>(['CRC32C', 'None'], { minLength: 1 });
const MAX_24 = 2 ** 24 - 1;

/** Any OperationalValues validateLocal() accepts (first burst never above max burst). */
export const operationalValues: fc.Arbitrary<OperationalValues> = fc.record({
  headerDigest: digestList,
  dataDigest: digestList,
  maxRecvDataSegmentLength: fc.integer({ min: 512, max: MAX_24 }),
  maxBurstLength: fc.integer({ min: 512, max: MAX_24 }),
  firstBurstFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  immediateData: fc.boolean(),
  initialR2T: fc.boolean(),
  maxOutstandingR2T: fc.integer({ min: 1, max: 65535 }),
  maxConnections: fc.integer({ min: 1, max: 65535 }),
  defaultTime2Wait: fc.integer({ min: 0, max: 3600 }),
  defaultTime2Retain: fc.integer({ min: 0, max: 3600 }),
  dataPDUInOrder: fc.boolean(),
  dataSequenceInOrder: fc.boolean(),
  errorRecoveryLevel: fc.integer({ min: 0, max: 2 }),
}).map(({ firstBurstFraction, ...v }) => ({
  ...v, firstBurstLength: 512 + Math.floor(firstBurstFraction * (v.maxBurstLength - 512)),
}));

/** A plausible value for a known key: in range, out of range, malformed, a list, or an answer constant. */
export function valueFor(key: string): fc.Arbitrary<string> {
  const def = KEY_DEFINITIONS.get(key);
  const noise = fc.oneof(textValue, fc.constantFrom('Reject', 'Irrelevant', 'NotUnderstood', '', 'Yes', 'No', '0x', '0b==', '-1'));
  if (!def) return OBSOLETE_KEYS.has(key) ? fc.oneof(fc.constantFrom('Yes', 'No', 'Reject', '2048'), noise) : noise;
  const n = def.range ? fc.oneof(fc.integer({ min: def.range[0], max: def.range[1] }), fc.integer({ min: -10, max: 2 ** 32 + 10 })) : fc.nat();
  const asText = n.chain((x) => fc.constantFrom(String(x), `0x${x.toString(16)}`, `${x}`.padStart(30, '0')));
  const listed = def.values ? fc.shuffledSubarray([...def.values], { minLength: 1 }).map((v) => v.join(',')) : noise;
  return fc.oneof({ weight: 3, arbitrary: def.values ? listed : asText }, { weight: 1, arbitrary: fc.constantFrom('Yes', 'No') }, { weight: 1, arbitrary: noise });
}

/** A set of distinct keys drawn from the RFC's table, the obsolete markers and made-up names, with values. */
export const keySet: fc.Arbitrary<TextPair[]> = fc.uniqueArray(
  fc.oneof(fc.constantFrom(...KEY_DEFINITIONS.keys(), ...OBSOLETE_KEYS.keys()), keyName), { maxLength: 14 },
).chain((keys) => (keys.length === 0 ? fc.constant([] as TextPair[]) : fc.tuple(...keys.map((k) => valueFor(k).map((v): TextPair => [k, v])))));

/** What RFC 7143 §13 says the outcome is, computed from both sides' settings without the negotiation engine. */
/** The digest keys for which the initiator offers nothing the target accepts: the initiator ends the login. */
export function digestClashes(i: OperationalValues, t: OperationalValues): string[] {
  const none = (offer: string[], supported: string[]) => !offer.some((d) => supported.includes(d));
  return [none(i.headerDigest, t.headerDigest) && 'HeaderDigest', none(i.dataDigest, t.dataDigest) && 'DataDigest'].filter((k): k is string => !!k);
}

export function expectedParameters(i: OperationalValues, t: OperationalValues, discovery: boolean): Omit<NegotiatedParameters, 'targetPortalGroupTag' | 'targetAlias' | 'initiatorAlias'> {
  const pick = (offer: string[], supported: string[]) => (offer.find((d) => supported.includes(d)) ?? 'None') as 'None' | 'CRC32C';
  const d = RFC_DEFAULTS;
  const session = discovery ? d : {
    maxBurstLength: Math.min(i.maxBurstLength, t.maxBurstLength), immediateData: i.immediateData && t.immediateData,
    initialR2T: i.initialR2T || t.initialR2T, maxOutstandingR2T: Math.min(i.maxOutstandingR2T, t.maxOutstandingR2T),
    maxConnections: Math.min(i.maxConnections, t.maxConnections), dataPDUInOrder: i.dataPDUInOrder || t.dataPDUInOrder,
    dataSequenceInOrder: i.dataSequenceInOrder || t.dataSequenceInOrder,
  };
  let firstBurstLength = discovery ? d.firstBurstLength : Math.min(i.firstBurstLength, t.firstBurstLength);
  // §13.14: irrelevant when no unsolicited data can flow; never above MaxBurstLength.
  if (!discovery && session.initialR2T && !session.immediateData) firstBurstLength = d.firstBurstLength;
  else if (firstBurstLength > session.maxBurstLength) firstBurstLength = session.maxBurstLength;
  return {
    sessionType: discovery ? 'Discovery' : 'Normal',
    headerDigest: pick(i.headerDigest, t.headerDigest), dataDigest: pick(i.dataDigest, t.dataDigest),
    initiatorMaxRecvDataSegmentLength: i.maxRecvDataSegmentLength, targetMaxRecvDataSegmentLength: t.maxRecvDataSegmentLength,
    maxBurstLength: session.maxBurstLength, firstBurstLength, immediateData: session.immediateData, initialR2T: session.initialR2T,
    maxOutstandingR2T: session.maxOutstandingR2T, maxConnections: session.maxConnections,
    defaultTime2Wait: Math.max(i.defaultTime2Wait, t.defaultTime2Wait), defaultTime2Retain: Math.min(i.defaultTime2Retain, t.defaultTime2Retain),
    dataPDUInOrder: session.dataPDUInOrder, dataSequenceInOrder: session.dataSequenceInOrder,
    errorRecoveryLevel: Math.min(i.errorRecoveryLevel, t.errorRecoveryLevel), taskReporting: 'RFC3720', iSCSIProtocolLevel: 1,
  };
}
