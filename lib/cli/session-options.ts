// Options the discover, inquiry, read, write and bench commands share: paths, CHAP, digests, the command timeout
// and the login timeout. A CHAP secret comes from the URL, a flag, a file or the environment; the last two keep it
// out of process listings and shell history.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ChapOptions, PathSpec } from '../initiator';
import { PolicyError } from '../mpio/errors';
import { POLICY_NAMES, type PolicyName } from '../mpio/path-selector';
import { parseDuration } from '../units';
import type { PortalLayout } from '../path-plan';
import type { Portal } from '../portal';
import { parsePathSpec, parsePortal, type IscsiUrl } from '../url';
import { keepSecret } from './output';
import { UsageError } from './usage-error';

export interface SessionFlags {
  path?: string[];
  chapUser?: string;
  chapSecret?: string;
  chapSecretFile?: string;
  mutualUser?: string;
  mutualSecret?: string;
  digests?: boolean;
  timeout?: string;
  loginTimeout?: string;
}

export interface LayoutFlags { allPortals?: boolean; pair?: boolean; discoveryPortal?: string[] }

export function addSessionOptions(command: Command): Command {
  return command
    .option('--path <[ADDRESS][@DEVICE][=PORTAL]>', 'a path: source address and/or device, and its own portal (host[:port]) if not the URL\'s (repeat for each path)', (v: string, all: string[] = []) => [...all, v])
    .option('--chap-user <user>', 'CHAP user (or user@ / user%secret@ in the URL)')
    .option('--chap-secret <secret>', 'CHAP secret (visible to other users in process listings: prefer the file or the environment)')
    .option('--chap-secret-file <file>', 'read the CHAP secret from this file (one line)')
    .option('--mutual-user <user>', 'mutual CHAP: the name the target must answer with')
    .option('--mutual-secret <secret>', 'mutual CHAP: the target secret (default $ISCSI_MPIO_MUTUAL_SECRET)')
    .option('--digests', 'require CRC32C header and data digests (default: offer CRC32C, accept None)')
    .option('--no-digests', 'refuse digests (offer None only)')
    .option('--timeout <duration>', 'command timeout: 500ms, 30s, 1m, or plain milliseconds', '30000')
    .option('--login-timeout <duration>', 'per path: the TCP connect (at most 5s of it) and each Login Response (default 10s; discover: --timeout)');
}

/** The `--timeout` in milliseconds; a usage error unless it is a duration above zero. */
export function timeoutOf(flags: SessionFlags): number {
  return parseDuration(flags.timeout ?? '30000', '--timeout');
}

/**
 * The `--login-timeout` in milliseconds, undefined when not given (the library's default then holds); a usage error
 * unless it is a duration above zero.
 */
export function loginTimeoutOf(flags: SessionFlags): number | undefined {
  return flags.loginTimeout === undefined ? undefined : parseDuration(flags.loginTimeout, '--login-timeout');
}

/** A secret file's first line (a trailing newline is not part of the secret). */
export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const secret = text.split(/\r?\n/)[0];
  if (!secret) throw new UsageError(`${what} ${file}: the file is empty`);
  return secret;
}

/**
 * The initiator's CHAP secret, first found of: the URL's `user%secret@`, --chap-secret, --chap-secret-file,
 * $ISCSI_MPIO_CHAP_SECRET, $LIBISCSI_CHAP_PASSWORD (libiscsi's variable, so the same environment serves both).
 */
function secretOf(flags: SessionFlags, url?: IscsiUrl): string | undefined {
  return url?.secret ?? flags.chapSecret ?? (flags.chapSecretFile === undefined ? undefined : readSecretFile(flags.chapSecretFile, '--chap-secret-file'))
    ?? (process.env.ISCSI_MPIO_CHAP_SECRET || undefined) ?? (process.env.LIBISCSI_CHAP_PASSWORD || undefined);
}

export function pathsOf(flags: SessionFlags): PathSpec[] {
  return (flags.path ?? []).map(parsePathSpec);
}

export function chapOf(flags: SessionFlags, url?: IscsiUrl): ChapOptions | undefined {
  const user = url?.user ?? flags.chapUser;
  if (!user) return undefined;
  const secret = secretOf(flags, url);
  if (!secret) throw new UsageError(`no CHAP secret for user "${user}" (give user%secret@ in the URL, --chap-secret-file, or $ISCSI_MPIO_CHAP_SECRET)`);
  keepSecret(secret);
  const chap: ChapOptions = { user, secret };
  if (flags.mutualUser) {
    const mutualSecret = flags.mutualSecret ?? process.env.ISCSI_MPIO_MUTUAL_SECRET;
    if (!mutualSecret) throw new UsageError(`no mutual CHAP secret for "${flags.mutualUser}" ($ISCSI_MPIO_MUTUAL_SECRET)`);
    keepSecret(mutualSecret);
    chap.mutual = { user: flags.mutualUser, secret: mutualSecret };
  }
  return chap;
}

/** `--all-portals` and `--pair` for the commands that open a multipath device (not discover: it has one path). */
export function addLayoutOptions(command: Command): Command {
  return command
    .option('--all-portals', 'discover the target\'s portals through the URL\'s and log every --path into every one (the mesh)')
    .option('--pair', 'discover the target\'s portals through the URL\'s and log --path i into portal i (ports cabled one to one)')
    .option('--discovery-portal <host[:port]>', 'with --all-portals or --pair: SendTargets through this portal too (tgtd lists only the portal asked; repeat)', (v: string, all: string[] = []) => [...all, v]);
}

/** The portal layout the flags ask for, and the extra portals to discover through. */
export function layoutOf(flags: LayoutFlags): { portalLayout?: PortalLayout; discoveryPortals?: Portal[] } {
  if (flags.allPortals && flags.pair) throw new UsageError('--all-portals and --pair exclude each other: mesh every path into every portal, or pair them one to one');
  const portalLayout = flags.allPortals ? 'mesh' : flags.pair ? 'pair' : undefined;
  if (flags.discoveryPortal?.length && !portalLayout) throw new UsageError('--discovery-portal only adds portals for --all-portals or --pair to lay paths over');
  return portalLayout ? { portalLayout, discoveryPortals: flags.discoveryPortal?.map(parsePortal) } : {};
}

/** `--policy P` for the commands that open a multipath device. */
export function addPolicyOption(command: Command, fallback: PolicyName = 'failover'): Command {
  return command.option('--policy <policy>', `path policy (${POLICY_NAMES.join(', ')})`, fallback);
}

export function policyOf(flags: { policy?: string }): PolicyName {
  const name = flags.policy ?? 'failover';
  if (!(POLICY_NAMES as readonly string[]).includes(name)) throw new PolicyError(`unknown policy "${name}" (one of ${POLICY_NAMES.join(', ')})`);
  return name as PolicyName;
}
