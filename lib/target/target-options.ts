// The options of Target.start() and their parsing (portal addresses, LUN sizes), shared with the CLI.
import type { OperationalValues } from '../protocol/negotiation';

export type AluaAccessState = 'active-optimized' | 'active-non-optimized' | 'standby' | 'unavailable';

export interface PortalAddress { address: string; port: number }

export interface MemberPortalOptions {
  /** Listening address (loopback or a test namespace address). */
  address: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Emulated link rate of this member, e.g. "1gbit" (overrides the target-wide `rate`). */
  rate?: string | number;
  /** ALUA state of this member's target port group (used when `alua` is on). Default active-optimized. */
  alua?: AluaAccessState;
}

export interface LunOptions {
  /** Bytes, or a size such as "256M", "1G". Required for memory LUs; for files, creates/grows the file sparsely. */
  size?: number | string;
  /** Backing file (sparse); memory when left out. */
  file?: string;
  blockSize?: 512 | 4096;
  /** LUN number; default: 1, 2, ... in order (LUN 0 answers as "no device", like tgtd's controller LUN). */
  lun?: number;
  serial?: string;
  readOnly?: boolean;
}

export interface ChapAccount { user: string; secret: string }

export interface TargetOptions {
  /** Default iqn.2025-01.dev.iscsi-mpio:array. */
  iqn?: string;
  alias?: string;
  /** The group portal: answers discovery with every member and redirects each login to a member. */
  group?: string | PortalAddress;
  /** Member portals, each its own target portal group (TPGT 1, 2, ...) serving the same LUs. */
  portals: ReadonlyArray<string | MemberPortalOptions>;
  /** Default: one 64 MiB memory LU. */
  luns?: ReadonlyArray<number | string | LunOptions>;
  /** Emulated link rate of every member port (each paced on its own), e.g. "1gbit". Default: not paced. */
  rate?: string | number;
  /** Report ALUA per member port group (REPORT TARGET PORT GROUPS answers each member's state). */
  alua?: boolean;
  /** CHAP accounts initiators must log in with (Normal sessions); none = no authentication. */
  chap?: ChapAccount | readonly ChapAccount[];
  /** The target's own credentials for mutual CHAP. */
  mutualChap?: ChapAccount;
  /** Require CHAP for discovery sessions too. */
  discoveryChap?: boolean;
  /** Operational limits the target negotiates with (RFC defaults otherwise; see DEFAULT_TARGET_LIMITS). */
  limits?: Partial<OperationalValues>;
  /** NOP-In ping interval on idle connections in ms (0 = off). Default 5000. */
  nopInterval?: number;
  /** How long a ping may go unanswered before the connection is dropped, in ms. Default 5000. */
  nopTimeout?: number;
}

export const DEFAULT_IQN = 'iqn.2025-01.dev.iscsi-mpio:array';
export const DEFAULT_LUN_SIZE = 64 * 1024 * 1024;

/** What the target offers unless told otherwise: both digests, unsolicited and immediate data, large bursts. */
export const DEFAULT_TARGET_LIMITS: Partial<OperationalValues> = {
  headerDigest: ['None', 'CRC32C'], dataDigest: ['None', 'CRC32C'], maxRecvDataSegmentLength: 262144,
  maxBurstLength: 1048576, firstBurstLength: 262144, initialR2T: false, immediateData: true, maxOutstandingR2T: 8,
  maxConnections: 1, defaultTime2Wait: 2, defaultTime2Retain: 0, errorRecoveryLevel: 0,
};

/** Parses "ADDR:PORT", "[v6]:PORT" or "ADDR" (port 0 = any free port when `defaultPort` is 0). */
export function parsePortal(text: string, defaultPort = 3260): PortalAddress {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new RangeError(`portal "${text}" is not ADDRESS[:PORT]`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`portal "${text}": port ${m[2]} is outside 0..65535`);
  return { address: m[1], port };
}

/** Sizes ("512M", "1GiB", "4096") parse as every CLI option does. */
export { parseSize } from '../units';

/** Parses the CLI's `--lun SIZE[:FILE]`. */
export function parseLunSpec(text: string): LunOptions {
  const colon = text.indexOf(':');
  return colon < 0 ? { size: text } : { size: text.slice(0, colon) || undefined, file: text.slice(colon + 1) };
}
