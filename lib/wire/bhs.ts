// The 48-byte Basic Header Segment of every RFC 7143 opcode (§11.2-§11.19), both directions: the initiator builds
// requests and parses responses, the embedded target does the reverse with the same code.
//
// decodeBhs() returns a plain object per PDU; encodeBhs() writes one into a caller's buffer. Lengths of the AHS
// and data segment are framing, set by the framer (lib/wire/connection.ts), but are decoded here too.
import { BHS_LENGTH, Opcode } from './opcodes';

export interface Common {
  /** TotalAHSLength in bytes (a multiple of 4). */
  ahsLength: number;
  /** DataSegmentLength in bytes, without padding. */
  dataLength: number;
  itt: number;
}
export interface WithLun { lun: number }
export interface InitiatorSeq { cmdSN: number; expStatSN: number }
export interface TargetSeq { statSN: number; expCmdSN: number; maxCmdSN: number }

export interface NopOut extends Common, WithLun, InitiatorSeq { opcode: Opcode.NopOut; immediate: boolean; ttt: number }
export interface ScsiCommand extends Common, WithLun, InitiatorSeq {
  opcode: Opcode.ScsiCommand; immediate: boolean; final: boolean; read: boolean; write: boolean;
  attr: number; expectedDataTransferLength: number; cdb: Buffer;
}
export interface TaskManagementRequest extends Common, WithLun, InitiatorSeq {
  opcode: Opcode.TaskManagementRequest; immediate: boolean; func: number;
  referencedTaskTag: number; refCmdSN: number; expDataSN: number;
}
export interface LoginRequest extends Common, InitiatorSeq {
  opcode: Opcode.LoginRequest; transit: boolean; cont: boolean; csg: number; nsg: number;
  versionMax: number; versionMin: number; isid: Buffer; tsih: number; cid: number;
}
export interface TextRequest extends Common, WithLun, InitiatorSeq {
  opcode: Opcode.TextRequest; immediate: boolean; final: boolean; cont: boolean; ttt: number;
}
export interface DataOut extends Common, WithLun {
  opcode: Opcode.DataOut; final: boolean; ttt: number; expStatSN: number; dataSN: number; bufferOffset: number;
}
export interface LogoutRequest extends Common, InitiatorSeq {
  opcode: Opcode.LogoutRequest; immediate: boolean; reason: number; cid: number;
}
export interface SnackRequest extends Common, WithLun {
  opcode: Opcode.SnackRequest; type: number; ttt: number; expStatSN: number; begRun: number; runLength: number;
}
export interface NopIn extends Common, WithLun, TargetSeq { opcode: Opcode.NopIn; ttt: number }
export interface ScsiResponse extends Common, TargetSeq {
  opcode: Opcode.ScsiResponse; bidiOverflow: boolean; bidiUnderflow: boolean; overflow: boolean; underflow: boolean;
  response: number; status: number; snackTag: number; expDataSN: number; bidiResidualCount: number; residualCount: number;
}
export interface TaskManagementResponse extends Common, TargetSeq { opcode: Opcode.TaskManagementResponse; response: number }
export interface LoginResponse extends Common, TargetSeq {
  opcode: Opcode.LoginResponse; transit: boolean; cont: boolean; csg: number; nsg: number;
  versionMax: number; versionActive: number; isid: Buffer; tsih: number; statusClass: number; statusDetail: number;
}
export interface TextResponse extends Common, WithLun, TargetSeq { opcode: Opcode.TextResponse; final: boolean; cont: boolean; ttt: number }
export interface DataIn extends Common, WithLun, TargetSeq {
  opcode: Opcode.DataIn; final: boolean; acknowledge: boolean; overflow: boolean; underflow: boolean;
  hasStatus: boolean; status: number; ttt: number; dataSN: number; bufferOffset: number; residualCount: number;
}
export interface LogoutResponse extends Common, TargetSeq { opcode: Opcode.LogoutResponse; response: number; time2Wait: number; time2Retain: number }
export interface R2T extends Common, WithLun, TargetSeq {
  opcode: Opcode.R2T; ttt: number; r2tSN: number; bufferOffset: number; desiredDataTransferLength: number;
}
export interface AsyncMessage extends Common, WithLun, TargetSeq {
  opcode: Opcode.AsyncMessage; asyncEvent: number; asyncVCode: number; parameter1: number; parameter2: number; parameter3: number;
}
export interface Reject extends Common, TargetSeq { opcode: Opcode.Reject; reason: number; dataSN: number }

export type InitiatorPdu = NopOut | ScsiCommand | TaskManagementRequest | LoginRequest | TextRequest | DataOut | LogoutRequest | SnackRequest;
export type TargetPdu = NopIn | ScsiResponse | TaskManagementResponse | LoginResponse | TextResponse | DataIn | LogoutResponse | R2T | AsyncMessage | Reject;
export type Bhs = InitiatorPdu | TargetPdu;

/** A BHS to encode: the framing lengths default to 0 and are filled in by the framer. */
export type BhsInit<T extends Bhs = Bhs> = T extends Bhs ? Omit<T, 'ahsLength' | 'dataLength'> & Partial<Pick<T, 'ahsLength' | 'dataLength'>> : never;

export class BhsError extends Error {
  override name = 'BhsError';
  constructor(message: string, readonly code = 'EBHS') { super(message); }
}

// SAM LUN encoding (SAM-5 §4.7): peripheral device addressing below 256, flat space addressing up to 16383.
export function encodeLun(lun: number, buf: Buffer, offset: number): void {
  for (let i = offset; i < offset + 8; i++) buf[i] = 0; // fill() is a native call: dearer for 8 bytes

  if (lun < 256) {
    buf[offset + 1] = lun;
  } else if (lun < 0x4000) {
    buf[offset] = 0x40 | (lun >> 8);
    buf[offset + 1] = lun & 0xff;
  } else {
    throw new BhsError(`LUN ${lun} is beyond flat space addressing (0-16383)`, 'ELUN');
  }
}

export function decodeLun(buf: Buffer, offset: number): number {
  const method = buf[offset] >> 6;
  if (method === 0 || method === 1) return ((buf[offset] & 0x3f) << 8) | buf[offset + 1];
  return buf.readUInt16BE(offset); // other addressing methods: keep the first level raw
}

const u32 = (b: Buffer, o: number) => b.readUInt32BE(o);
const u16 = (b: Buffer, o: number) => b.readUInt16BE(o);
const flag = (b: number, mask: number) => (b & mask) !== 0;

/**
 * Reads a BHS at `offset` (48 bytes must be present). The ISID and CDB are copies, safe to keep. Objects are built
 * field by field, without spreads or closures: this runs for every PDU received.
 */
export function decodeBhs(buf: Buffer, offset = 0): Bhs {
  if (buf.length - offset < BHS_LENGTH) throw new BhsError(`BHS needs ${BHS_LENGTH} bytes, got ${buf.length - offset}`);
  const b0 = buf[offset];
  const b1 = buf[offset + 1];
  const opcode = b0 & 0x3f;
  const immediate = flag(b0, 0x40);
  const ahsLength = buf[offset + 4] * 4;
  const dataLength = (buf[offset + 5] << 16) | (buf[offset + 6] << 8) | buf[offset + 7];
  const o = offset;
  const itt = u32(buf, o + 16);
  switch (opcode) {
    case Opcode.NopOut:
      return { opcode, immediate, ahsLength, dataLength, itt, lun: decodeLun(buf, o + 8), ttt: u32(buf, o + 20), cmdSN: u32(buf, o + 24), expStatSN: u32(buf, o + 28) };
    case Opcode.ScsiCommand:
      return {
        opcode, immediate, ahsLength, dataLength, itt, final: flag(b1, 0x80), read: flag(b1, 0x40), write: flag(b1, 0x20), attr: b1 & 7,
        lun: decodeLun(buf, o + 8), expectedDataTransferLength: u32(buf, o + 20), cmdSN: u32(buf, o + 24),
        expStatSN: u32(buf, o + 28), cdb: Buffer.from(buf.subarray(o + 32, o + 48)),
      };
    case Opcode.TaskManagementRequest:
      return {
        opcode, immediate, ahsLength, dataLength, itt, func: b1 & 0x7f, lun: decodeLun(buf, o + 8), referencedTaskTag: u32(buf, o + 20),
        cmdSN: u32(buf, o + 24), expStatSN: u32(buf, o + 28), refCmdSN: u32(buf, o + 32), expDataSN: u32(buf, o + 36),
      };
    case Opcode.LoginRequest:
      return {
        opcode, ahsLength, dataLength, itt, transit: flag(b1, 0x80), cont: flag(b1, 0x40), csg: (b1 >> 2) & 3, nsg: b1 & 3,
        versionMax: buf[o + 2], versionMin: buf[o + 3], isid: Buffer.from(buf.subarray(o + 8, o + 14)), tsih: u16(buf, o + 14),
        cid: u16(buf, o + 20), cmdSN: u32(buf, o + 24), expStatSN: u32(buf, o + 28),
      };
    case Opcode.TextRequest:
      return {
        opcode, immediate, ahsLength, dataLength, itt, final: flag(b1, 0x80), cont: flag(b1, 0x40), lun: decodeLun(buf, o + 8),
        ttt: u32(buf, o + 20), cmdSN: u32(buf, o + 24), expStatSN: u32(buf, o + 28),
      };
    case Opcode.DataOut:
      return {
        opcode, ahsLength, dataLength, itt, final: flag(b1, 0x80), lun: decodeLun(buf, o + 8), ttt: u32(buf, o + 20),
        expStatSN: u32(buf, o + 28), dataSN: u32(buf, o + 36), bufferOffset: u32(buf, o + 40),
      };
    case Opcode.LogoutRequest:
      return { opcode, immediate, ahsLength, dataLength, itt, reason: b1 & 0x7f, cid: u16(buf, o + 20), cmdSN: u32(buf, o + 24), expStatSN: u32(buf, o + 28) };
    case Opcode.SnackRequest:
      return {
        opcode, ahsLength, dataLength, itt, type: b1 & 0x0f, lun: decodeLun(buf, o + 8), ttt: u32(buf, o + 20), expStatSN: u32(buf, o + 28),
        begRun: u32(buf, o + 40), runLength: u32(buf, o + 44),
      };
    case Opcode.NopIn:
      return { opcode, ahsLength, dataLength, itt, lun: decodeLun(buf, o + 8), ttt: u32(buf, o + 20), statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32) };
    case Opcode.ScsiResponse:
      return {
        opcode, ahsLength, dataLength, itt, bidiOverflow: flag(b1, 0x10), bidiUnderflow: flag(b1, 0x08), overflow: flag(b1, 0x04),
        underflow: flag(b1, 0x02), response: buf[o + 2], status: buf[o + 3], snackTag: u32(buf, o + 20), statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32),
        expDataSN: u32(buf, o + 36), bidiResidualCount: u32(buf, o + 40), residualCount: u32(buf, o + 44),
      };
    case Opcode.TaskManagementResponse:
      return { opcode, ahsLength, dataLength, itt, response: buf[o + 2], statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32) };
    case Opcode.LoginResponse:
      return {
        opcode, ahsLength, dataLength, itt, transit: flag(b1, 0x80), cont: flag(b1, 0x40), csg: (b1 >> 2) & 3, nsg: b1 & 3,
        versionMax: buf[o + 2], versionActive: buf[o + 3], isid: Buffer.from(buf.subarray(o + 8, o + 14)),
        tsih: u16(buf, o + 14), statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32), statusClass: buf[o + 36], statusDetail: buf[o + 37],
      };
    case Opcode.TextResponse:
      return { opcode, ahsLength, dataLength, itt, final: flag(b1, 0x80), cont: flag(b1, 0x40), lun: decodeLun(buf, o + 8), ttt: u32(buf, o + 20), statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32) };
    case Opcode.DataIn:
      return {
        opcode, ahsLength, dataLength, itt, final: flag(b1, 0x80), acknowledge: flag(b1, 0x40), overflow: flag(b1, 0x04),
        underflow: flag(b1, 0x02), hasStatus: flag(b1, 0x01), status: buf[o + 3], lun: decodeLun(buf, o + 8),
        ttt: u32(buf, o + 20), statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32), dataSN: u32(buf, o + 36), bufferOffset: u32(buf, o + 40), residualCount: u32(buf, o + 44),
      };
    case Opcode.LogoutResponse:
      return { opcode, ahsLength, dataLength, itt, response: buf[o + 2], statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32), time2Wait: u16(buf, o + 40), time2Retain: u16(buf, o + 42) };
    case Opcode.R2T:
      return {
        opcode, ahsLength, dataLength, itt, lun: decodeLun(buf, o + 8), ttt: u32(buf, o + 20), statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32), r2tSN: u32(buf, o + 36),
        bufferOffset: u32(buf, o + 40), desiredDataTransferLength: u32(buf, o + 44),
      };
    case Opcode.AsyncMessage:
      return {
        opcode, ahsLength, dataLength, itt, lun: decodeLun(buf, o + 8), statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32), asyncEvent: buf[o + 36], asyncVCode: buf[o + 37],
        parameter1: u16(buf, o + 38), parameter2: u16(buf, o + 40), parameter3: u16(buf, o + 42),
      };
    case Opcode.Reject:
      return { opcode, ahsLength, dataLength, itt, reason: buf[o + 2], statSN: u32(buf, o + 24), expCmdSN: u32(buf, o + 28), maxCmdSN: u32(buf, o + 32), dataSN: u32(buf, o + 36) };
    default:
      throw new BhsError(`unknown opcode 0x${opcode.toString(16)}`, 'EOPCODE');
  }
}

// Module-level writers: closures created per call made encodeBhs several times slower.
const bit = (v: boolean | undefined, mask: number) => (v ? mask : 0);
function w32(buf: Buffer, at: number, v: number): void { buf.writeUInt32BE(v >>> 0, at); }
function w16(buf: Buffer, at: number, v: number): void { buf.writeUInt16BE(v, at); }
function writeTargetSeq(buf: Buffer, o: number, p: TargetSeq): void {
  w32(buf, o + 24, p.statSN); w32(buf, o + 28, p.expCmdSN); w32(buf, o + 32, p.maxCmdSN);
}

/** SCSI Command flag bits (byte 1): Final, Read, Write, and the SIMPLE task attribute. */
export const ScsiCommandFlags = { FINAL: 0x80, READ: 0x40, WRITE: 0x20, SIMPLE: 1 } as const;

/** The SCSI Command BHS from its fields, without a BhsInit object: one per I/O on the session's hot path. */
export function encodeScsiCommand(buf: Buffer, flags: number, lun: number, itt: number, expectedDataTransferLength: number, cmdSN: number, expStatSN: number, cdb: Buffer): void {
  if (cdb.length > 16) throw new BhsError(`CDB of ${cdb.length} bytes needs an extended-CDB AHS`);
  for (let i = 0; i < BHS_LENGTH; i++) buf[i] = 0;
  buf[0] = Opcode.ScsiCommand;
  buf[1] = flags;
  encodeLun(lun, buf, 8);
  w32(buf, 16, itt); w32(buf, 20, expectedDataTransferLength); w32(buf, 24, cmdSN); w32(buf, 28, expStatSN);
  for (let i = 0; i < cdb.length; i++) buf[32 + i] = cdb[i]; // copy() is a native call: dearer for 16 bytes
}

/** Writes `pdu` as 48 bytes at `offset` of `buf`; every byte of the BHS is written (reserved ones as 0). */
export function encodeBhs(pdu: BhsInit, buf: Buffer, offset = 0): void {
  const o = offset;
  for (let i = o; i < o + BHS_LENGTH; i++) buf[i] = 0; // reserved bytes are 0; a loop beats fill()'s native call here
  const dataLength = pdu.dataLength ?? 0;
  if (dataLength > 0xffffff) throw new BhsError(`DataSegmentLength ${dataLength} does not fit 24 bits`);
  const ahsLength = pdu.ahsLength ?? 0;
  if (ahsLength % 4 !== 0 || ahsLength > 255 * 4) throw new BhsError(`TotalAHSLength ${ahsLength} is not a multiple of 4 up to 1020`);
  buf[o] = pdu.opcode | ('immediate' in pdu && pdu.immediate ? 0x40 : 0);
  buf[o + 4] = ahsLength / 4;
  buf[o + 5] = dataLength >> 16;
  buf[o + 6] = (dataLength >> 8) & 0xff;
  buf[o + 7] = dataLength & 0xff;
  w32(buf, o + 16, pdu.itt);
  switch (pdu.opcode) {
    case Opcode.NopOut:
      buf[o + 1] = 0x80; encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.ttt); w32(buf, o + 24, pdu.cmdSN); w32(buf, o + 28, pdu.expStatSN);
      break;
    case Opcode.ScsiCommand:
      if (pdu.cdb.length > 16) throw new BhsError(`CDB of ${pdu.cdb.length} bytes needs an extended-CDB AHS`);
      buf[o + 1] = bit(pdu.final, 0x80) | bit(pdu.read, 0x40) | bit(pdu.write, 0x20) | (pdu.attr & 7);
      encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.expectedDataTransferLength); w32(buf, o + 24, pdu.cmdSN); w32(buf, o + 28, pdu.expStatSN);
      pdu.cdb.copy(buf, o + 32);
      break;
    case Opcode.TaskManagementRequest:
      buf[o + 1] = 0x80 | (pdu.func & 0x7f); encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.referencedTaskTag);
      w32(buf, o + 24, pdu.cmdSN); w32(buf, o + 28, pdu.expStatSN); w32(buf, o + 32, pdu.refCmdSN); w32(buf, o + 36, pdu.expDataSN);
      break;
    case Opcode.LoginRequest:
      buf[o] |= 0x40; // Login Requests are always immediate (RFC 7143 §11.12)
      buf[o + 1] = bit(pdu.transit, 0x80) | bit(pdu.cont, 0x40) | ((pdu.csg & 3) << 2) | (pdu.nsg & 3);
      buf[o + 2] = pdu.versionMax; buf[o + 3] = pdu.versionMin; pdu.isid.copy(buf, o + 8, 0, 6); w16(buf, o + 14, pdu.tsih);
      w16(buf, o + 20, pdu.cid); w32(buf, o + 24, pdu.cmdSN); w32(buf, o + 28, pdu.expStatSN);
      break;
    case Opcode.TextRequest:
      buf[o + 1] = bit(pdu.final, 0x80) | bit(pdu.cont, 0x40); encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.ttt);
      w32(buf, o + 24, pdu.cmdSN); w32(buf, o + 28, pdu.expStatSN);
      break;
    case Opcode.DataOut:
      buf[o + 1] = bit(pdu.final, 0x80); encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.ttt); w32(buf, o + 28, pdu.expStatSN);
      w32(buf, o + 36, pdu.dataSN); w32(buf, o + 40, pdu.bufferOffset);
      break;
    case Opcode.LogoutRequest:
      buf[o + 1] = 0x80 | (pdu.reason & 0x7f); w16(buf, o + 20, pdu.cid); w32(buf, o + 24, pdu.cmdSN); w32(buf, o + 28, pdu.expStatSN);
      break;
    case Opcode.SnackRequest:
      buf[o + 1] = 0x80 | (pdu.type & 0x0f); encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.ttt); w32(buf, o + 28, pdu.expStatSN);
      w32(buf, o + 40, pdu.begRun); w32(buf, o + 44, pdu.runLength);
      break;
    case Opcode.NopIn:
      buf[o + 1] = 0x80; encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.ttt); writeTargetSeq(buf, o, pdu);
      break;
    case Opcode.ScsiResponse:
      buf[o + 1] = 0x80 | bit(pdu.bidiOverflow, 0x10) | bit(pdu.bidiUnderflow, 0x08) | bit(pdu.overflow, 0x04) | bit(pdu.underflow, 0x02);
      buf[o + 2] = pdu.response; buf[o + 3] = pdu.status; w32(buf, o + 20, pdu.snackTag); writeTargetSeq(buf, o, pdu);
      w32(buf, o + 36, pdu.expDataSN); w32(buf, o + 40, pdu.bidiResidualCount); w32(buf, o + 44, pdu.residualCount);
      break;
    case Opcode.TaskManagementResponse:
      buf[o + 1] = 0x80; buf[o + 2] = pdu.response; writeTargetSeq(buf, o, pdu);
      break;
    case Opcode.LoginResponse:
      buf[o + 1] = bit(pdu.transit, 0x80) | bit(pdu.cont, 0x40) | ((pdu.csg & 3) << 2) | (pdu.nsg & 3);
      buf[o + 2] = pdu.versionMax; buf[o + 3] = pdu.versionActive; pdu.isid.copy(buf, o + 8, 0, 6); w16(buf, o + 14, pdu.tsih);
      writeTargetSeq(buf, o, pdu); buf[o + 36] = pdu.statusClass; buf[o + 37] = pdu.statusDetail;
      break;
    case Opcode.TextResponse:
      buf[o + 1] = bit(pdu.final, 0x80) | bit(pdu.cont, 0x40); encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.ttt); writeTargetSeq(buf, o, pdu);
      break;
    case Opcode.DataIn:
      buf[o + 1] = bit(pdu.final, 0x80) | bit(pdu.acknowledge, 0x40) | bit(pdu.overflow, 0x04) | bit(pdu.underflow, 0x02) | bit(pdu.hasStatus, 0x01);
      if (pdu.hasStatus) buf[o + 3] = pdu.status;
      encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.ttt); writeTargetSeq(buf, o, pdu); w32(buf, o + 36, pdu.dataSN); w32(buf, o + 40, pdu.bufferOffset);
      w32(buf, o + 44, pdu.residualCount);
      break;
    case Opcode.LogoutResponse:
      buf[o + 1] = 0x80; buf[o + 2] = pdu.response; writeTargetSeq(buf, o, pdu); w16(buf, o + 40, pdu.time2Wait); w16(buf, o + 42, pdu.time2Retain);
      break;
    case Opcode.R2T:
      buf[o + 1] = 0x80; encodeLun(pdu.lun, buf, o + 8); w32(buf, o + 20, pdu.ttt); writeTargetSeq(buf, o, pdu); w32(buf, o + 36, pdu.r2tSN);
      w32(buf, o + 40, pdu.bufferOffset); w32(buf, o + 44, pdu.desiredDataTransferLength);
      break;
    case Opcode.AsyncMessage:
      buf[o + 1] = 0x80; encodeLun(pdu.lun, buf, o + 8); writeTargetSeq(buf, o, pdu); buf[o + 36] = pdu.asyncEvent; buf[o + 37] = pdu.asyncVCode;
      w16(buf, o + 38, pdu.parameter1); w16(buf, o + 40, pdu.parameter2); w16(buf, o + 42, pdu.parameter3);
      break;
    case Opcode.Reject:
      buf[o + 1] = 0x80; buf[o + 2] = pdu.reason; writeTargetSeq(buf, o, pdu); w32(buf, o + 36, pdu.dataSN);
      break;
    default:
      throw new BhsError(`unknown opcode 0x${(pdu as { opcode: number }).opcode.toString(16)}`, 'EOPCODE');
  }
}
