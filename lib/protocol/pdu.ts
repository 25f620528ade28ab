// A PDU as the protocol layer sees it: a BHS plus its data segment (no AHS, digests or padding: the framer's job).
import type { Bhs, BhsInit } from '../wire/bhs';

/** A PDU received and decoded. */
export interface Pdu<T extends Bhs = Bhs> { bhs: T; data: Buffer }

/** A PDU to send: `bhs.dataLength` is set to `data.length`. */
export interface OutgoingPdu<T extends Bhs = Bhs> { bhs: BhsInit<T>; data: Buffer }

/** RFC 7143 §13.12: the default MaxRecvDataSegmentLength, in force for every login PDU. */
export const LOGIN_MAX_DATA_LENGTH = 8192;
