// The command's exit status by class of failure, so scripts can tell a wrong flag from a dead portal from a refused
// login. The numbers follow open-iscsi's iscsiadm (include/iscsi_err.h, ISCSI_ERR_*) where it has the class; the
// SCSI and multipath classes, which iscsiadm has not, take numbers it does not use. Every typed error of the stack
// is mapped here and nowhere else.
import { CommanderError } from 'commander';
import { BenchArgumentError } from '../bench/bench-options';
import { NoPathError, PathIdentityError, PolicyError } from '../mpio/errors';
import { OffloadArgumentError } from '../offload/errors';
import { AuthenticationError } from '../protocol/chap';
import { ProtocolError } from '../protocol/errors';
import { LoginError } from '../protocol/login-status';
import { ScsiArgumentError, ScsiParseError } from '../scsi/errors';
import { ScsiError } from '../scsi/scsi-error';
import { PathError, RedirectLoopError, SessionArgumentError, ShortReadError } from '../session/errors';
import { IscsiUrlError } from '../url';
import { TargetNotListedError } from '../path-plan';
import { BhsError } from '../wire/bhs';
import { ConnectError } from '../wire/errors';

export const EXIT = {
  /** Done. */
  ok: 0,
  /** Anything else: a failed `netstat --check` or demo step, an output error, an unexpected error (ISCSI_ERR). */
  failure: 1,
  /** Bad flags or arguments; nothing was attempted (iscsiadm uses 7, ISCSI_ERR_INVAL; 2 is the shell convention). */
  usage: 2,
  /** Root is needed (ISCSI_ERR_ACCESS). */
  access: 13,
  /** The portal could not be reached, the connection broke, or the peer broke the protocol (ISCSI_ERR_TRANS). */
  transport: 4,
  /** The target refused the login: no such target, redirect loop, target error (ISCSI_ERR_LOGIN). */
  login: 5,
  /** No answer in time: connect, login or a command (ISCSI_ERR_TRANS_TIMEOUT). */
  timeout: 8,
  /** CHAP failed, on either side, or the initiator is not authorized (ISCSI_ERR_LOGIN_AUTH_FAILED). */
  authentication: 24,
  /** The LU refused the command (a SCSI status such as CHECK CONDITION), or the range is past its end. */
  scsi: 40,
  /** Every path of the device stayed down longer than the no-path-retry window (--down-wait). */
  noPath: 41,
  /** Whoever read stdout closed it (`| head`): 128 + SIGPIPE, as a shell reports a tool killed by it. */
  stdoutClosed: 141,
} as const;

/** The help text's table of the codes above. */
export const EXIT_CODES_HELP = `
Exit status:
  0    done
  1    other failure (a failed check or demo step, an output error such as ENOSPC, an unexpected error)
  2    usage: bad flags or arguments
  4    transport: portal unreachable, connection lost, protocol violation  (iscsiadm ISCSI_ERR_TRANS)
  5    login refused: no such target, redirect loop, target error          (iscsiadm ISCSI_ERR_LOGIN)
  8    timeout: connect, login or a command went unanswered                (iscsiadm ISCSI_ERR_TRANS_TIMEOUT)
  13   needs root                                                          (iscsiadm ISCSI_ERR_ACCESS)
  24   authentication: CHAP failed or not authorized                       (iscsiadm ISCSI_ERR_LOGIN_AUTH_FAILED)
  40   SCSI: the LU refused the command (sense shown), or past its end
  41   no path: every path stayed down longer than --down-wait
  141  stdout closed by its reader (| head), without a message`;

interface WithCode { code?: unknown; cause?: unknown }

/** Codes the CLI's own argument checks use (usage-error.ts, units.ts, url.ts). */
const USAGE_CODES: ReadonlySet<string> = new Set(['EARGUMENT', 'EUSAGE', 'EUNIT', 'EURL']);

/** The exit status for one error, by its class first and its `code` second; an unknown wrapper defers to its cause. */
export function exitCodeOf(error: unknown): number {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = exitCodeOfOne(e);
    if (code !== undefined) return code;
    e = (e as WithCode).cause;
  }
  return EXIT.failure;
}

function exitCodeOfOne(e: Error): number | undefined {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const explicit = (e as { exitCode?: unknown }).exitCode;
  if (typeof explicit === 'number') return explicit;
  const code = typeof (e as WithCode).code === 'string' ? (e as WithCode).code as string : '';
  if (code === 'EPIPE') return EXIT.stdoutClosed;
  if (e instanceof IscsiUrlError || e instanceof PolicyError || e instanceof OffloadArgumentError || e instanceof BenchArgumentError
    || e instanceof SessionArgumentError || e instanceof ScsiArgumentError || USAGE_CODES.has(code)) return EXIT.usage;
  if (e instanceof NoPathError) {
    // No path logged in at all: when every path failed the same way (a wrong CHAP secret on each), that class.
    const reasons = (e as { reasons?: unknown[] }).reasons;
    const classes = new Set(reasons?.map((r) => exitCodeOf(r)));
    return classes.size === 1 ? [...classes][0] : EXIT.noPath;
  }
  if (e instanceof ShortReadError) return EXIT.scsi;
  if (code === 'EACCES' || code === 'EPERM') return EXIT.access;
  if (e instanceof AuthenticationError) return EXIT.authentication;
  if (e instanceof LoginError) return e.reason === 'authentication-failed' || e.reason === 'authorization-failure' ? EXIT.authentication : EXIT.login;
  if (e instanceof RedirectLoopError || e instanceof TargetNotListedError) return EXIT.login;
  // Before the transport classes: a connect, a login PDU or a command that went unanswered.
  if (code === 'ETIMEDOUT') return EXIT.timeout;
  if (e instanceof ConnectError || e instanceof PathError || e instanceof ProtocolError || e instanceof BhsError) return EXIT.transport;
  if (e instanceof ScsiError || e instanceof ScsiParseError || e instanceof PathIdentityError || code === 'ERANGE') return EXIT.scsi;
  return undefined;
}
