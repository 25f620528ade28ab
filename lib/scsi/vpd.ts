// Vital product data pages other than 0x83 (SPC-4 §7.8, SBC-3 §6.5): header check, 0x00, 0x80, 0xB0, 0xB1, 0xB2.
import { ScsiParseError, requireLength } from './errors';
import { asciiField } from './inquiry';
import { VpdPage } from './opcodes';

/** Checks the 4-byte VPD header and returns the page payload (bounded by PAGE LENGTH and by what arrived). */
export function vpdPayload(data: Buffer, expectedPage: number): Buffer {
  requireLength(data, 4, `VPD page 0x${expectedPage.toString(16)}`);
  if (data[1] !== expectedPage) {
    throw new ScsiParseError(`expected VPD page 0x${expectedPage.toString(16)}, got 0x${data[1].toString(16)}`);
  }
  return data.subarray(4, Math.min(data.length, 4 + data.readUInt16BE(2)));
}

/** Page 0x00: the VPD page codes the device supports. */
export function parseSupportedVpdPages(data: Buffer): number[] {
  return [...vpdPayload(data, VpdPage.SUPPORTED_PAGES)];
}

/** Page 0x80: the unit serial number, padding trimmed. */
export function parseUnitSerialNumber(data: Buffer): string {
  const payload = vpdPayload(data, VpdPage.UNIT_SERIAL_NUMBER);
  return asciiField(payload, 0, payload.length).replace(/^\s+/, '');
}

export interface BlockLimits {
  writeSameNonZero: boolean;
  maximumCompareAndWriteLength: number;
  optimalTransferLengthGranularity: number;
  /** In blocks; 0 = not reported. */
  maximumTransferLength: number;
  optimalTransferLength: number;
  maximumPrefetchLength: number;
  maximumUnmapLbaCount: number;
  maximumUnmapBlockDescriptorCount: number;
  optimalUnmapGranularity: number;
  unmapGranularityAlignment?: number;
  maximumWriteSameLength: bigint;
}

/** Page 0xB0 block limits; fields beyond what the device returned read as 0. */
export function parseBlockLimits(data: Buffer): BlockLimits {
  const p = vpdPayload(data, VpdPage.BLOCK_LIMITS);
  const page = Buffer.alloc(60);
  p.copy(page, 0);
  const alignment = page.readUInt32BE(28);
  return {
    writeSameNonZero: (page[0] & 0x01) !== 0,
    maximumCompareAndWriteLength: page[1],
    optimalTransferLengthGranularity: page.readUInt16BE(2),
    maximumTransferLength: page.readUInt32BE(4),
    optimalTransferLength: page.readUInt32BE(8),
    maximumPrefetchLength: page.readUInt32BE(12),
    maximumUnmapLbaCount: page.readUInt32BE(16),
    maximumUnmapBlockDescriptorCount: page.readUInt32BE(20),
    optimalUnmapGranularity: page.readUInt32BE(24),
    unmapGranularityAlignment: (alignment & 0x80000000) !== 0 ? alignment & 0x7fffffff : undefined,
    maximumWriteSameLength: page.readBigUInt64BE(32),
  };
}

export interface BlockDeviceCharacteristics {
  /** 0 = not reported, 1 = non-rotating (solid state), otherwise RPM. */
  mediumRotationRate: number;
  nominalFormFactor: number;
}

export function parseBlockDeviceCharacteristics(data: Buffer): BlockDeviceCharacteristics {
  const p = vpdPayload(data, VpdPage.BLOCK_DEVICE_CHARACTERISTICS);
  requireLength(p, 4, 'VPD page 0xB1 payload');
  return { mediumRotationRate: p.readUInt16BE(0), nominalFormFactor: p[3] & 0x0f };
}

export interface LogicalBlockProvisioning {
  unmapSupported: boolean;        // LBPU
  writeSame16Unmap: boolean;      // LBPWS
  writeSame10Unmap: boolean;      // LBPWS10
  unmappedReadsZero: boolean;     // LBPRZ
  provisioningType: 'full' | 'resource' | 'thin' | 'reserved';
}

export function parseLogicalBlockProvisioning(data: Buffer): LogicalBlockProvisioning {
  const p = vpdPayload(data, VpdPage.LOGICAL_BLOCK_PROVISIONING);
  requireLength(p, 3, 'VPD page 0xB2 payload');
  return {
    unmapSupported: (p[1] & 0x80) !== 0,
    writeSame16Unmap: (p[1] & 0x40) !== 0,
    writeSame10Unmap: (p[1] & 0x20) !== 0,
    unmappedReadsZero: (p[1] & 0x1c) !== 0,
    provisioningType: (['full', 'resource', 'thin'] as const)[p[2] & 0x07] ?? 'reserved',
  };
}
