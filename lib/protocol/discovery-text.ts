// TargetAddress values (RFC 7143 §13.8) and SendTargets text (§13.3, Appendix C), both directions.
import { isIPv6 } from 'node:net';
import type { Portal } from '../portal';
import { TextFormatError } from './errors';
import { TextPair, decodeTextPairs, encodeText } from './text';

export const DEFAULT_ISCSI_PORT = 3260;

export interface TargetAddress extends Portal {
  /** Portal group tag; present in SendTargets answers, omitted in redirects. */
  tpgt?: number;
}

/** One portal of a discovered target: the DESIGN.md shape. */
export interface DiscoveredPortal extends Portal { tpgt: number }
export interface DiscoveredTarget { name: string; portals: DiscoveredPortal[] }

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

function parseBounded(text: string, what: string, min: number, value: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) throw new TextFormatError(`TargetAddress "${value}": ${what} "${text}" is not a number`);
  const n = Number(text);
  if (n < min || n > 65535) throw new TextFormatError(`TargetAddress "${value}": ${what} ${n} is outside ${min}..65535`);
  return n;
}

/** Parses `host[:port][,tpgt]`; IPv6 in brackets (`[::1]:3260,1`); port defaults to 3260. */
export function parseTargetAddress(value: string): TargetAddress {
  let rest = value;
  let tpgt: number | undefined;
  const comma = rest.lastIndexOf(',');
  if (comma >= 0) {
    tpgt = parseBounded(rest.slice(comma + 1), 'portal group tag', 0, value);
    rest = rest.slice(0, comma);
  }
  let address: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new TextFormatError(`TargetAddress "${value}": unterminated "["`);
    address = rest.slice(1, close);
    if (!isIPv6(address)) throw new TextFormatError(`TargetAddress "${value}": "${address}" is not an IPv6 address`);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new TextFormatError(`TargetAddress "${value}": junk after "]"`);
      portText = after.slice(1);
    }
  } else if (isIPv6(rest)) {
    address = rest; // unbracketed IPv6 (not RFC form, but unambiguous without a port)
  } else {
    const colon = rest.indexOf(':');
    address = colon >= 0 ? rest.slice(0, colon) : rest;
    if (colon >= 0) portText = rest.slice(colon + 1);
    if (!HOST_NAME.test(address)) throw new TextFormatError(`TargetAddress "${value}": "${address}" is not an IPv4 address or DNS name`);
  }
  const port = portText === undefined ? DEFAULT_ISCSI_PORT : parseBounded(portText, 'port', 1, value);
  return tpgt === undefined ? { address, port } : { address, port, tpgt };
}

/** Formats `host:port[,tpgt]`, bracketing IPv6. */
export function formatTargetAddress(target: TargetAddress): string {
  const host = isIPv6(target.address) ? `[${target.address}]` : target.address;
  return `${host}:${target.port}${target.tpgt === undefined ? '' : `,${target.tpgt}`}`;
}

/**
 * Parses a (reassembled) SendTargets answer into targets with their portals. A target listed without any
 * TargetAddress is reachable on the portal the question was asked on; the caller fills that in.
 */
export function parseSendTargets(data: Buffer): DiscoveredTarget[] {
  return sendTargetsFromPairs(decodeTextPairs(data));
}

export function sendTargetsFromPairs(pairs: readonly TextPair[]): DiscoveredTarget[] {
  const targets: DiscoveredTarget[] = [];
  for (const [key, value] of pairs) {
    if (key === 'TargetName') {
      if (value.length === 0) throw new TextFormatError('SendTargets: empty TargetName');
      targets.push({ name: value, portals: [] });
    } else if (key === 'TargetAddress') {
      const current = targets[targets.length - 1];
      if (!current) throw new TextFormatError(`SendTargets: TargetAddress=${value} before any TargetName`);
      const a = parseTargetAddress(value);
      // RFC 7143 §13.8: the portal group tag is mandatory in SendTargets answers.
      if (a.tpgt === undefined) throw new TextFormatError(`SendTargets: TargetAddress=${value} lacks the portal group tag`);
      current.portals.push({ address: a.address, port: a.port, tpgt: a.tpgt });
    }
    // Other keys (TargetAlias, vendor keys) carry nothing for discovery.
  }
  return targets;
}

/** Encodes targets as a SendTargets answer (before splitting into Text Responses). */
export function formatSendTargets(targets: readonly DiscoveredTarget[]): Buffer {
  const pairs: TextPair[] = [];
  for (const t of targets) {
    pairs.push(['TargetName', t.name]);
    for (const p of t.portals) pairs.push(['TargetAddress', formatTargetAddress(p)]);
  }
  return encodeText(pairs);
}

/**
 * Selects what a target answers to `SendTargets=<value>` (RFC 7143 §13.3): `All` (Discovery sessions only)
 * lists every target, a name lists that target, an empty value the session's own target.
 */
export function selectSendTargets(
  value: string,
  context: { sessionType: 'Normal' | 'Discovery'; targets: readonly DiscoveredTarget[]; currentTarget?: string },
): DiscoveredTarget[] {
  if (value === 'All') return context.sessionType === 'Discovery' ? [...context.targets] : [];
  const name = value === '' ? context.currentTarget : value;
  return context.targets.filter((t) => t.name === name);
}
