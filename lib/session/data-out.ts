// Write data sequencing (RFC 7143 §11.7-§11.8, §13.10-§13.14): immediate data in the SCSI Command, unsolicited
// Data-Out up to FirstBurstLength unless InitialR2T, then Data-Out answering each R2T. Every segment is a view of
// the caller's buffer (no copy) and never longer than the target's MaxRecvDataSegmentLength.
import type { NegotiatedParameters } from '../protocol/negotiation';
import type { PduConnection } from '../wire/connection';
import { Opcode, RESERVED_TAG } from '../wire/opcodes';

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
