// Every text key of RFC 7143 §12-§13 with its negotiation type, default, range, scope and when it may be used.
// negotiation.ts applies these rules; the login state machines use the same table to decide where keys belong.

/**
 * How a key's outcome is reached (RFC 7143 §6.2):
 * - declarative: each side states its own value, no answer expected;
 * - and / or: boolean, result = offered AND/OR the responder's value;
 * - min / max: numerical, result = the smaller / larger of both sides' values;
 * - list: the responder picks the first offered value it supports.
 */
export type KeyType = 'declarative' | 'and' | 'or' | 'min' | 'max' | 'list';
/** SW: one value for the whole session; CO: per connection (RFC 7143 §13 "Scope"). */
export type KeyScope = 'session' | 'connection';
/**
 * When the key may be sent (RFC 7143 §13 "Use"): security = SecurityNegotiation stage only; IO = login of a
 * connection only; LO = leading login of a session only; FFPO = Full Feature Phase only; ALL = any time.
 */
export type KeyUse = 'security' | 'IO' | 'LO' | 'FFPO' | 'ALL';
export type KeySenders = 'initiator' | 'target' | 'both';

export interface KeyDefinition {
  readonly name: string;
  readonly type: KeyType;
  readonly scope: KeyScope;
  readonly use: KeyUse;
  readonly senders: KeySenders;
  /** The value in force when the key is not negotiated. */
  readonly default?: string;
  /** Inclusive range of a numerical key. */
  readonly range?: readonly [number, number];
  /** The values a list or enumerated declarative key may take. */
  readonly values?: readonly string[];
  /** Irrelevant (and not to be offered) in a Discovery session. */
  readonly irrelevantInDiscovery?: boolean;
  /** The RFC 7143 section defining the key. */
  readonly section: string;
}

const MAX_24 = 2 ** 24 - 1;

function key(def: KeyDefinition): [string, KeyDefinition] {
  return [def.name, def];
}

export const KEY_DEFINITIONS: ReadonlyMap<string, KeyDefinition> = new Map([
  key({ name: 'AuthMethod', type: 'list', scope: 'connection', use: 'security', senders: 'both', default: 'None', values: ['KRB5', 'SRP', 'CHAP', 'None'], section: '12.1' }),
  key({ name: 'CHAP_A', type: 'list', scope: 'connection', use: 'security', senders: 'both', section: '12.1.3' }),
  key({ name: 'CHAP_I', type: 'declarative', scope: 'connection', use: 'security', senders: 'both', range: [0, 255], section: '12.1.3' }),
  key({ name: 'CHAP_C', type: 'declarative', scope: 'connection', use: 'security', senders: 'both', section: '12.1.3' }),
  key({ name: 'CHAP_N', type: 'declarative', scope: 'connection', use: 'security', senders: 'both', section: '12.1.3' }),
  key({ name: 'CHAP_R', type: 'declarative', scope: 'connection', use: 'security', senders: 'both', section: '12.1.3' }),
  key({ name: 'HeaderDigest', type: 'list', scope: 'connection', use: 'IO', senders: 'both', default: 'None', values: ['CRC32C', 'None'], section: '13.1' }),
  key({ name: 'DataDigest', type: 'list', scope: 'connection', use: 'IO', senders: 'both', default: 'None', values: ['CRC32C', 'None'], section: '13.1' }),
  key({ name: 'MaxConnections', type: 'min', scope: 'session', use: 'LO', senders: 'both', default: '1', range: [1, 65535], irrelevantInDiscovery: true, section: '13.2' }),
  key({ name: 'SendTargets', type: 'declarative', scope: 'session', use: 'FFPO', senders: 'initiator', section: '13.3' }),
  key({ name: 'TargetName', type: 'declarative', scope: 'session', use: 'IO', senders: 'both', section: '13.4' }),
  key({ name: 'InitiatorName', type: 'declarative', scope: 'session', use: 'IO', senders: 'initiator', section: '13.5' }),
  key({ name: 'TargetAlias', type: 'declarative', scope: 'session', use: 'ALL', senders: 'target', section: '13.6' }),
  key({ name: 'InitiatorAlias', type: 'declarative', scope: 'session', use: 'ALL', senders: 'initiator', section: '13.7' }),
  key({ name: 'TargetAddress', type: 'declarative', scope: 'session', use: 'ALL', senders: 'target', section: '13.8' }),
  key({ name: 'TargetPortalGroupTag', type: 'declarative', scope: 'session', use: 'IO', senders: 'target', range: [0, 65535], section: '13.9' }),
  key({ name: 'InitialR2T', type: 'or', scope: 'session', use: 'LO', senders: 'both', default: 'Yes', irrelevantInDiscovery: true, section: '13.10' }),
  key({ name: 'ImmediateData', type: 'and', scope: 'session', use: 'LO', senders: 'both', default: 'Yes', irrelevantInDiscovery: true, section: '13.11' }),
  key({ name: 'MaxRecvDataSegmentLength', type: 'declarative', scope: 'connection', use: 'ALL', senders: 'both', default: '8192', range: [512, MAX_24], section: '13.12' }),
  key({ name: 'MaxBurstLength', type: 'min', scope: 'session', use: 'LO', senders: 'both', default: '262144', range: [512, MAX_24], irrelevantInDiscovery: true, section: '13.13' }),
  key({ name: 'FirstBurstLength', type: 'min', scope: 'session', use: 'LO', senders: 'both', default: '65536', range: [512, MAX_24], irrelevantInDiscovery: true, section: '13.14' }),
  key({ name: 'DefaultTime2Wait', type: 'max', scope: 'session', use: 'LO', senders: 'both', default: '2', range: [0, 3600], section: '13.15' }),
  key({ name: 'DefaultTime2Retain', type: 'min', scope: 'session', use: 'LO', senders: 'both', default: '20', range: [0, 3600], section: '13.16' }),
  key({ name: 'MaxOutstandingR2T', type: 'min', scope: 'session', use: 'LO', senders: 'both', default: '1', range: [1, 65535], irrelevantInDiscovery: true, section: '13.17' }),
  key({ name: 'DataPDUInOrder', type: 'or', scope: 'session', use: 'LO', senders: 'both', default: 'Yes', irrelevantInDiscovery: true, section: '13.18' }),
  key({ name: 'DataSequenceInOrder', type: 'or', scope: 'session', use: 'LO', senders: 'both', default: 'Yes', irrelevantInDiscovery: true, section: '13.19' }),
  key({ name: 'ErrorRecoveryLevel', type: 'min', scope: 'session', use: 'LO', senders: 'both', default: '0', range: [0, 2], section: '13.20' }),
  key({ name: 'SessionType', type: 'declarative', scope: 'session', use: 'LO', senders: 'initiator', default: 'Normal', values: ['Discovery', 'Normal'], section: '13.21' }),
  key({ name: 'TaskReporting', type: 'list', scope: 'session', use: 'LO', senders: 'both', default: 'RFC3720', values: ['RFC3720', 'ResponseFence', 'FastAbort'], irrelevantInDiscovery: true, section: '13.23' }),
  key({ name: 'iSCSIProtocolLevel', type: 'min', scope: 'session', use: 'LO', senders: 'both', default: '1', range: [0, 31], irrelevantInDiscovery: true, section: '13.24' }),
  key({ name: 'X#NodeArchitecture', type: 'declarative', scope: 'session', use: 'LO', senders: 'both', section: '13.26' }),
]);

/**
 * RFC 7143 §13.25: obsolete marker keys. A responder answers IFMarker/OFMarker with Reject (or No) and
 * IFMarkInt/OFMarkInt with Reject, never NotUnderstood.
 */
export const OBSOLETE_KEYS: ReadonlyMap<string, string> = new Map([
  ['IFMarker', 'Reject'], ['OFMarker', 'Reject'], ['IFMarkInt', 'Reject'], ['OFMarkInt', 'Reject'],
]);

/** Keys settled by the login state machines themselves rather than by operational negotiation. */
export const LOGIN_IDENTITY_KEYS: ReadonlySet<string> = new Set(['InitiatorName', 'TargetName', 'SessionType']);

export function keyDefinition(name: string): KeyDefinition | undefined {
  return KEY_DEFINITIONS.get(name);
}

/** True for AuthMethod and the CHAP_ keys, which belong to the SecurityNegotiation stage only. */
export function isSecurityKey(name: string): boolean {
  return KEY_DEFINITIONS.get(name)?.use === 'security';
}

/** The constants a responder may answer instead of a value (RFC 7143 §6.2). */
export const SPECIAL_ANSWERS: ReadonlySet<string> = new Set(['Reject', 'Irrelevant', 'NotUnderstood']);
