// REPORT TARGET PORT GROUPS parameter data (SPC-4 §6.36) from the target's port group configuration.
import { invalidField } from './sense-data';
import type { TargetPortGroupConfig } from './types';

// We let the target move between A/O, A/NO, standby, unavailable and transitioning (implicit ALUA).
const SUPPORTED_STATES = 0x80 | 0x08 | 0x04 | 0x02 | 0x01;

export function reportTargetPortGroupsData(cdb: Buffer, groups: readonly TargetPortGroupConfig[], implicitTransitionTime = 0): Buffer {
  const format = cdb[1] >> 5;
  if (format > 1) throw invalidField(1, 7);
  const allocationLength = cdb.readUInt32BE(6);
  const headerLength = format === 1 ? 8 : 4;
  const size = headerLength + groups.reduce((n, g) => n + 8 + 4 * g.relativeTargetPorts.length, 0);
  const d = Buffer.alloc(size);
  d.writeUInt32BE(size - 4, 0);
  if (format === 1) {
    d[4] = 0x10;
    d[5] = implicitTransitionTime;
  }
  let off = headerLength;
  for (const g of groups) {
    d[off] = (g.preferred ? 0x80 : 0) | (g.state & 0x0f);
    d[off + 1] = SUPPORTED_STATES;
    d.writeUInt16BE(g.id, off + 2);
    d[off + 5] = g.statusCode ?? 0;
    d[off + 7] = g.relativeTargetPorts.length;
    off += 8;
    for (const port of g.relativeTargetPorts) {
      d.writeUInt16BE(port, off + 2);
      off += 4;
    }
  }
  return d.subarray(0, allocationLength);
}
