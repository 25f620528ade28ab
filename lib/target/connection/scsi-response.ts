// The answer to a SCSI command: Data-In PDUs cut to the initiator's segment and burst sizes, the status (in the
// last Data-In when GOOD, else a SCSI Response with sense) and the residuals of RFC 7143 §11.4.5.
import { Opcode, RESERVED_TAG } from '../../wire/opcodes';
import type { ScsiResult } from '../lu/types';
import type { Task } from './task-table';
import type { TargetConnection } from '../target-connection';

export const SCSI_GOOD = 0x00;
export const SCSI_CHECK_CONDITION = 0x02;
export const SCSI_BUSY = 0x08;
export const SCSI_TASK_SET_FULL = 0x28;

function fixedSense(key: number, asc: number): Buffer {
  const s = Buffer.alloc(18);
  s[0] = 0x70; s[2] = key; s[7] = 10; s[12] = asc;
  return s;
}

/** HARDWARE ERROR / INTERNAL TARGET FAILURE (44h/00h): a fault of ours, reported without losing the connection. */
export const HARDWARE_ERROR_SENSE = fixedSense(0x04, 0x44);
/** ABORTED COMMAND / DATA PHASE ERROR (4Bh/00h): the command's Data-Out broke the sequence rules. */
export const DATA_PHASE_ERROR_SENSE = fixedSense(0x0b, 0x4b);

export function sendScsiResult(c: TargetConnection, task: Task, result: ScsiResult): void {
  const edtl = task.expectedLength;
  const params = c.params!;
  const produced = result.data?.length ?? 0;
  // Residuals (RFC 7143 §11.4.5): reads compare the data the command produced, writes the data the CDB wanted.
  // A write whose CDB length we cannot tell (WRITE SAME, UNMAP lists...) took what the initiator sent.
  const wanted = task.wanted ?? (task.isWrite ? edtl : produced);
  const overflow = wanted > edtl;
  const underflow = wanted < edtl;
  const residualCount = overflow ? wanted - edtl : underflow ? edtl - wanted : 0;
  let dataSN = 0;
  if (task.read && result.data && produced > 0 && edtl > 0) {
    const total = Math.min(produced, edtl);
    const data = result.data;
    const segment = params.initiatorMaxRecvDataSegmentLength;
    const burst = params.maxBurstLength;
    const statusInData = result.status === SCSI_GOOD;
    for (let offset = 0; offset < total;) {
      const burstLeft = burst - (offset % burst);
      const length = Math.min(segment, total - offset, burstLeft);
      const last = offset + length === total;
      const withStatus = last && statusInData;
      c.send({
        opcode: Opcode.DataIn, final: last || length === burstLeft, acknowledge: false,
        overflow: withStatus && overflow, underflow: withStatus && underflow, hasStatus: withStatus,
        status: withStatus ? result.status : 0, lun: task.lun, itt: task.itt, ttt: RESERVED_TAG,
        statSN: withStatus ? c.statSN++ : c.statSN, ...c.windowFields(),
        dataSN: dataSN++, bufferOffset: offset, residualCount: withStatus ? residualCount : 0,
      }, data.subarray(offset, offset + length));
      offset += length;
    }
    if (statusInData) return;
  }
  const sense = result.status === SCSI_CHECK_CONDITION && result.sense ? result.sense : undefined;
  let payload: Buffer[] | undefined;
  if (sense) {
    const header = Buffer.allocUnsafe(2);
    header.writeUInt16BE(sense.length, 0);
    payload = [header, sense];
  }
  c.send({
    opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: false, overflow, underflow, response: 0,
    status: result.status, itt: task.itt, snackTag: 0, statSN: c.statSN++, ...c.windowFields(),
    expDataSN: dataSN, bidiResidualCount: 0, residualCount,
  }, payload);
}
