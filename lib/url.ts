// The iSCSI URL libiscsi uses (DESIGN.md): iscsi://[user[%secret]@]host[:port]/<target-iqn>/<lun>, host an IPv4
// address, a DNS name or a bracketed IPv6 address. With `user@` and no `%secret` the secret is left to the caller
// (the CLI takes it from a file or the environment, as libiscsi does, to keep it out of process listings).
import type { Portal } from './portal';

export interface IscsiUrl {
  /** The URL's host and port (3260 when left out). */
  portal: Portal;
  target: string;
  lun: number;
  user?: string;
  secret?: string;
}

export class IscsiUrlError extends Error {
  override name = 'IscsiUrlError';
  readonly code = 'EURL';
  constructor(url: string, reason: string) {
    super(`bad iSCSI URL "${redactUrl(url)}": ${reason} (expected iscsi://[user[%secret]@]host[:port]/<target-iqn>/<lun>)`);
  }
}

function decodeComponent(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new IscsiUrlError(url, `bad %-escape in "${text}"`);
  }
}

/** Parses a URL; with `needLun` false the LUN may be left out (`iscsi://host/iqn`), and defaults to 0. */
export function parseIscsiUrl(url: string, needLun = true): IscsiUrl {
  const m = /^iscsi:\/\/(?:([^@/]*)@)?(\[[^\]@]+\]|[^/:@]+)(?::(\d+))?(?:\/([^/]+)(?:\/(\d+))?)?\/?$/.exec(url);
  if (!m) throw new IscsiUrlError(url, 'malformed');
  const [, credentials, rawHost, portText, target, lunText] = m;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  const port = portText === undefined ? 3260 : Number(portText);
  if (!(port >= 1 && port <= 65535)) throw new IscsiUrlError(url, `port ${portText} is outside 1..65535`);
  if (!target) throw new IscsiUrlError(url, 'no target name');
  if (needLun && lunText === undefined) throw new IscsiUrlError(url, 'no LUN');
  const lun = lunText === undefined ? 0 : Number(lunText);
  if (lun > 16383) throw new IscsiUrlError(url, `LUN ${lun} is beyond 16383`);
  const out: IscsiUrl = { portal: { address: host, port }, target: decodeComponent(url, target), lun };
  if (credentials !== undefined) {
    const split = credentials.indexOf('%');
    out.user = split < 0 ? credentials : credentials.slice(0, split);
    if (!out.user) throw new IscsiUrlError(url, 'empty CHAP user before "@"');
    if (split >= 0) {
      const secret = credentials.slice(split + 1);
      if (secret === '') throw new IscsiUrlError(url, `empty CHAP secret after "${out.user}%"`);
      out.secret = secret;
    }
  }
  return out;
}

/**
 * The URL with its CHAP secret replaced by `***`, for messages, charts and logs. Everything from the first `%` of
 * the authority to its last `@` goes, so a malformed URL (a secret holding `/` or `@`) leaks nothing either.
 */
export function redactUrl(url: string): string {
  const start = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length ?? 0;
  const at = url.lastIndexOf('@');
  const cut = url.indexOf('%', start);
  if (at < start || cut < 0 || cut > at) return url;
  return `${url.slice(0, cut)}%***${url.slice(at)}`;
}

/** Parses a portal `host[:port]` or `[v6][:port]` (the discover command's argument). */
export function parsePortal(text: string): Portal {
  const m = /^(\[[^\]]+\]|[^:\[\]]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new IscsiUrlError(text, 'not a portal (host[:port])');
  const port = m[2] === undefined ? 3260 : Number(m[2]);
  if (!(port >= 1 && port <= 65535)) throw new IscsiUrlError(text, `port ${m[2]} is outside 1..65535`);
  return { address: m[1].startsWith('[') ? m[1].slice(1, -1) : m[1], port };
}

/**
 * A CLI path spec `--path [LOCAL][@DEVICE][=PORTAL]` (DESIGN.md): where the path leaves this host (source address,
 * device, or both) and, optionally, the portal it logs in to instead of the URL's (an array port of its own).
 */
export function parsePathSpec(text: string): { sourceAddress?: string; device?: string; portal?: Portal } {
  const eq = text.indexOf('=');
  const local = eq < 0 ? text : text.slice(0, eq);
  const portal = eq < 0 ? undefined : parsePortal(text.slice(eq + 1));
  const at = local.lastIndexOf('@');
  const address = at < 0 ? local : local.slice(0, at);
  const device = at < 0 ? undefined : local.slice(at + 1);
  if (!address && !device && !portal) throw new IscsiUrlError(text, 'a path is [ADDRESS][@DEVICE][=PORTAL], with at least one of them');
  if (at >= 0 && !device) throw new IscsiUrlError(text, 'empty device after "@"');
  if (address.startsWith('[') !== address.endsWith(']')) throw new IscsiUrlError(text, 'unbalanced [ ] around the address');
  const spec: { sourceAddress?: string; device?: string; portal?: Portal } = {};
  if (address) spec.sourceAddress = address.startsWith('[') ? address.slice(1, -1) : address;
  if (device) spec.device = device;
  if (portal) spec.portal = portal;
  return spec;
}
