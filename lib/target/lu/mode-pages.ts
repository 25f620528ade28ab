// MODE SENSE (6)/(10) data of the emulated disk (SPC-4 §6.11, §6.12, §7.5; SBC-3 §6.4). No MODE SELECT:
// every page reports nothing changeable.
import { Asc, SenseKey } from '../../scsi/sense-codes';
import { ModePage } from '../../scsi/opcodes';
import { CheckCondition, invalidField } from './sense-data';

export interface ModeSenseContext {
  blocks: number;
  blockSize: number;
  writeCacheEnabled: boolean;
  readOnly: boolean;
}

// The pages we have, in page-code order (the order "all pages" returns them).
const PAGE_CODES = [ModePage.READ_WRITE_ERROR_RECOVERY, ModePage.CACHING, ModePage.CONTROL, ModePage.INFORMATIONAL_EXCEPTIONS];

function pageBody(code: number, ctx: ModeSenseContext, changeable: boolean): Buffer {
  const lengths: Record<number, number> = { 0x01: 0x0a, 0x08: 0x12, 0x0a: 0x0a, 0x1c: 0x0a };
  const p = Buffer.alloc(2 + lengths[code]);
  p[0] = code;
  p[1] = lengths[code];
  if (changeable) return p;
  switch (code) {
    case ModePage.READ_WRITE_ERROR_RECOVERY:
      p[2] = 0x80;                                   // AWRE
      break;
    case ModePage.CACHING:
      p[2] = ctx.writeCacheEnabled ? 0x04 : 0;       // WCE
      break;
    case ModePage.CONTROL:
      p[3] = 0x10;                                   // queue algorithm modifier 1: unrestricted reordering
      p.writeUInt16BE(0xffff, 8);                    // busy timeout period: unlimited
      break;
    case ModePage.INFORMATIONAL_EXCEPTIONS:
      break;
  }
  return p;
}

function pages(cdb: Buffer, ctx: ModeSenseContext): Buffer {
  const pageControl = cdb[2] >> 6;
  const code = cdb[2] & 0x3f;
  const subpage = cdb[3];
  if (pageControl === 3) throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.SAVING_PARAMETERS_NOT_SUPPORTED, { fieldPointer: { byte: 2, bit: 7 } });
  const changeable = pageControl === 1;
  if (code === ModePage.ALL) {
    if (subpage !== 0 && subpage !== 0xff) throw invalidField(3);
    return Buffer.concat(PAGE_CODES.map((c) => pageBody(c, ctx, changeable)));
  }
  if (!(PAGE_CODES as readonly number[]).includes(code)) throw invalidField(2, 5);
  if (subpage !== 0) throw invalidField(3);
  return pageBody(code, ctx, changeable);
}

function shortBlockDescriptor(ctx: ModeSenseContext): Buffer {
  const d = Buffer.alloc(8);
  d.writeUInt32BE(Math.min(ctx.blocks, 0xffffffff), 0);
  d.writeUIntBE(ctx.blockSize, 5, 3);
  return d;
}

function longBlockDescriptor(ctx: ModeSenseContext): Buffer {
  const d = Buffer.alloc(16);
  d.writeBigUInt64BE(BigInt(ctx.blocks), 0);
  d.writeUInt32BE(ctx.blockSize, 12);
  return d;
}

const deviceSpecific = (ctx: ModeSenseContext) => (ctx.readOnly ? 0x80 : 0) | 0x10; // WP, DPOFUA

export function modeSense6Data(cdb: Buffer, ctx: ModeSenseContext): Buffer {
  const dbd = (cdb[1] & 0x08) !== 0;
  const body = pages(cdb, ctx);
  const bd = dbd ? Buffer.alloc(0) : shortBlockDescriptor(ctx);
  const header = Buffer.alloc(4);
  header[0] = 3 + bd.length + body.length;
  header[2] = deviceSpecific(ctx);
  header[3] = bd.length;
  return Buffer.concat([header, bd, body]).subarray(0, cdb[4]);
}

export function modeSense10Data(cdb: Buffer, ctx: ModeSenseContext): Buffer {
  const dbd = (cdb[1] & 0x08) !== 0;
  const llbaa = (cdb[1] & 0x10) !== 0;
  const body = pages(cdb, ctx);
  const bd = dbd ? Buffer.alloc(0) : llbaa ? longBlockDescriptor(ctx) : shortBlockDescriptor(ctx);
  const header = Buffer.alloc(8);
  header.writeUInt16BE(6 + bd.length + body.length, 0);
  header[3] = deviceSpecific(ctx);
  header[4] = llbaa && !dbd ? 0x01 : 0;
  header.writeUInt16BE(bd.length, 6);
  return Buffer.concat([header, bd, body]).subarray(0, cdb.readUInt16BE(7));
}
