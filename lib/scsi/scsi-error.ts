// A SCSI command that completed with a non-GOOD status, classified so the session and MPIO layers know what to do.
import { parseSense, type Sense } from './sense';
import { Asc, SenseKey } from './sense-codes';
import { ScsiStatus, statusName } from './status';

/**
 * What the caller should do with a failed command:
 * - `unitAttention`: the LU reports a state change (reset, ALUA change, LUN inventory); act on it, then retry.
 * - `retryable`: transient (BUSY, TASK SET FULL, becoming ready, ALUA transition); retry on the same path after a delay.
 * - `pathError`: this path cannot serve the LU now (standby/unavailable port, transport-level abort, LU not
 *   reachable through this port); re-drive on another path.
 * - `fatal`: the command itself is wrong or the medium failed; report it to the application.
 */
export type ScsiErrorKind = 'unitAttention' | 'retryable' | 'pathError' | 'fatal';

export class ScsiError extends Error {
  override name = 'ScsiError';
  readonly code = 'ESCSI';
  readonly senseKey?: number;
  readonly asc?: number;
  readonly ascq?: number;
  readonly kind: ScsiErrorKind;

  /** `sense` is the raw sense data (without the iSCSI SenseLength prefix) or an already parsed Sense. */
  constructor(readonly status: number, readonly sense?: Sense, readonly operation?: string) {
    super(`${operation ? `${operation}: ` : ''}${statusName(status)}${sense ? ` (${sense.description})` : ''}`);
    this.senseKey = sense?.senseKey;
    this.asc = sense?.asc;
    this.ascq = sense?.ascq;
    this.kind = classify(status, sense);
  }

  /** Builds the error from a SCSI status and raw sense bytes; malformed sense is kept out of the way (no sense). */
  static fromResponse(status: number, senseData?: Buffer, operation?: string): ScsiError {
    let sense: Sense | undefined;
    if (senseData && senseData.length > 0) {
      try { sense = parseSense(senseData); } catch { sense = undefined; }
    }
    return new ScsiError(status, sense, operation);
  }

  get isUnitAttention(): boolean { return this.kind === 'unitAttention'; }
  get isRetryable(): boolean { return this.kind === 'retryable'; }
  get isPathError(): boolean { return this.kind === 'pathError'; }
}

const RETRYABLE_NOT_READY = new Set<number>([
  Asc.LU_NOT_READY_CAUSE_NOT_REPORTABLE, Asc.LU_BECOMING_READY, Asc.LU_NOT_READY_OPERATION_IN_PROGRESS,
  0x0408, 0x0409, Asc.LU_NOT_READY_ASYMMETRIC_ACCESS_TRANSITION,
]);
const PATH_NOT_READY = new Set<number>([
  Asc.LU_NOT_READY_TARGET_PORT_STANDBY, Asc.LU_NOT_READY_TARGET_PORT_UNAVAILABLE,
]);
// ABORTED COMMAND for transport trouble between this initiator port and the target port.
const PATH_ABORTED_ASC = new Set<number>([0x08, 0x47, 0x48, 0x4b]);

export function classify(status: number, sense?: Sense): ScsiErrorKind {
  switch (status) {
    case ScsiStatus.BUSY:
    case ScsiStatus.TASK_SET_FULL:
    case ScsiStatus.ACA_ACTIVE:
    case ScsiStatus.TASK_ABORTED:
      return 'retryable';
    case ScsiStatus.CHECK_CONDITION:
      break;
    default:
      return 'fatal';
  }
  if (!sense) return 'retryable'; // CHECK CONDITION without sense: nothing to go on, try again (as Linux does)
  const pair = (sense.asc << 8) | sense.ascq;
  switch (sense.senseKey) {
    case SenseKey.UNIT_ATTENTION:
      return 'unitAttention';
    case SenseKey.NOT_READY:
      if (PATH_NOT_READY.has(pair)) return 'pathError';
      return RETRYABLE_NOT_READY.has(pair) ? 'retryable' : 'fatal';
    case SenseKey.ABORTED_COMMAND:
      return PATH_ABORTED_ASC.has(sense.asc) ? 'pathError' : 'retryable';
    case SenseKey.ILLEGAL_REQUEST:
      // EqualLogic answers 25/00 on a connection it is about to move (protocol.md §0 item 4).
      return pair === Asc.LU_NOT_SUPPORTED ? 'pathError' : 'fatal';
    case SenseKey.NO_SENSE:
    case SenseKey.RECOVERED_ERROR:
      return 'retryable';
    default:
      return 'fatal';
  }
}
