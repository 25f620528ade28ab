// Vital product data pages of the emulated disk (SPC-4 §7.8, SBC-3 §6.5).
import { ProtocolId } from '../../scsi/designators';
import { VpdPage } from '../../scsi/opcodes';
import type { LogicalUnitIdentity } from './identity';
import type { PortIdentity } from './types';

export const SUPPORTED_VPD_PAGES = [
  VpdPage.SUPPORTED_PAGES, VpdPage.UNIT_SERIAL_NUMBER, VpdPage.DEVICE_IDENTIFICATION, VpdPage.BLOCK_LIMITS,
  VpdPage.BLOCK_DEVICE_CHARACTERISTICS, VpdPage.LOGICAL_BLOCK_PROVISIONING,
];

/** Limits the LU advertises in page 0xB0 and enforces. */
export interface BlockLimitsConfig {
  maximumTransferLength: number;
  optimalTransferLength: number;
  maximumUnmapLbaCount: number;
  maximumUnmapDescriptors: number;
  maximumWriteSameLength: number;
  /** Blocks one COMPARE AND WRITE may cover (1..255; the CDB field is one byte). */
  maximumCompareAndWriteLength: number;
}

function page(code: number, payload: Buffer): Buffer {
  const d = Buffer.alloc(4 + payload.length);
  d[1] = code;
  d.writeUInt16BE(payload.length, 2);
  payload.copy(d, 4);
  return d;
}

export function supportedPagesPage(): Buffer {
  return page(VpdPage.SUPPORTED_PAGES, Buffer.from(SUPPORTED_VPD_PAGES));
}

export function unitSerialNumberPage(identity: LogicalUnitIdentity): Buffer {
  return page(VpdPage.UNIT_SERIAL_NUMBER, Buffer.from(identity.serial, 'latin1'));
}

// Designator header: protocol id | code set, PIV | association | type, reserved, length.
function designator(codeSet: number, association: number, type: number, value: Buffer, iscsi = false): Buffer {
  const d = Buffer.alloc(4 + value.length);
  d[0] = (iscsi ? ProtocolId.ISCSI << 4 : 0) | codeSet;
  d[1] = (iscsi ? 0x80 : 0) | (association << 4) | type;
  d[3] = value.length;
  value.copy(d, 4);
  return d;
}

/** SCSI name strings are NUL terminated and padded to a multiple of 4 bytes. */
function scsiName(name: string): Buffer {
  const text = Buffer.from(name, 'utf8');
  const b = Buffer.alloc((text.length + 4) & ~3);
  text.copy(b);
  return b;
}

function u16Field(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(value, 2);
  return b;
}

/**
 * Device identification: the LU's NAA-6 and T10 vendor id (the same on every port), then, for the port the
 * command came through, relative target port, target port group and the port's and target's SCSI names.
 */
export function deviceIdentificationPage(identity: LogicalUnitIdentity, port?: PortIdentity): Buffer {
  const binary = 1, ascii = 2, utf8 = 3;
  const lu = 0, targetPort = 1, targetDevice = 2;
  const parts = [
    designator(binary, lu, 3, identity.naa),
    designator(ascii, lu, 1, Buffer.from(identity.vendor.padEnd(8) + identity.serial, 'latin1')),
  ];
  if (port) {
    parts.push(designator(binary, targetPort, 4, u16Field(port.relativeTargetPortId), true));
    parts.push(designator(binary, targetPort, 5, u16Field(port.targetPortGroupId)));
    if (port.targetPortName) parts.push(designator(utf8, targetPort, 8, scsiName(port.targetPortName), true));
    if (port.targetName) parts.push(designator(utf8, targetDevice, 8, scsiName(port.targetName), true));
  }
  return page(VpdPage.DEVICE_IDENTIFICATION, Buffer.concat(parts));
}

export function blockLimitsPage(limits: BlockLimitsConfig): Buffer {
  const p = Buffer.alloc(0x3c);
  p[0] = 0;                                          // WSNZ = 0: WRITE SAME of 0 blocks means "to the end"
  p[1] = limits.maximumCompareAndWriteLength;
  p.writeUInt16BE(1, 2);                             // optimal transfer length granularity
  p.writeUInt32BE(limits.maximumTransferLength, 4);
  p.writeUInt32BE(limits.optimalTransferLength, 8);
  p.writeUInt32BE(limits.maximumUnmapLbaCount, 16);
  p.writeUInt32BE(limits.maximumUnmapDescriptors, 20);
  p.writeUInt32BE(1, 24);                            // optimal unmap granularity
  p.writeBigUInt64BE(BigInt(limits.maximumWriteSameLength), 32);
  return page(VpdPage.BLOCK_LIMITS, p);
}

export function blockDeviceCharacteristicsPage(): Buffer {
  const p = Buffer.alloc(0x3c);
  p.writeUInt16BE(1, 0);                             // non-rotating medium
  return page(VpdPage.BLOCK_DEVICE_CHARACTERISTICS, p);
}

export function logicalBlockProvisioningPage(): Buffer {
  const p = Buffer.alloc(4);
  p[1] = 0x80 | 0x40 | 0x20 | 0x04;                  // LBPU, LBPWS, LBPWS10, LBPRZ (unmapped blocks read zero)
  p[2] = 0x02;                                       // thin provisioned
  return page(VpdPage.LOGICAL_BLOCK_PROVISIONING, p);
}
