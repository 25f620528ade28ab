// The Data-In phase (RFC 7143 §11.7) and SCSI Responses (§11.4): read data placed in the caller's buffer, the
// status that ends a command, residuals. A read is data only when every byte of it arrived, in order and without
// holes; Data-In never lands in a buffer that is not a read's.
import type { DataIn, ScsiResponse } from '../wire/bhs';
import type { ReceivedPdu } from '../wire/deframer';
import { Opcode } from '../wire/opcodes';
import { PathError, SessionProtocolError } from './errors';
import type { SessionCore } from './session-core';
import { type CommandResult, resultOf, type Task } from './task';

// Flag bits of Data-In (S) and of Data-In / SCSI Response (U, O), RFC 7143 §11.7.1, §11.4.
const DATA_IN_STATUS = 0x01;
const RESIDUAL_UNDERFLOW = 0x02;
const RESIDUAL_OVERFLOW = 0x04;

/**
 * The hot path of the receive side: a Data-In already placed in its task's buffer, or a SCSI Response without
 * sense, for a command running normally, read straight from the header with no decoded BHS. Anything else (an
 * error to report, sense to copy, a late or out-of-order PDU) returns false and takes the full path below.
 */
export function receiveFast(core: SessionCore, opcode: number, itt: number, h: Buffer, o: number, placed: boolean, dataLength: number): boolean {
  const isDataIn = opcode === Opcode.DataIn;
  if (!isDataIn && (opcode !== Opcode.ScsiResponse || dataLength > 0 || h[o + 2] !== 0)) return false;
  const task = core.tasks.get(itt);
  if (task === undefined || task.aborted || task.tmf) return false;
  const flags = h[o + 1];
  if (isDataIn) {
    if (dataLength > 0 && !placed) return false;
    // In order and without holes (DataPDUInOrder/DataSequenceInOrder=Yes): anything else takes the full path.
    if (h.readUInt32BE(o + 36) !== task.expDataSN || h.readUInt32BE(o + 40) !== task.received) return false;
    task.expDataSN++;
    task.received += dataLength;
  }
  core.keepalive?.heard();
  core.window.update(h.readUInt32BE(o + 28), h.readUInt32BE(o + 32));
  if (isDataIn && (flags & DATA_IN_STATUS) === 0) return true;
  core.advanceStatSN(h.readUInt32BE(o + 24));
  core.finish(task, readResult(task, resultOf(h[o + 3], h.readUInt32BE(o + 44), (flags & RESIDUAL_UNDERFLOW) !== 0, (flags & RESIDUAL_OVERFLOW) !== 0)));
  return true;
}

export function receiveDataIn(core: SessionCore, bhs: DataIn, pdu: ReceivedPdu): void {
  const task = core.tasks.get(bhs.itt);
  if (bhs.hasStatus) core.advanceStatSN(bhs.statSN);
  if (!task) return core.unknownItt('Data-In', bhs.itt);
  if (task.aborted || task.tmf) {
    if (bhs.hasStatus && !task.tmf) lateStatus(core, 'Data-In', task);
    return;
  }
  const violation = dataInViolation(bhs, task);
  if (violation) {
    // ERL 0 has no way to recover a lost or misplaced Data-In: the connection goes (RFC 7143 §7.1.4). Bytes the
    // deframer placed for it are in a buffer whose command now fails: never claimed as data.
    core.lost(violation);
    return;
  }
  task.expDataSN++;
  task.received += bhs.dataLength;
  if (!pdu.placed && pdu.data && pdu.data.length > 0) pdu.data.copy(task.buffer!, bhs.bufferOffset);
  if (bhs.hasStatus) core.finish(task, readResult(task, resultOf(bhs.status, bhs.residualCount, bhs.underflow, bhs.overflow)));
}

export function receiveScsiResponse(core: SessionCore, bhs: ScsiResponse, pdu: ReceivedPdu): void {
  core.advanceStatSN(bhs.statSN);
  const task = core.tasks.get(bhs.itt);
  const data = pdu.data ?? Buffer.alloc(0);
  if (data.length > 0 && (data.length < 2 || 2 + data.readUInt16BE(0) > data.length)) {
    const declared = data.length < 2 ? 'a SenseLength field' : `${data.readUInt16BE(0)} bytes of sense`;
    core.lost(new SessionProtocolError(`SCSI Response for ITT 0x${bhs.itt.toString(16)} declares ${declared} in a ${data.length}-byte data segment`, 'ESENSELENGTH'));
    return;
  }
  if (!task) return core.unknownItt('SCSI Response', bhs.itt);
  if (task.aborted || task.tmf) {
    if (!task.tmf) lateStatus(core, 'SCSI Response', task);
    return;
  }
  if (bhs.response !== 0) {
    core.release(task);
    core.fail(task, new PathError(`the target failed the command (iSCSI response 0x${bhs.response.toString(16)})`, 'EREJECTED'));
    return;
  }
  const senseLength = data.length >= 2 ? data.readUInt16BE(0) : 0;
  const sense = senseLength > 0 ? Buffer.from(data.subarray(2, 2 + senseLength)) : undefined;
  core.finish(task, readResult(task, { status: bhs.status, sense, residual: bhs.residualCount, underflow: bhs.underflow, overflow: bhs.overflow }));
}

/** The status of a command that already ended for its caller (it raced our abort): dropped, said, and its tag freed. */
function lateStatus(core: SessionCore, what: string, task: Task): void {
  core.release(task);
  core.warn(new SessionProtocolError(`${what} for ITT 0x${task.itt.toString(16)}, a command already ended by task management (it raced the abort): dropped`, 'EUNKNOWNITT'));
}

/** What is wrong with a Data-In for `task`, named; undefined when it is the next one the read expects. */
function dataInViolation(bhs: DataIn, task: Task): SessionProtocolError | undefined {
  const itt = `ITT 0x${bhs.itt.toString(16)}`;
  if (task.command.direction !== 'read' || !task.buffer) {
    // Data-In never lands in a write's buffer (it is the application's data, about to be sent).
    return new SessionProtocolError(`Data-In for ${itt}, a command that reads nothing (${task.command.direction}): refused, nothing copied`, 'EDATAINDIRECTION');
  }
  if (bhs.dataSN !== task.expDataSN) {
    return new SessionProtocolError(`Data-In for ${itt} with DataSN ${bhs.dataSN} where ${task.expDataSN} was due (duplicated, missing or out of order)`, 'EDATASN');
  }
  if (bhs.bufferOffset !== task.received || bhs.bufferOffset + bhs.dataLength > task.command.transferLength) {
    return new SessionProtocolError(`Data-In for ${itt} at Buffer Offset ${bhs.bufferOffset} + ${bhs.dataLength} bytes, where offset ${task.received} of a ${task.command.transferLength}-byte read was due`, 'EBUFFEROFFSET');
  }
  return undefined;
}

/** A read's result says how many bytes really arrived when that is fewer than asked (CommandResult.received). */
function readResult(task: Task, result: CommandResult): CommandResult {
  if (task.command.direction !== 'read' || task.received >= task.command.transferLength) return result;
  return { ...result, received: task.received };
}
