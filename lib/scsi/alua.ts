// REPORT TARGET PORT GROUPS parameter data (SPC-4 §6.36; protocol.md §7): ALUA states per target port group.
import { ScsiParseError, requireLength } from './errors';

export type AluaState =
  | 'active/optimized' | 'active/non-optimized' | 'standby' | 'unavailable' | 'lba-dependent' | 'offline'
  | 'transitioning' | 'reserved';

/** Asymmetric access state codes. */
export const AluaStateCode = {
  ACTIVE_OPTIMIZED: 0x0, ACTIVE_NON_OPTIMIZED: 0x1, STANDBY: 0x2, UNAVAILABLE: 0x3, LBA_DEPENDENT: 0x4,
  OFFLINE: 0xe, TRANSITIONING: 0xf,
} as const;

const STATE_NAMES: Record<number, AluaState> = {
  0x0: 'active/optimized', 0x1: 'active/non-optimized', 0x2: 'standby', 0x3: 'unavailable',
  0x4: 'lba-dependent', 0xe: 'offline', 0xf: 'transitioning',
};

export function aluaStateName(code: number): AluaState {
  return STATE_NAMES[code & 0x0f] ?? 'reserved';
}

export interface TargetPortGroupDescriptor {
  id: number;
  state: AluaState;
  stateCode: number;
  preferred: boolean;
  supportedStates: AluaState[];
  /** 0 none, 1 changed by SET TARGET PORT GROUPS, 2 changed implicitly. */
  statusCode: number;
  relativeTargetPorts: number[];
}

export interface ReportTargetPortGroups {
  groups: TargetPortGroupDescriptor[];
  /** The allocation length that returns everything; larger than what was asked = ask again (protocol.md §7). */
  requiredLength: number;
  /** Extended header only: implicit transition time in seconds. */
  implicitTransitionTime?: number;
}

// Supported-state bits in descriptor byte 1, highest first.
const SUPPORT_BITS: Array<[number, AluaState]> = [
  [0x80, 'transitioning'], [0x40, 'offline'], [0x10, 'lba-dependent'], [0x08, 'unavailable'], [0x04, 'standby'],
  [0x02, 'active/non-optimized'], [0x01, 'active/optimized'],
];

export function parseReportTargetPortGroups(data: Buffer): ReportTargetPortGroups {
  requireLength(data, 4, 'REPORT TARGET PORT GROUPS data');
  const returnLength = data.readUInt32BE(0);
  const extended = data.length >= 8 && ((data[4] >> 4) & 0x07) === 1;
  const headerLength = extended ? 8 : 4;
  const end = Math.min(data.length, 4 + returnLength);
  const groups: TargetPortGroupDescriptor[] = [];
  for (let off = headerLength; off + 8 <= end;) {
    const count = data[off + 7];
    const descriptorEnd = off + 8 + count * 4;
    if (descriptorEnd > end) {
      if (end < 4 + returnLength) break; // truncated by the allocation length: the caller will ask again
      throw new ScsiParseError(`target port group descriptor at ${off} overruns the returned data`);
    }
    const ports: number[] = [];
    for (let p = off + 8; p < descriptorEnd; p += 4) ports.push(data.readUInt16BE(p + 2));
    groups.push({
      id: data.readUInt16BE(off + 2),
      state: aluaStateName(data[off]),
      stateCode: data[off] & 0x0f,
      preferred: (data[off] & 0x80) !== 0,
      supportedStates: SUPPORT_BITS.filter(([bit]) => (data[off + 1] & bit) !== 0).map(([, s]) => s),
      statusCode: data[off + 5],
      relativeTargetPorts: ports,
    });
    off = descriptorEnd;
  }
  const result: ReportTargetPortGroups = { groups, requiredLength: 4 + returnLength };
  if (extended) result.implicitTransitionTime = data[5];
  return result;
}
