// Task management (RFC 7143 §11.5-§11.6, SAM-5 §7). ABORT TASK and ABORT TASK SET act on this I_T nexus only;
// CLEAR TASK SET and LOGICAL UNIT RESET act on the logical unit, i.e. on its tasks on every connection of the
// target and in every stalled member's hold queue; target resets on everything. The response goes out only once
// the tasks it ends are terminated: executions already in flight in the LU have settled.
import type { TaskManagementRequest } from '../../wire/bhs';
import { Opcode } from '../../wire/opcodes';
import type { TargetConnection } from '../target-connection';

const enum TmfFunction { AbortTask = 1, AbortTaskSet = 2, ClearTaskSet = 4, LogicalUnitReset = 5, TargetWarmReset = 6, TargetColdReset = 7 }
const enum TmfResponse { Complete = 0, TaskDoesNotExist = 1, LunDoesNotExist = 2, NotSupported = 5 }

export function taskManagement(c: TargetConnection, bhs: TaskManagementRequest): void {
  const delay = c.host.taskManagementDelayMs();
  if (delay === 0) return perform(c, bhs);
  // A slow controller (fault injection): nothing more is read, so nothing is answered, until the function runs
  // (PDUs read in the same batch as the request still run).
  c.pauseReading('task-management');
  c.later(delay, () => {
    perform(c, bhs);
    c.resumeReading('task-management');
  });
}

function perform(c: TargetConnection, bhs: TaskManagementRequest): void {
  if (!bhs.immediate && !c.window!.accept(bhs.cmdSN)) return;
  let response: number = TmfResponse.Complete;
  let terminated: Array<Promise<unknown>> = [];
  switch (bhs.func) {
    case TmfFunction.AbortTask: {
      const task = c.tasks.get(bhs.referencedTaskTag);
      // A task already answered (or never received) "does not exist": the initiator then expects its response.
      if (task) {
        c.scsi.abort(task);
        if (task.running) terminated = [task.running];
      } else response = TmfResponse.TaskDoesNotExist;
      break;
    }
    case TmfFunction.AbortTaskSet:
      terminated = c.abortTasks(bhs.lun);
      break;
    case TmfFunction.ClearTaskSet: case TmfFunction.LogicalUnitReset:
      if (!c.host.luns.lun(bhs.lun)) { response = TmfResponse.LunDoesNotExist; break; }
      terminated = c.host.clearTaskSet(bhs.lun, bhs.func === TmfFunction.LogicalUnitReset ? 'reset' : 'clear', c);
      break;
    case TmfFunction.TargetWarmReset: case TmfFunction.TargetColdReset:
      terminated = c.host.targetReset(bhs.func === TmfFunction.TargetColdReset, c);
      break;
    default:
      response = TmfResponse.NotSupported;
  }
  const answer = () => {
    if (c.phase !== 'full-feature') return;
    c.send({ opcode: Opcode.TaskManagementResponse, response, itt: bhs.itt, statSN: c.statSN++, ...c.windowFields() });
    if (bhs.func === TmfFunction.TargetColdReset) c.close();
  };
  if (terminated.length === 0) return answer();
  // A settled LU execution may have failed: it is terminated all the same.
  Promise.allSettled(terminated).then(answer);
}
