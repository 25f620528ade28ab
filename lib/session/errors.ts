import { ProtocolError } from '../wire/errors';

// Typed errors of the session layer. Path-level failures (PathError) are distinct from SCSI failures (ScsiError in
// lib/scsi) so the multipath layer can re-drive an I/O on another path: a PathError says nothing about the LU.

/**
 * The I/O did not complete because of this path, not because of the LU:
 * - ECONNLOST: the TCP connection broke while the command was outstanding;
 * - ETIMEDOUT: no answer within the command timeout (an ABORT TASK was sent);
 * - ESESSIONDOWN: the session is not logged in (failed, recovering past the timeout, or closed);
 * - ELOGOUT: the target asked us to log out and the command could not be carried over;
 * - EREJECTED: the target rejected the command's PDU or failed it at the iSCSI level;
 * - EABORTED: a task management function (LOGICAL UNIT RESET) aborted the command.
 */
export class PathError extends Error {
  override name = 'PathError';
  /**
   * Set when the command reached (or may have reached) the target and nothing proves it ended there: the
   * connection died under it. A write failed this way may still execute later (a stalled controller, a packet in
   * flight), so it must not be re-issued elsewhere until that is ruled out (lib/mpio/write-fence.ts).
   * `inFlightUntil` (performance.now() ms): until then bytes the connection sent before its reset may still reach
   * the target (lib/wire/flight-bound.ts); a LOGICAL UNIT RESET sent earlier could arrive ahead of them.
   */
  indeterminate?: { generation: number; inFlightUntil?: number };
  constructor(message: string, readonly code: 'ECONNLOST' | 'ETIMEDOUT' | 'ESESSIONDOWN' | 'ELOGOUT' | 'EREJECTED' | 'EABORTED', override readonly cause?: Error) {
    super(message);
  }
}

/**
 * A read ended GOOD without every byte of its range: the target reported an underflow residual, or its Data-In
 * left bytes out. No byte of the caller's buffer is claimed as data.
 */
export class ShortReadError extends Error {
  override name = 'ShortReadError';
  readonly code = 'ESHORTREAD';
  constructor(readonly expected: number, readonly received: number, operation = 'READ') {
    super(`${operation} ended with ${received} of ${expected} bytes: the target did not deliver the whole range`);
  }
}

/** Login redirects formed a loop or exceeded the hop limit; names every address seen. */
export class RedirectLoopError extends Error {
  override name = 'RedirectLoopError';
  readonly code = 'EREDIRECTLOOP';
  constructor(readonly addresses: string[], limit: number) {
    super(`login redirect loop or more than ${limit} hops: ${addresses.join(' -> ')}`);
  }
}

/**
 * The target answered something the session cannot continue from (bad field, unexpected PDU, timeout in login).
 * Codes that name the violation (a connection it happens on is dropped; the command's PathError has it as cause):
 * - EDATASN: a Data-In duplicated, missing or out of order (DataSN); EBUFFEROFFSET: a Data-In whose Buffer Offset
 *   does not follow on from the last one, or runs past the read (the deframer uses the code for its own check);
 * - EDATAINDIRECTION: a Data-In for a command that reads nothing (a WRITE's tag): nothing of it is copied;
 * - ER2T: an R2T outside its write or its burst limit; ESENSELENGTH: a SenseLength past the SCSI Response's segment;
 * - ETEXTCONTINUATION: a text answer that never ends; ETIMEDOUT: no answer in time (login, discovery);
 * - EUNKNOWNITT: a Data-In, R2T or SCSI Response for a tag no command of the session holds.
 * Reported as Session 'warning' events only (nothing fails): EUNKNOWNITT for a tag whose command task management
 * just ended (a response that raced the abort: dropped); ELOGOUTUNANSWERED, a Logout Request the target never
 * answered (the session closed anyway).
 */
export class SessionProtocolError extends ProtocolError {
  override name = 'SessionProtocolError';
  constructor(message: string, code = 'ESESSIONPROTO') { super(message, code); }
}

/** A caller passed an argument the session cannot use (unaligned buffer, LBA past the end...). */
export class SessionArgumentError extends RangeError {
  override name = 'SessionArgumentError';
  readonly code = 'EARGUMENT';
}
