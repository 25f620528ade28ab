// REPORT LUNS parameter data for the target's LUN inventory (SPC-4 §6.33).
import { encodeLunEntry } from '../../scsi/report-luns';
import { invalidField } from './sense-data';

/** Builds the response to a REPORT LUNS CDB from the LUNs the target exposes to this initiator. */
export function reportLunsData(cdb: Buffer, luns: readonly number[]): Buffer {
  const select = cdb[2];
  if (select > 0x02 && !(select >= 0x10 && select <= 0x12)) throw invalidField(2);
  const allocationLength = cdb.readUInt32BE(6);
  if (allocationLength < 16) throw invalidField(6);
  // Select 0x01 asks for well-known LUs only, and we have none.
  const list = select === 0x01 ? [] : [...luns].sort((a, b) => a - b);
  const d = Buffer.alloc(8 + 8 * list.length);
  d.writeUInt32BE(8 * list.length, 0);
  list.forEach((lun, i) => encodeLunEntry(lun).copy(d, 8 + 8 * i));
  return d.subarray(0, allocationLength);
}
