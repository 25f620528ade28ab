// The handshake phase, server side (doc/proto.md "Fixed newstyle negotiation"): greeting, client flags, then
// options until the client picks an export (NBD_OPT_GO, or the old NBD_OPT_EXPORT_NAME) or leaves. Answers LIST,
// INFO and GO with the export's size, transmission flags and block sizes; refuses what it does not do (TLS,
// structured replies, meta contexts) with NBD_REP_ERR_UNSUP so the client carries on without them.
import {
  CLIENT_FLAG_FIXED_NEWSTYLE, CLIENT_FLAG_NO_ZEROES, FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, INFO,
  MAX_OPTION_BYTES, NBDMAGIC, OPT, OPTION_REPLY_MAGIC, REP, TFLAG,
} from './constants';
import type { NbdExport } from './export';

/** The two ends of the handshake: whole reads from the client, writes to it. */
export interface HandshakeIo {
  read(n: number): Promise<Buffer>;
  write(data: Buffer): void;
}

export class NbdHandshakeError extends Error {
  override name = 'NbdHandshakeError';
  constructor(message: string, readonly code = 'ENBDHANDSHAKE') { super(message); }
}

export function transmissionFlags(e: NbdExport): number {
  let flags = TFLAG.HAS_FLAGS | TFLAG.SEND_FUA;
  if (e.readOnly) flags |= TFLAG.READ_ONLY;
  if (e.flush) flags |= TFLAG.SEND_FLUSH;
  if (e.writeZeroes) flags |= TFLAG.SEND_WRITE_ZEROES;
  if (e.trim) flags |= TFLAG.SEND_TRIM;
  if (e.multiConn) flags |= TFLAG.CAN_MULTI_CONN;
  return flags;
}

function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.allocUnsafe(20);
  head.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  head.writeUInt32BE(option, 8);
  head.writeUInt32BE(type, 12);
  head.writeUInt32BE(data.length, 16);
  return Buffer.concat([head, data]);
}

function infoExport(e: NbdExport): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt16BE(INFO.EXPORT, 0);
  b.writeBigUInt64BE(BigInt(e.size), 2);
  b.writeUInt16BE(transmissionFlags(e), 10);
  return b;
}

function infoBlockSize(e: NbdExport): Buffer {
  const b = Buffer.allocUnsafe(14);
  b.writeUInt16BE(INFO.BLOCK_SIZE, 0);
  b.writeUInt32BE(e.blockSize, 2); // minimum
  b.writeUInt32BE(Math.max(e.blockSize, 4096), 6); // preferred
  b.writeUInt32BE(e.maxPayload, 10); // maximum
  return b;
}

function infoText(type: number, text: string): Buffer {
  const t = Buffer.from(text, 'utf8');
  const b = Buffer.allocUnsafe(2 + t.length);
  b.writeUInt16BE(type, 0);
  t.copy(b, 2);
  return b;
}

export interface Negotiated { export: NbdExport; noZeroes: boolean }

/**
 * Runs the handshake to its end: the export the client chose, or undefined when it aborted or ended the option
 * phase. `find('')` is the default export. Throws NbdHandshakeError on a client that breaks the protocol.
 */
export async function negotiate(io: HandshakeIo, find: (name: string) => NbdExport | undefined, list: () => NbdExport[]): Promise<Negotiated | undefined> {
  const greeting = Buffer.allocUnsafe(18);
  greeting.writeBigUInt64BE(NBDMAGIC, 0);
  greeting.writeBigUInt64BE(IHAVEOPT, 8);
  greeting.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  io.write(greeting);
  const clientFlags = (await io.read(4)).readUInt32BE(0);
  if (clientFlags & ~(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES)) {
    throw new NbdHandshakeError(`client flags 0x${clientFlags.toString(16)} include ones this server does not know`);
  }
  const noZeroes = (clientFlags & CLIENT_FLAG_NO_ZEROES) !== 0;
  const fixed = (clientFlags & CLIENT_FLAG_FIXED_NEWSTYLE) !== 0;
  for (;;) {
    const head = await io.read(16);
    if (head.readBigUInt64BE(0) !== IHAVEOPT) throw new NbdHandshakeError('option without the IHAVEOPT magic');
    const option = head.readUInt32BE(8);
    const length = head.readUInt32BE(12);
    if (length > MAX_OPTION_BYTES) throw new NbdHandshakeError(`option ${option} carries ${length} bytes (at most ${MAX_OPTION_BYTES})`);
    const data = length > 0 ? await io.read(length) : Buffer.alloc(0);
    switch (option) {
      case OPT.EXPORT_NAME: {
        const chosen = find(data.toString('utf8'));
        // No way to refuse here but hanging up (the old option has no error reply).
        if (!chosen) return undefined;
        const reply = Buffer.alloc(noZeroes ? 10 : 134);
        reply.writeBigUInt64BE(BigInt(chosen.size), 0);
        reply.writeUInt16BE(transmissionFlags(chosen), 8);
        io.write(reply);
        return { export: chosen, noZeroes };
      }
      case OPT.ABORT:
        io.write(optionReply(option, REP.ACK));
        return undefined;
      case OPT.LIST: {
        if (length !== 0) { io.write(optionReply(option, REP.ERR_INVALID)); break; }
        for (const e of list()) {
          const name = Buffer.from(e.name, 'utf8');
          const description = Buffer.from(e.description ?? '', 'utf8');
          const body = Buffer.allocUnsafe(4 + name.length + description.length);
          body.writeUInt32BE(name.length, 0);
          name.copy(body, 4);
          description.copy(body, 4 + name.length);
          io.write(optionReply(option, REP.SERVER, body));
        }
        io.write(optionReply(option, REP.ACK));
        break;
      }
      case OPT.INFO:
      case OPT.GO: {
        const request = parseInfoRequest(data);
        if (!request) { io.write(optionReply(option, REP.ERR_INVALID)); break; }
        const chosen = find(request.name);
        if (!chosen) {
          io.write(optionReply(option, REP.ERR_UNKNOWN, Buffer.from(`no export named "${request.name}"`)));
          break;
        }
        if (request.types.includes(INFO.NAME)) io.write(optionReply(option, REP.INFO, infoText(INFO.NAME, chosen.name)));
        if (request.types.includes(INFO.DESCRIPTION) && chosen.description) io.write(optionReply(option, REP.INFO, infoText(INFO.DESCRIPTION, chosen.description)));
        // Block sizes always: a client that did not ask may still use them, and ours are constraints.
        io.write(optionReply(option, REP.INFO, infoBlockSize(chosen)));
        io.write(optionReply(option, REP.INFO, infoExport(chosen)));
        io.write(optionReply(option, REP.ACK));
        if (option === OPT.GO) return { export: chosen, noZeroes };
        break;
      }
      default:
        // Fixed newstyle: an option we do not do gets an error reply and the haggling goes on.
        if (!fixed) throw new NbdHandshakeError(`option ${option} from a client without fixed newstyle`);
        io.write(optionReply(option, option === OPT.STARTTLS ? REP.ERR_POLICY : REP.ERR_UNSUP));
    }
  }
}

function parseInfoRequest(data: Buffer): { name: string; types: number[] } | undefined {
  if (data.length < 6) return undefined;
  const nameLength = data.readUInt32BE(0);
  if (4 + nameLength + 2 > data.length) return undefined;
  const name = data.subarray(4, 4 + nameLength).toString('utf8');
  const count = data.readUInt16BE(4 + nameLength);
  if (data.length !== 4 + nameLength + 2 + 2 * count) return undefined;
  const types: number[] = [];
  for (let i = 0; i < count; i++) types.push(data.readUInt16BE(4 + nameLength + 2 + 2 * i));
  return { name, types };
}
