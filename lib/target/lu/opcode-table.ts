// The commands the emulated disk supports, with their CDB usage bitmaps (SPC-4 §6.35, REPORT SUPPORTED
// OPERATION CODES). A usage bitmap has a 1 for every CDB bit the device server looks at.
import { MaintenanceIn, ScsiOp, ServiceActionIn } from '../../scsi/opcodes';
import { SbcOp, SbcServiceActionIn } from './sbc-ops';
import { invalidField } from './sense-data';

export interface SupportedCommand {
  opcode: number;
  serviceAction?: number;
  usage: readonly number[];
}

const ff = (n: number) => new Array<number>(n).fill(0xff);
const rw6 = (op: number) => [op, 0x1f, 0xff, 0xff, 0xff, 0x00];
const rw10 = (op: number, b1: number) => [op, b1, ...ff(4), 0x1f, 0xff, 0xff, 0x00];
const rw12 = (op: number, b1: number) => [op, b1, ...ff(4), ...ff(4), 0x1f, 0x00];
const rw16 = (op: number, b1: number) => [op, b1, ...ff(8), ...ff(4), 0x1f, 0x00];
const DPO_FUA = 0x18, DPO_BYTCHK = 0x16, BYTCHK = 0x12;

export const SUPPORTED_COMMANDS: readonly SupportedCommand[] = [
  { opcode: ScsiOp.TEST_UNIT_READY, usage: [0x00, 0, 0, 0, 0, 0] },
  { opcode: ScsiOp.REQUEST_SENSE, usage: [0x03, 0x01, 0, 0, 0xff, 0] },
  { opcode: ScsiOp.READ_6, usage: rw6(ScsiOp.READ_6) },
  { opcode: ScsiOp.WRITE_6, usage: rw6(ScsiOp.WRITE_6) },
  { opcode: ScsiOp.INQUIRY, usage: [0x12, 0x01, 0xff, 0xff, 0xff, 0] },
  { opcode: ScsiOp.MODE_SENSE_6, usage: [0x1a, 0x08, 0xff, 0xff, 0xff, 0] },
  { opcode: ScsiOp.START_STOP_UNIT, usage: [0x1b, 0x01, 0, 0x0f, 0xf7, 0] },
  { opcode: ScsiOp.PREVENT_ALLOW_MEDIUM_REMOVAL, usage: [0x1e, 0, 0, 0, 0x03, 0] },
  { opcode: ScsiOp.READ_CAPACITY_10, usage: [0x25, 0, ...ff(4), 0, 0, 0x01, 0] },
  { opcode: ScsiOp.READ_10, usage: rw10(ScsiOp.READ_10, DPO_FUA) },
  { opcode: ScsiOp.WRITE_10, usage: rw10(ScsiOp.WRITE_10, DPO_FUA) },
  { opcode: ScsiOp.WRITE_AND_VERIFY_10, usage: rw10(ScsiOp.WRITE_AND_VERIFY_10, BYTCHK) },
  { opcode: ScsiOp.VERIFY_10, usage: rw10(ScsiOp.VERIFY_10, DPO_BYTCHK) },
  { opcode: ScsiOp.SYNCHRONIZE_CACHE_10, usage: rw10(ScsiOp.SYNCHRONIZE_CACHE_10, 0x02) },
  { opcode: SbcOp.PRE_FETCH_10, usage: rw10(SbcOp.PRE_FETCH_10, 0x02) },
  { opcode: SbcOp.READ_DEFECT_DATA_10, usage: [0x37, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0] },
  { opcode: ScsiOp.WRITE_SAME_10, usage: rw10(ScsiOp.WRITE_SAME_10, 0x08) },
  { opcode: ScsiOp.UNMAP, usage: [0x42, 0, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0] },
  { opcode: ScsiOp.MODE_SENSE_10, usage: [0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0] },
  { opcode: ScsiOp.READ_16, usage: rw16(ScsiOp.READ_16, DPO_FUA) },
  { opcode: SbcOp.COMPARE_AND_WRITE, usage: [0x89, 0x1a, ...ff(8), 0, 0, 0, 0xff, 0x1f, 0] },
  { opcode: SbcOp.ORWRITE_16, usage: rw16(SbcOp.ORWRITE_16, DPO_FUA) },
  { opcode: ScsiOp.WRITE_16, usage: rw16(ScsiOp.WRITE_16, DPO_FUA) },
  { opcode: ScsiOp.WRITE_AND_VERIFY_16, usage: rw16(ScsiOp.WRITE_AND_VERIFY_16, BYTCHK) },
  { opcode: ScsiOp.VERIFY_16, usage: rw16(ScsiOp.VERIFY_16, DPO_BYTCHK) },
  { opcode: ScsiOp.SYNCHRONIZE_CACHE_16, usage: rw16(ScsiOp.SYNCHRONIZE_CACHE_16, 0x02) },
  { opcode: SbcOp.PRE_FETCH_16, usage: rw16(SbcOp.PRE_FETCH_16, 0x02) },
  { opcode: ScsiOp.WRITE_SAME_16, usage: rw16(ScsiOp.WRITE_SAME_16, 0x09) },
  {
    opcode: ScsiOp.SERVICE_ACTION_IN_16, serviceAction: ServiceActionIn.READ_CAPACITY_16,
    usage: [0x9e, 0x10, ...new Array<number>(8).fill(0), ...ff(4), 0, 0],
  },
  {
    opcode: ScsiOp.SERVICE_ACTION_IN_16, serviceAction: SbcServiceActionIn.GET_LBA_STATUS,
    usage: [0x9e, 0x12, ...ff(8), ...ff(4), 0, 0],
  },
  { opcode: ScsiOp.REPORT_LUNS, usage: [0xa0, 0, 0xff, 0, 0, 0, ...ff(4), 0, 0] },
  {
    opcode: ScsiOp.MAINTENANCE_IN, serviceAction: MaintenanceIn.REPORT_TARGET_PORT_GROUPS,
    usage: [0xa3, 0x2a, 0, 0, 0, 0, ...ff(4), 0, 0],
  },
  {
    opcode: ScsiOp.MAINTENANCE_IN, serviceAction: MaintenanceIn.REPORT_SUPPORTED_OPERATION_CODES,
    usage: [0xa3, 0x0c, 0x87, 0xff, 0xff, 0xff, ...ff(4), 0, 0],
  },
  { opcode: ScsiOp.READ_12, usage: rw12(ScsiOp.READ_12, DPO_FUA) },
  { opcode: SbcOp.READ_DEFECT_DATA_12, usage: [0xb7, 0x1f, 0, 0, 0, 0, ...ff(4), 0, 0] },
  { opcode: ScsiOp.WRITE_12, usage: rw12(ScsiOp.WRITE_12, DPO_FUA) },
  { opcode: ScsiOp.WRITE_AND_VERIFY_12, usage: rw12(ScsiOp.WRITE_AND_VERIFY_12, BYTCHK) },
  { opcode: ScsiOp.VERIFY_12, usage: rw12(ScsiOp.VERIFY_12, DPO_BYTCHK) },
];

const hasServiceActions = (opcode: number) => SUPPORTED_COMMANDS.some((c) => c.opcode === opcode && c.serviceAction !== undefined);

// Command timeouts descriptor (returned with RCTD): nominal and recommended timeouts in seconds.
function timeouts(): Buffer {
  const t = Buffer.alloc(12);
  t.writeUInt16BE(0x0a, 0);
  t.writeUInt32BE(1, 4);
  t.writeUInt32BE(30, 8);
  return t;
}

/** The response to REPORT SUPPORTED OPERATION CODES for `cdb`. */
export function reportSupportedOpcodesData(cdb: Buffer): Buffer {
  const rctd = (cdb[2] & 0x80) !== 0;
  const options = cdb[2] & 0x07;
  const opcode = cdb[3];
  const sa = cdb.readUInt16BE(4);
  const allocationLength = cdb.readUInt32BE(6);
  let out: Buffer;
  if (options === 0) {
    const parts = SUPPORTED_COMMANDS.map((c) => {
      const d = Buffer.alloc(8);
      d[0] = c.opcode;
      d.writeUInt16BE(c.serviceAction ?? 0, 2);
      d[5] = (rctd ? 0x02 : 0) | (c.serviceAction !== undefined ? 0x01 : 0);
      d.writeUInt16BE(c.usage.length, 6);
      return rctd ? Buffer.concat([d, timeouts()]) : d;
    });
    const body = Buffer.concat(parts);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    out = Buffer.concat([header, body]);
  } else if (options <= 3) {
    const withSa = hasServiceActions(opcode);
    if (options === 1 && withSa) throw invalidField(3);
    if (options === 2 && !withSa && SUPPORTED_COMMANDS.some((c) => c.opcode === opcode)) throw invalidField(2, 0);
    const command = SUPPORTED_COMMANDS.find((c) => c.opcode === opcode && (withSa && options !== 1 ? c.serviceAction === sa : true));
    const head = Buffer.alloc(4);
    if (!command) {
      head[1] = 0x01;                                // SUPPORT 001b: not supported
      out = head;
    } else {
      head[1] = (rctd ? 0x80 : 0) | 0x03;            // SUPPORT 011b: supported as the standard says
      head.writeUInt16BE(command.usage.length, 2);
      out = Buffer.concat([head, Buffer.from(command.usage), ...(rctd ? [timeouts()] : [])]);
    }
  } else {
    throw invalidField(2, 2);
  }
  return out.subarray(0, allocationLength);
}
