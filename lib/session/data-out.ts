// The R2T / Data-Out phase (RFC 7143 §11.7-§11.8, §13.10-§13.14): immediate data in the SCSI Command, unsolicited
// Data-Out up to FirstBurstLength unless InitialR2T, then Data-Out answering each R2T. Each sequence is one
// PduConnection.sendDataOut(): the addon frames its PDUs from the caller's buffer (no copy, no header encoded in JS
// per PDU), never longer than the target's MaxRecvDataSegmentLength.
import type { NegotiatedParameters } from '../protocol/negotiation';
import type { R2T } from '../wire/bhs';
import { RESERVED_TAG } from '../wire/opcodes';
import { SessionProtocolError } from './errors';
import type { SessionCore } from './session-core';
import type { Task } from './task';

export interface UnsolicitedPlan {
  /** Bytes sent as immediate data inside the SCSI Command PDU. */
  immediate: number;
  /** Unsolicited data (immediate included) ends at this offset; the rest waits for R2Ts. */
  unsolicitedEnd: number;
}

/** How much of a `length`-byte write goes out before any R2T. */
export function planUnsolicited(length: number, p: NegotiatedParameters): UnsolicitedPlan {
  const firstBurst = Math.min(length, p.firstBurstLength);
  const immediate = p.immediateData ? Math.min(firstBurst, p.targetMaxRecvDataSegmentLength) : 0;
  const unsolicitedEnd = p.initialR2T ? immediate : firstBurst;
  return { immediate, unsolicitedEnd };
}

export const UNSOLICITED_TTT = RESERVED_TAG;

/** Stops a write's Data-Out until resumeData() (a task management request covering it is on its way). */
export function holdData(task: Task): void {
  if (task.command.direction === 'write') task.heldR2Ts ??= [];
}

/** The request failed: the write goes on, and the R2Ts that came meanwhile are answered. */
export function resumeData(core: SessionCore, task: Task): void {
  const held = task.heldR2Ts;
  task.heldR2Ts = undefined;
  if (!held || task.aborted || core.tasks.get(task.itt) !== task) return;
  for (const r2t of held) answerR2T(core, r2t);
}

/**
 * An R2T (RFC 7143 §11.8): the Data-Out sequence it asks for, from the write's own buffer. An R2T for a command
 * that writes nothing, or for bytes outside the write or beyond MaxBurstLength, is a protocol violation: the
 * connection goes. One for a task that already ended is ignored.
 */
export function answerR2T(core: SessionCore, bhs: R2T): void {
  const task = core.tasks.get(bhs.itt);
  if (!task) return core.unknownItt('R2T', bhs.itt);
  if (task.aborted || task.tmf) return;
  if (!withinWrite(core, task, bhs.bufferOffset, bhs.desiredDataTransferLength)) return;
  if (task.heldR2Ts) { task.heldR2Ts.push(bhs); return; }
  send(core, task, bhs.ttt, bhs.bufferOffset, bhs.desiredDataTransferLength);
}

/**
 * The receive hot path's R2T (Deframer FastPath): the same answer read straight from the header at `o`, with no
 * decoded BHS, for a write running normally. Returns false for anything answerR2T() must see (an unknown tag, a
 * held or aborted write, an R2T with a data segment, which is malformed).
 */
export function answerR2TFast(core: SessionCore, itt: number, h: Buffer, o: number, dataLength: number): boolean {
  const task = core.tasks.get(itt);
  if (dataLength > 0 || task === undefined || task.aborted || task.tmf || task.heldR2Ts) return false;
  core.keepalive?.heard();
  core.window.update(h.readUInt32BE(o + 28), h.readUInt32BE(o + 32));
  const offset = h.readUInt32BE(o + 40);
  const length = h.readUInt32BE(o + 44);
  if (withinWrite(core, task, offset, length)) send(core, task, h.readUInt32BE(o + 20), offset, length);
  return true;
}

/** False, with the connection lost, when the R2T asks for bytes outside the write or beyond MaxBurstLength. */
function withinWrite(core: SessionCore, task: Task, offset: number, length: number): boolean {
  const end = offset + length;
  if (task.command.direction !== 'write' || end > task.command.transferLength || length > core.parameters.maxBurstLength) {
    core.lost(new SessionProtocolError(`R2T for ITT 0x${task.itt.toString(16)} asks for bytes ${offset}..${end} outside the ${task.command.transferLength}-byte ${task.command.direction} or its burst limit`, 'ER2T'));
    return false;
  }
  return true;
}

function send(core: SessionCore, task: Task, ttt: number, offset: number, length: number): void {
  core.connection.sendDataOut({
    itt: task.itt, lun: task.lun, ttt, buffer: task.buffer!, offset, length,
    maxSegment: core.parameters.targetMaxRecvDataSegmentLength, expStatSN: core.expStatSN,
  });
}
