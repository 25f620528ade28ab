// Issuing a SCSI Command PDU (RFC 7143 §11.3) once the command window gives it a CmdSN: the header encoded from
// the task's fields (no decoded object on the hot path), a write's immediate data, and its unsolicited Data-Out.
import { encodeScsiCommand, ScsiCommandFlags } from '../wire/bhs';
import { planUnsolicited, UNSOLICITED_TTT } from './data-out';
import type { SessionCore } from './session-core';
import type { Task } from './task';

export function sendScsiCommand(core: SessionCore, task: Task, cmdSN: number): void {
  task.cmdSN = cmdSN;
  task.generation = core.generation;
  const { command, buffer } = task;
  const connection = core.connection;
  const header = connection.allocHeader();
  if (command.direction !== 'write') {
    const flags = ScsiCommandFlags.FINAL | ScsiCommandFlags.SIMPLE | (command.direction === 'read' ? ScsiCommandFlags.READ : 0);
    encodeScsiCommand(header, flags, task.lun, task.itt, command.transferLength, cmdSN, core.expStatSN, command.cdb);
    connection.sendEncoded(header);
    return;
  }
  const p = core.parameters;
  const plan = planUnsolicited(command.transferLength, p);
  const flags = (plan.unsolicitedEnd === plan.immediate ? ScsiCommandFlags.FINAL : 0) | ScsiCommandFlags.WRITE | ScsiCommandFlags.SIMPLE;
  encodeScsiCommand(header, flags, task.lun, task.itt, command.transferLength, cmdSN, core.expStatSN, command.cdb);
  connection.sendEncoded(header, plan.immediate > 0 ? buffer!.subarray(0, plan.immediate) : undefined);
  if (plan.unsolicitedEnd > plan.immediate) {
    connection.sendDataOut({
      itt: task.itt, lun: task.lun, ttt: UNSOLICITED_TTT, buffer: buffer!, offset: plan.immediate,
      length: plan.unsolicitedEnd - plan.immediate, maxSegment: p.targetMaxRecvDataSegmentLength, expStatSN: core.expStatSN,
    });
  }
}
