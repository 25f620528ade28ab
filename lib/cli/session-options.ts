// Options the discover, inquiry, read and write commands share: paths, CHAP (from the URL or flags) and digests.
import type { Command } from 'commander';
import type { ChapOptions, PathSpec } from '../initiator';
import { PolicyError } from '../mpio/errors';
import { POLICY_NAMES, type PolicyName } from '../mpio/path-selector';
import { parsePathSpec, type IscsiUrl } from '../url';
import { usageError } from './exit-codes';

export interface SessionFlags {
  path?: string[];
  chapUser?: string;
  chapSecret?: string;
  mutualUser?: string;
  mutualSecret?: string;
  digests?: boolean;
  timeout?: string;
}

export function addSessionOptions(command: Command): Command {
  return command
    .option('--path <ADDRESS[@DEVICE]>', 'source address and/or device of a path (repeat for each path)', (v: string, all: string[] = []) => [...all, v])
    .option('--chap-user <user>', 'CHAP user (or user%secret@ in the URL)')
    .option('--chap-secret <secret>', 'CHAP secret (default $ISCSI_MPIO_CHAP_SECRET)')
    .option('--mutual-user <user>', 'mutual CHAP: the name the target must answer with')
    .option('--mutual-secret <secret>', 'mutual CHAP: the target secret (default $ISCSI_MPIO_MUTUAL_SECRET)')
    .option('--digests', 'ask for CRC32C header and data digests')
    .option('--timeout <ms>', 'command timeout in milliseconds (discover: connect and each answer)', '30000');
}

/** `--timeout` in milliseconds. */
export function timeoutOf(flags: SessionFlags): number {
  const ms = Number(flags.timeout);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw usageError(`--timeout must be a positive number of milliseconds, got "${flags.timeout}"`);
  return ms;
}

export function pathsOf(flags: SessionFlags): PathSpec[] {
  return (flags.path ?? []).map(parsePathSpec);
}

export function chapOf(flags: SessionFlags, url?: IscsiUrl): ChapOptions | undefined {
  const user = url?.user ?? flags.chapUser;
  if (!user) return undefined;
  const secret = url?.secret ?? flags.chapSecret ?? process.env.ISCSI_MPIO_CHAP_SECRET;
  if (!secret) throw usageError(`no CHAP secret for user "${user}"`);
  const chap: ChapOptions = { user, secret };
  if (flags.mutualUser) {
    const mutualSecret = flags.mutualSecret ?? process.env.ISCSI_MPIO_MUTUAL_SECRET;
    if (!mutualSecret) throw usageError(`no mutual CHAP secret for "${flags.mutualUser}"`);
    chap.mutual = { user: flags.mutualUser, secret: mutualSecret };
  }
  return chap;
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
