// The transmission phase's wire format: a 28-byte request header (doc/proto.md "Request message") and the 16-byte
// simple reply header. Replies carry Linux errno numbers whatever the host.
import { REQUEST_MAGIC, SIMPLE_REPLY_MAGIC } from './constants';

export interface NbdRequest {
  flags: number;
  type: number;
  /** The client's opaque 64-bit cookie, echoed back as it came. */
  handle: Buffer;
  offset: number;
  length: number;
}

export class NbdRequestError extends Error {
  override name = 'NbdRequestError';
  readonly code = 'ENBDREQUEST';
}

/** Decodes one request header; throws NbdRequestError on a bad magic (the stream is lost past it). */
export function decodeRequest(header: Buffer): NbdRequest {
  const magic = header.readUInt32BE(0);
  if (magic !== REQUEST_MAGIC) throw new NbdRequestError(`request magic 0x${magic.toString(16)} is not 0x${REQUEST_MAGIC.toString(16)}`);
  const offset = header.readBigUInt64BE(16);
  return {
    flags: header.readUInt16BE(4), type: header.readUInt16BE(6),
    // A copy: the header may be a view of a socket chunk that the payload also lives in, kept until the reply.
    handle: Buffer.from(header.subarray(8, 16)),
    // Past 2^53 no export of ours reaches: clamp so the range check refuses it.
    offset: offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(offset),
    length: header.readUInt32BE(24),
  };
}

export function encodeSimpleReply(handle: Buffer, errno: number): Buffer {
  const reply = Buffer.allocUnsafe(16);
  reply.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  reply.writeUInt32BE(errno, 4);
  handle.copy(reply, 8);
  return reply;
}
