// Task management (RFC 7143 §11.5-§11.6) and what needs it: ABORT TASK for a command past its timeout, LOGICAL
// UNIT RESET for the multipath fence. A request the target leaves unanswered takes the connection down: a target
// that cannot answer task management is not one to keep sending commands to.
import type { TaskManagementResponse } from '../wire/bhs';
import { Opcode, RESERVED_TAG } from '../wire/opcodes';
import { holdData, resumeData } from './data-out';
import { PathError } from './errors';
import type { SessionCore } from './session-core';
import type { Task } from './task';

const TMF_ABORT_TASK = 1;
const TMF_LUN_RESET = 5;
// Task management responses (RFC 7143 §11.6.1).
const TMF_FUNCTION_COMPLETE = 0;
const TMF_TASK_DOES_NOT_EXIST = 1;

/** Sends a task management request (immediate) and resolves with its response code (0 = function complete). */
export function requestTaskManagement(core: SessionCore, func: number, lun: number, referencedTaskTag: number, refCmdSN: number): Promise<number> {
  if (!core.open) return Promise.reject(new PathError(`session to ${core.targetName} is not logged in`, 'ESESSIONDOWN'));
  return new Promise<number>((resolve, reject) => {
    const task: Task = {
      itt: 0, lun, command: { cdb: Buffer.alloc(0), direction: 'none', transferLength: 0 }, expDataSN: 0, received: 0, tmf: true,
      startedAt: performance.now(), done: (r) => resolve(r.status), failed: reject,
    };
    task.itt = core.tasks.add(task);
    task.timer = setTimeout(() => core.lost(new Error('task management request unanswered')), core.timers.commandTimeoutMs);
    core.connection.send({
      opcode: Opcode.TaskManagementRequest, immediate: true, func, lun, itt: task.itt, referencedTaskTag,
      cmdSN: core.window.current, expStatSN: core.expStatSN, refCmdSN, expDataSN: 0,
    });
  });
}

export function receiveTaskManagementResponse(core: SessionCore, bhs: TaskManagementResponse): void {
  core.advanceStatSN(bhs.statSN);
  const task = core.tasks.get(bhs.itt);
  if (task?.tmf) core.finish(task, { status: bhs.response, residual: 0, underflow: false, overflow: false });
}

/**
 * LOGICAL UNIT RESET (function 5). Resolves with the response code. On 0 the commands the reset aborted on that
 * LUN (this session's, sent before it) end at once with PathError EABORTED: a confirmed abort, safe to re-drive.
 * A target may not count a write it is still collecting Data-Out for (tgtd's reset skips it, and it would complete
 * once its data arrived), so those writes get no more data from the moment the reset is sent, and their tags stay
 * reserved while the connection lives: a new command under the same tag would otherwise answer the old one's R2T
 * with its own bytes, and the target would write them to the old command's blocks.
 */
export async function resetLogicalUnit(core: SessionCore, lun: number): Promise<number> {
  const outstanding = [...core.tasks.values()].filter((t) => !t.tmf && !t.aborted && t.lun === lun && t.cmdSN !== undefined);
  for (const task of outstanding) holdData(task);
  let response: number;
  try {
    response = await requestTaskManagement(core, TMF_LUN_RESET, lun, RESERVED_TAG, 0);
  } catch (error) {
    for (const task of outstanding) resumeData(core, task);
    throw error;
  }
  for (const task of outstanding) {
    if (core.tasks.get(task.itt) !== task) continue; // it completed before the reset took effect
    if (response !== 0) { resumeData(core, task); continue; }
    core.connection.unregisterTask(task.itt); // no late Data-In lands in a read's buffer
    core.fail(task, new PathError(`command 0x${task.command.cdb[0]?.toString(16)} was aborted by a LOGICAL UNIT RESET`, 'EABORTED'));
  }
  return response;
}

/** Times out the SCSI commands older than the command timeout. One sweep for all: a timer per I/O costs more than the I/O. */
export function sweepTimedOut(core: SessionCore): void {
  const expired = performance.now() - core.timers.commandTimeoutMs;
  for (const task of core.tasks.values()) {
    if (!task.tmf && !task.aborted && !task.timedOut && task.startedAt <= expired) abortTimedOut(core, task);
  }
}

/**
 * A command past its timeout is aborted (ABORT TASK). A read fails at once: it is harmless to re-drive, and its
 * buffer is detached from the connection first so no late Data-In lands in it. A write gets no more Data-Out and
 * fails only once the target answered the abort (function complete, or no such task: unable to complete without
 * the data held back), so it cannot execute after it was re-driven; its own late response still completes it. An
 * unanswered or refused abort takes the connection down, and the write fails as indeterminate (to be fenced).
 */
function abortTimedOut(core: SessionCore, task: Task): void {
  const error = new PathError(`command 0x${task.command.cdb[0]?.toString(16)} timed out after ${core.timers.commandTimeoutMs} ms`, 'ETIMEDOUT');
  if (task.cmdSN === undefined) {
    if (task.issue) core.window.cancel(task.issue);
    core.release(task);
    core.fail(task, error);
    return;
  }
  const abort = requestTaskManagement(core, TMF_ABORT_TASK, task.lun, task.itt, task.cmdSN);
  if (task.command.direction === 'read') {
    core.connection.unregisterTask(task.itt);
    core.fail(task, error);
    // The tag stays taken until the target confirms: a late PDU must not find a new task under it.
    abort.then(() => { if (core.tasks.get(task.itt) === task) core.tasks.retire(task.itt); }, () => undefined);
    return;
  }
  task.timedOut = true;
  holdData(task);
  abort.then((response) => {
    if (core.tasks.get(task.itt) !== task) return; // its response came first
    if (response === TMF_FUNCTION_COMPLETE || response === TMF_TASK_DOES_NOT_EXIST) {
      // Aborted, or unknown to the target: with its Data-Out held back it cannot complete there. Its tag stays
      // reserved (see resetLogicalUnit).
      core.fail(task, error);
      return;
    }
    core.lost(new PathError(`ABORT TASK for a write past its timeout was answered ${response}: the write may still run`, 'ETIMEDOUT'));
  }, () => undefined);
}
