// The options of Target.start() and their parsing (portal addresses, LUN sizes), shared with the CLI.
import type { Portal } from '../portal';
import type { OperationalValues } from '../protocol/negotiation';

export type AluaAccessState = 'active-optimized' | 'active-non-optimized' | 'standby' | 'unavailable';

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
  group?: string | Portal;
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
  /** What one initiator (or all of them) may make the target hold: see TargetCaps and DEFAULT_TARGET_CAPS. */
  caps?: Partial<TargetCaps>;
}

/**
 * Resource caps against hostile or broken initiators. Each cap, what crossing it gets (RFC 7143 / SAM-5), default:
 *
 * | cap                            | over the cap                                                          | default |
 * |--------------------------------|-----------------------------------------------------------------------|---------|
 * | maxBufferedBytesPerConnection  | the write gets status BUSY, nothing allocated; its Data-Out discarded | 64 MiB  |
 * | maxBufferedBytes (all conns)   | the same                                                              | 512 MiB |
 * | maxTasksPerConnection          | status TASK SET FULL, nothing allocated                               | 256     |
 * | maxImmediateTasksPerConnection | Reject 0x06 (immediate command reject)                                | 16      |
 * | maxConnections (all portals)   | the new TCP connection is closed at once                              | 1024    |
 * | maxLoginConnections            | the oldest connection still in login (or silent) is dropped for room  | 64      |
 * | maxLoginConnectionsPerAddress  | a new connection from an address with that many in login is closed    | 8       |
 * | loginTimeoutMs                 | a connection silent that long, or not in Full Feature Phase that long | 15000   |
 * |                                | after its first bytes, is dropped                                     |         |
 * | maxTextBytes                   | text (login or Text Request) over C=1 continuations: login fails      | 64 KiB  |
 * |                                | (0x0200) / Reject 0x04 and the connection closes                      |         |
 *
 * Buffered bytes are scratch buffers for write data, sized from the CDB's transfer length clamped by the
 * Expected Data Transfer Length (never EDTL alone). Data placed straight into a memory LU needs no buffer and
 * does not count.
 */
export interface TargetCaps {
  maxBufferedBytesPerConnection: number;
  maxBufferedBytes: number;
  maxTasksPerConnection: number;
  maxImmediateTasksPerConnection: number;
  maxConnections: number;
  maxLoginConnections: number;
  maxLoginConnectionsPerAddress: number;
  loginTimeoutMs: number;
  maxTextBytes: number;
}

export const DEFAULT_TARGET_CAPS: TargetCaps = {
  maxBufferedBytesPerConnection: 64 * 2 ** 20, maxBufferedBytes: 512 * 2 ** 20, maxTasksPerConnection: 256,
  maxImmediateTasksPerConnection: 16, maxConnections: 1024, maxLoginConnections: 64, maxLoginConnectionsPerAddress: 8,
  loginTimeoutMs: 15_000,
  maxTextBytes: 64 * 1024,
};

/** The caps with defaults filled in; a cap that is not a positive whole number is refused. */
export function resolveCaps(caps: Partial<TargetCaps> = {}): TargetCaps {
  const resolved = { ...DEFAULT_TARGET_CAPS };
  for (const [key, value] of Object.entries(caps) as Array<[keyof TargetCaps, number | undefined]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_TARGET_CAPS)) throw new RangeError(`unknown target cap "${key}"`);
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`target cap ${key} must be a positive whole number, got ${value}`);
    resolved[key] = value;
  }
  return resolved;
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
export function parsePortal(text: string, defaultPort = 3260): Portal {
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
