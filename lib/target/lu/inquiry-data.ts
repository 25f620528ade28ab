// Standard INQUIRY data of the emulated disk (SPC-4 §6.6.2).
import type { LogicalUnitIdentity } from './identity';

// SAM-5, SPC-4, SBC-3, iSCSI (no version claimed).
const VERSION_DESCRIPTORS = [0x00a0, 0x0460, 0x04c0, 0x0960];

export function standardInquiryData(identity: LogicalUnitIdentity, implicitAlua: boolean): Buffer {
  const d = Buffer.alloc(96, 0);
  d[0] = 0x00;                        // connected, direct-access block device
  d[2] = 0x06;                        // SPC-4
  d[3] = 0x12;                        // HISUP, response data format 2
  d[4] = d.length - 5;
  d[5] = implicitAlua ? 0x10 : 0;     // TPGS = 01b: the target changes ALUA states itself
  d[6] = 0x10;                        // MULTIP: reachable through several ports
  d[7] = 0x02;                        // CMDQUE
  d.write(identity.vendor.padEnd(8), 8, 'latin1');
  d.write(identity.product.padEnd(16), 16, 'latin1');
  d.write(identity.revision.padEnd(4), 32, 'latin1');
  VERSION_DESCRIPTORS.forEach((v, i) => d.writeUInt16BE(v, 58 + 2 * i));
  return d;
}

/** INQUIRY data for a LUN with no logical unit behind it: qualifier 3, type 0x1f. */
export function absentLuInquiryData(): Buffer {
  const d = Buffer.alloc(36, 0x20);
  d.fill(0, 0, 8);
  d[0] = 0x7f;
  d[2] = 0x06;
  d[3] = 0x12;
  d[4] = d.length - 5;
  return d;
}
