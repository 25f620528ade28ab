// What the Full Feature Phase modules share (libiscsi's iscsi_context, cut down): the current connection, the
// command window, the task table, ExpStatSN, the login generation, and the ways a task ends. Session owns one and
// drives logins and recovery around it; data-in.ts, scsi-command.ts, data-out.ts, task-management.ts, nop.ts and
// logout.ts each run one phase on it.
import type { NegotiatedParameters } from '../protocol/negotiation';
import type { PduConnection } from '../wire/connection';
import { serialLt } from '../wire/serial';
import type { CommandWindow } from './command-window';
import { SessionProtocolError } from './errors';
import type { Keepalive } from './keepalive';
import type { SessionStats } from './session-stats';
import type { CommandResult, Task } from './task';
import { TaskTable } from './task-table';

export interface CoreHooks {
  /** The connection failed (protocol violation, silence, unanswered task management): tear down, recover. */
  lost(connection: PduConnection, error: Error): void;
  /** Whether the session carries commands now (logged in, or draining for a logout). */
  open(): boolean;
  /** Something the target did that the session survives (the session's 'warning' event). */
  warn(error: Error): void;
}

export interface CoreTimers {
  commandTimeoutMs: number;
  logoutTimeoutMs: number;
}

export class SessionCore {
  connection!: PduConnection;
  window!: CommandWindow;
  parameters!: NegotiatedParameters;
  readonly tasks = new TaskTable<Task>();
  expStatSN = 0;
  /** Counts logins: the connection a command went out on (PathError.indeterminate.generation). */
  generation = 0;
  keepalive?: Keepalive;

  constructor(readonly targetName: string, readonly timers: CoreTimers, readonly stats: SessionStats, private readonly hooks: CoreHooks) {}

  get open(): boolean { return this.hooks.open(); }

  /** Ends the current connection as failed. */
  lost(error: Error): void { this.hooks.lost(this.connection, error); }

  warn(error: Error): void { this.hooks.warn(error); }

  /** Whether a command still waits for the target (tags kept reserved for ended commands do not count). */
  hasLiveTasks(): boolean {
    for (const task of this.tasks.values()) if (!task.aborted) return true;
    return false;
  }

  /** Whether a task management request waits for its answer (the keepalive lets the target be silent meanwhile). */
  hasTaskManagementOutstanding(): boolean {
    for (const task of this.tasks.values()) if (task.tmf && !task.aborted) return true;
    return false;
  }

  /**
   * A Data-In, R2T or SCSI Response for a tag no command of ours holds. After an answered ABORT TASK for a read
   * under that very tag it is a response that lost the race with the abort: dropped, and said (other commands ended
   * by task management keep their tags reserved, so their late PDUs still find them). Otherwise the target
   * speaks of a command we never issued or that already ended: a protocol violation, and the connection goes, so
   * what is outstanding on it fails with the violation named and multipath re-drives it (ERL 0, RFC 7143 §7.1.4).
   */
  unknownItt(what: string, itt: number): void {
    const tag = `ITT 0x${itt.toString(16)}`;
    if (this.tasks.wasRetired(itt)) {
      this.warn(new SessionProtocolError(`${what} for ${tag}, a command already ended by task management (it raced the abort): dropped`, 'EUNKNOWNITT'));
      return;
    }
    this.lost(new SessionProtocolError(`${what} for ${tag}, which no command of this session holds (never issued, or already ended)`, 'EUNKNOWNITT'));
  }

  advanceStatSN(statSN: number): void {
    if (!serialLt(statSN, this.expStatSN)) this.expStatSN = (statSN + 1) >>> 0;
  }

  finish(task: Task, result: CommandResult): void {
    this.release(task);
    if (task.tmf) { task.done(result); return; }
    const bytes = task.command.transferLength - (result.underflow ? result.residual : 0);
    this.stats.completed(task.command.direction, bytes, performance.now() - task.startedAt);
    task.done(result);
  }

  fail(task: Task, error: Error): void {
    if (task.timer) clearTimeout(task.timer);
    task.timer = undefined;
    if (task.aborted) return; // its caller already got an error
    task.aborted = true;
    if (!task.tmf) this.stats.failed();
    // Later: a caller that re-submits must not land in a loop that is failing this session's tasks.
    queueMicrotask(() => task.failed(error));
  }

  release(task: Task): void {
    if (task.timer) clearTimeout(task.timer);
    task.timer = undefined;
    this.tasks.delete(task.itt);
    this.connection.unregisterTask(task.itt);
  }
}
