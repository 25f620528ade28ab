// The rule that keeps a re-driven write from being overtaken by its original (DESIGN "Failure semantics"; a ghost
// write is the worst thing a block device can do). A write whose connection died under it is indeterminate: the
// target may have it queued (a stalled controller), or a segment may still be in flight. It is re-issued on another
// path only once the original provably cannot execute any more:
// - the failed connection was reset (RST, lib/wire/connection.ts abort()) so nothing more of it can leave this host
//   (what already left may still be queued on the way: see below), and then either
// - its session was reinstated (same ISID, TSIH 0) in the same target portal group: the target must end the old
//   session's tasks before it completes that login (RFC 7143 §6.3.5; Session.isFenced), or
// - a LOGICAL UNIT RESET sent through another, working path to the same LU was answered "function complete": the
//   LU ends every task in its task set, from every I_T nexus (SAM-5 §7.9), the held write included. It counts only
//   when sent after the dead connection's last bytes could have arrived (PathError.indeterminate.inFlightUntil):
//   a write still queued on a slow link would otherwise reach the LU after the reset that went ahead of it.
// Whichever comes first. Commands the reset aborted on the working path itself end with PathError EABORTED, a
// confirmed abort, and are re-driven as usual. With no working path and no reinstatement within `timeoutMs` the
// write fails: its outcome is unknown, and the application is told so rather than told it is done.
// Reads need none of this (a late read harms nobody, and the session detaches the read's buffer first).
import type { DataDirection } from '../scsi/commands';
import { PathError } from '../session/errors';
import { NoPathError } from './errors';
import type { Path } from './path';

/** What the fence needs of the device. */
export interface FenceHost {
  readonly lun: number;
  /** Paths that can carry a task management request now (logged in, not failed). */
  workingPaths(): readonly Path[];
  /** Whether any path is logged in or on its way back (else nothing can ever fence, and waiting is pointless). */
  canRecover(): boolean;
  warn(error: Error): void;
}

interface Held {
  path: Path;
  generation: number;
  /** Held before this reset was sent: a later successful reset covers it. Infinity while its bytes may be in flight. */
  since: number;
  /** Until its connection's bytes in flight have arrived (or been lost): no reset may cover it yet. */
  flightTimer?: NodeJS.Timeout;
  resume(): void;
  fail(error: Error): void;
  /** The path's error, given back when nothing can fence the write. */
  error: Error;
  timer: NodeJS.Timeout;
}

export interface FenceStats {
  /** Writes held until fenced. */
  held: number;
  /** LOGICAL UNIT RESETs sent to fence. */
  resets: number;
  /** Writes released by a reinstatement of their session. */
  byReinstatement: number;
  /** Writes released by a confirmed LOGICAL UNIT RESET. */
  byReset: number;
  /** Writes failed because nothing could fence them in time. */
  unfenced: number;
  /** Writes whose connection still had bytes in flight when it was reset: the reset waited for them. */
  flightWaits: number;
}

/** What an I/O does, for fencing and counting: its data direction, or 'unmap' (changes the medium, moves no data). */
export type IoKind = DataDirection | 'unmap';

/** Whether a failed attempt needs fencing before it may be re-driven: it changes the medium and may still execute. */
export function needsFence(kind: IoKind, error: unknown): error is PathError & { indeterminate: { generation: number } } {
  return (kind === 'write' || kind === 'unmap') && error instanceof PathError && error.indeterminate !== undefined;
}

export class WriteFence {
  private readonly held = new Set<Held>();
  private resetting = false;
  private again = false;
  private closed = false;
  private sequence = 0;
  private retryTimer?: NodeJS.Timeout;
  readonly stats: FenceStats = { held: 0, resets: 0, byReinstatement: 0, byReset: 0, unfenced: 0, flightWaits: 0 };

  constructor(private readonly host: FenceHost, private readonly timeoutMs: number) {}

  /** Resolves once the write that failed on `path` with `error` can no longer execute; rejects if that is not shown in time. */
  wait(path: Path, error: PathError & { indeterminate: { generation: number; inFlightUntil?: number } }): Promise<void> {
    const { generation, inFlightUntil = 0 } = error.indeterminate;
    if (path.session.isFenced(generation)) return Promise.resolve();
    if (this.closed) return Promise.reject(new NoPathError('the multipath device is closed', 0, error));
    // Nothing can ever show it dead: the caller gets the path's own error (the outcome is unknown), at once.
    if (!this.host.canRecover()) return Promise.reject(error);
    this.stats.held++;
    return new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const entry: Held = {
        path, generation, since: Infinity, resume: resolve, fail: reject, error,
        timer: setTimeout(() => {
          this.held.delete(entry);
          this.stats.unfenced++;
          reject(new NoPathError(`a write whose path failed could not be shown dead at the target within ${this.timeoutMs} ms `
            + '(no working path for a LOGICAL UNIT RESET, no reinstatement of its session): its outcome is unknown, so it was not re-driven',
          Math.round(performance.now() - started), error));
        }, this.timeoutMs),
      };
      this.held.add(entry);
      const coverable = () => {
        entry.flightTimer = undefined;
        entry.since = ++this.sequence;
        this.kick();
      };
      const flightMs = inFlightUntil - performance.now();
      if (flightMs > 0) {
        this.stats.flightWaits++;
        entry.flightTimer = setTimeout(coverable, flightMs);
      } else coverable();
    });
  }

  /** A path's session logged in again, or a path became usable: re-check what is held. */
  changed(): void {
    const hopeless = !this.host.canRecover();
    for (const entry of [...this.held]) {
      if (entry.path.session.isFenced(entry.generation)) {
        this.stats.byReinstatement++;
        this.release(entry);
      } else if (hopeless && this.held.delete(entry)) {
        clearTimeout(entry.timer);
        clearTimeout(entry.flightTimer);
        this.stats.unfenced++;
        entry.fail(entry.error);
      }
    }
    this.kick();
  }

  /** Fails everything held (the device is closing). */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const entry of [...this.held]) {
      this.held.delete(entry);
      clearTimeout(entry.timer);
      clearTimeout(entry.flightTimer);
      entry.fail(new NoPathError('the multipath device was closed while a write waited to be fenced', 0));
    }
  }

  private release(entry: Held): void {
    if (!this.held.delete(entry)) return;
    clearTimeout(entry.timer);
    clearTimeout(entry.flightTimer);
    entry.resume();
  }

  /** Sends one LOGICAL UNIT RESET through a working path for everything held now; again afterwards if more came. */
  private kick(): void {
    // Only for writes whose bytes can no longer be on their way: a reset now would not cover the others.
    if (this.closed || ![...this.held].some((e) => e.since !== Infinity)) return;
    if (this.resetting) { this.again = true; return; }
    // Any working path will do, the failed one too once it is back on a new connection: the reset reaches the LU,
    // and the old connection was reset before its writes were handed here.
    const via = this.host.workingPaths()[0];
    if (!via) return; // changed() tries again when a path comes back
    this.resetting = true;
    this.again = false;
    this.stats.resets++;
    const covered = this.sequence;
    via.session.lunReset(this.host.lun).then((response) => {
      if (response !== 0) throw new PathError(`LOGICAL UNIT RESET through path ${via.id} answered ${response}`, 'EREJECTED');
      for (const entry of [...this.held]) {
        if (entry.since <= covered) {
          this.stats.byReset++;
          this.release(entry);
        }
      }
      this.resetting = false;
      if (this.again) this.kick(); // writes that failed while this reset was on its way
    }).catch((error: Error) => {
      this.resetting = false;
      this.host.warn(new PathError(`fencing a failed path's writes: ${error.message}`, 'EREJECTED', error));
      // Not at once: a reset that failed may fail again the same way; the working paths may change meanwhile.
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.kick(), 100);
    });
  }
}
