// One command of a session, from submit() to its end, and the outcome it ends with. The task table holds these;
// every phase module (Data-In, R2T/Data-Out, task management, timeouts) reads and ends them.
import type { ScsiCdb } from '../scsi/commands';
import type { R2T } from '../wire/bhs';

/** The outcome of a SCSI command that reached the target. A non-GOOD status is data here, not an exception. */
export interface CommandResult {
  status: number;
  /** Sense data without the iSCSI SenseLength prefix (CHECK CONDITION). */
  sense?: Buffer;
  /** Bytes expected but not transferred (underflow), or not transferable (overflow). */
  residual: number;
  underflow: boolean;
  overflow: boolean;
  /** Data-In bytes received, in order from offset 0, when fewer than the command's transfer length (absent: all). */
  received?: number;
}

export interface Task {
  itt: number;
  lun: number;
  command: ScsiCdb;
  buffer?: Buffer;
  cmdSN?: number;
  issue?: (cmdSN: number) => void;
  expDataSN: number;
  /** Data-In bytes received so far; each Data-In must start where the last ended (in order, no holes). */
  received: number;
  startedAt: number;
  /** The login generation it was sent on. */
  generation?: number;
  /** Timed out, ABORT TASK sent: a late response still completes it; the TMF answer fails it. */
  timedOut?: boolean;
  timer?: NodeJS.Timeout;
  /** Called from the receive path itself (Session.submit). */
  done: (r: CommandResult) => void;
  /** Called from a microtask: never inside the session's own loops. */
  failed: (e: Error) => void;
  /**
   * Ended for its caller (failed or aborted): its late PDUs are dropped, and its tag stays reserved until the target
   * answers it or the connection ends, so that no new command answers the R2Ts of one the target still holds.
   */
  aborted?: boolean;
  /**
   * Data-Out stopped: a task management request covering this write is on its way. A target may not count a write
   * it is still collecting data for (tgtd's LUN RESET and ABORT TASK skip it), so the write is kept from completing
   * by sending it nothing more; its R2Ts wait here and are answered only if the request fails.
   */
  heldR2Ts?: R2T[];
  /** A task management function rather than a SCSI command. */
  tmf?: boolean;
}

/** Most commands end GOOD without residual: one shared result for them instead of an object per I/O. */
export const GOOD_RESULT: CommandResult = Object.freeze({ status: 0, residual: 0, underflow: false, overflow: false });

export const resultOf = (status: number, residual: number, underflow: boolean, overflow: boolean): CommandResult =>
  (status === 0 && residual === 0 && !underflow && !overflow ? GOOD_RESULT : { status, residual, underflow, overflow });

/** The first `length` bytes of `buffer`: the buffer itself when that is all of it (no view to allocate per I/O). */
export const exactly = (buffer: Buffer, length: number): Buffer => (buffer.length === length ? buffer : buffer.subarray(0, length));
