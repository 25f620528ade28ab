// Runs a SCSI command on a session the way an application wants it: UNIT ATTENTION retried without the caller
// seeing it (every new tgtd session starts with one), BUSY / TASK SET FULL and other transient statuses retried
// with a growing back-off, anything else turned into a ScsiError. PathErrors pass through untouched: re-driving
// them on another path is the multipath layer's call.
import type { ScsiCdb } from '../scsi/commands';
import { ScsiError } from '../scsi/scsi-error';
import { ScsiStatus } from '../scsi/status';
import type { CommandResult, Session } from './session';

export interface RetryPolicy {
  unitAttentions: number;
  /** Retries of BUSY, TASK SET FULL and other retryable statuses. */
  busyRetries: number;
  firstBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { unitAttentions: 8, busyRetries: 12, firstBackoffMs: 2, maxBackoffMs: 500 };

const GOOD = new Set<number>([ScsiStatus.GOOD, ScsiStatus.CONDITION_MET]);

export function runScsi(session: Session, lun: number, command: ScsiCdb, buffer: Buffer | undefined, operation: string, policy = DEFAULT_RETRY): Promise<CommandResult> {
  return new Promise((resolve, reject) => submitScsi(session, lun, command, buffer, operation, resolve, reject, policy));
}

/**
 * runScsi() with callbacks in place of a promise, for a layer that settles a promise of its own: a GOOD status
 * resolves at once, from the session's receive path (Session.submit); anything else goes to the retry loop, from a
 * microtask, since the retry and the unitAttention listeners issue commands.
 */
export function submitScsi(
  session: Session, lun: number, command: ScsiCdb, buffer: Buffer | undefined, operation: string,
  resolve: (r: CommandResult) => void, reject: (e: Error) => void, policy = DEFAULT_RETRY,
): void {
  session.submit(lun, command, buffer, (result) => {
    if (GOOD.has(result.status)) resolve(result);
    else queueMicrotask(() => retry(session, lun, command, buffer, operation, policy, result).then(resolve, reject));
  }, reject);
}

/** Goes on from a first result that was not GOOD. */
async function retry(session: Session, lun: number, command: ScsiCdb, buffer: Buffer | undefined, operation: string, policy: RetryPolicy, first: CommandResult): Promise<CommandResult> {
  let unitAttentions = 0;
  let busy = 0;
  let backoff = policy.firstBackoffMs;
  for (let result = first; ; result = await session.execute(lun, command, buffer)) {
    if (GOOD.has(result.status)) return result;
    const error = ScsiError.fromResponse(result.status, result.sense, operation);
    if (error.kind === 'unitAttention' && unitAttentions++ < policy.unitAttentions) {
      // Retried unseen by the caller, but announced: ALUA state and LUN inventory changes matter to multipath.
      session.emit('unitAttention', error);
      continue;
    }
    if (error.kind === 'retryable' && busy++ < policy.busyRetries) {
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, policy.maxBackoffMs);
      continue;
    }
    throw error;
  }
}
