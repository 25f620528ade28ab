// The R2T / Data-Out phase (RFC 7143 §11.7-§11.8, §13.10-§13.14): immediate data in the SCSI Command, unsolicited
// Data-Out up to FirstBurstLength unless InitialR2T, then Data-Out answering each R2T. Every segment is a view of
// the caller's buffer (no copy) and never longer than the target's MaxRecvDataSegmentLength.
import type { NegotiatedParameters } from '../protocol/negotiation';
import type { R2T } from '../wire/bhs';
import type { PduConnection } from '../wire/connection';
import { Opcode, RESERVED_TAG } from '../wire/opcodes';
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

export interface DataOutSequence {
  itt: number;
  lun: number;
  /** RESERVED_TAG for unsolicited data, else the R2T's Target Transfer Tag. */
  ttt: number;
  buffer: Buffer;
  offset: number;
  length: number;
  maxSegment: number;
  expStatSN: number;
}

/** Sends one Data-Out sequence (DataSN from 0, F on the last PDU). Returns false if the socket wants 'drain'. */
export function sendDataOutSequence(connection: PduConnection, s: DataOutSequence): boolean {
  let ok = true;
  const end = s.offset + s.length;
  let dataSN = 0;
  for (let at = s.offset; at < end; at += s.maxSegment) {
    const size = Math.min(s.maxSegment, end - at);
    ok = connection.send({
      opcode: Opcode.DataOut, final: at + size >= end, lun: s.lun, itt: s.itt, ttt: s.ttt, expStatSN: s.expStatSN,
      dataSN: dataSN++, bufferOffset: at,
    }, s.buffer.subarray(at, at + size));
  }
  return ok;
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
  const p = core.parameters;
  const end = bhs.bufferOffset + bhs.desiredDataTransferLength;
  if (task.command.direction !== 'write' || end > task.command.transferLength || bhs.desiredDataTransferLength > p.maxBurstLength) {
    core.lost(new SessionProtocolError(`R2T for ITT 0x${bhs.itt.toString(16)} asks for bytes ${bhs.bufferOffset}..${end} outside the ${task.command.transferLength}-byte ${task.command.direction} or its burst limit`, 'ER2T'));
    return;
  }
  if (task.heldR2Ts) { task.heldR2Ts.push(bhs); return; }
  sendDataOutSequence(core.connection, {
    itt: task.itt, lun: task.lun, ttt: bhs.ttt, buffer: task.buffer!, offset: bhs.bufferOffset,
    length: bhs.desiredDataTransferLength, maxSegment: p.targetMaxRecvDataSegmentLength, expStatSN: core.expStatSN,
  });
}
