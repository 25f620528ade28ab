// VPD page 0x83 device identification (SPC-4 §7.8.6) and the choice of one LU identity per device, ranked and
// spelled as the WWID `multipath -ll` shows: multipath-tools takes udev's ID_SERIAL by default (uid_attribute),
// which scsi_id builds from page 0x83 in the order NAA (IEEE Registered Extended, IEEE Registered, then any other
// in page order), EUI-64, T10 vendor ID; we add the SCSI name string after those, then the page 0x80 serial.
import { ScsiParseError } from './errors';
import { VpdPage } from './opcodes';
import { vpdPayload } from './vpd';

export type DesignatorAssociation = 'logicalUnit' | 'targetPort' | 'targetDevice' | 'reserved';
export type CodeSet = 'binary' | 'ascii' | 'utf8' | 'reserved';
export type DesignatorType =
  | 'vendorSpecific' | 't10VendorId' | 'eui64' | 'naa' | 'relativeTargetPort' | 'targetPortGroup'
  | 'logicalUnitGroup' | 'md5LogicalUnitId' | 'scsiName' | 'protocolSpecificPortId' | 'uuid' | 'reserved';

const TYPE_NAMES: DesignatorType[] = [
  'vendorSpecific', 't10VendorId', 'eui64', 'naa', 'relativeTargetPort', 'targetPortGroup', 'logicalUnitGroup',
  'md5LogicalUnitId', 'scsiName', 'protocolSpecificPortId', 'uuid',
];
const ASSOCIATIONS: DesignatorAssociation[] = ['logicalUnit', 'targetPort', 'targetDevice', 'reserved'];
const CODE_SETS: Record<number, CodeSet> = { 1: 'binary', 2: 'ascii', 3: 'utf8' };

/** Protocol identifiers (SPC-4 §7.6.1) that matter here. */
export const ProtocolId = { FCP: 0x0, SAS: 0x6, ISCSI: 0x5 } as const;

export interface Designator {
  type: DesignatorType;
  typeCode: number;
  codeSet: CodeSet;
  association: DesignatorAssociation;
  /** Only when PIV is set and the association is a port or target device. */
  protocolIdentifier?: number;
  /** The designator bytes as lowercase hex. */
  hex: string;
  /** Readable value: the string for ASCII/UTF-8 designators, the hex otherwise. */
  value: string;
  /** The NAA field (2, 3, 5, 6) of an NAA designator. */
  naa?: number;
  /** Relative target port identifier (type 4) or target port group (type 5) as a number. */
  number?: number;
  raw: Buffer;
}

export function parseDeviceIdentification(data: Buffer): Designator[] {
  const payload = vpdPayload(data, VpdPage.DEVICE_IDENTIFICATION);
  const out: Designator[] = [];
  for (let off = 0; off + 4 <= payload.length;) {
    const len = payload[off + 3];
    if (off + 4 + len > payload.length) {
      throw new ScsiParseError(`VPD 0x83 designator at offset ${off + 4} overruns the page (${len} bytes)`);
    }
    out.push(decodeDesignator(payload.subarray(off, off + 4 + len)));
    off += 4 + len;
  }
  return out;
}

function decodeDesignator(d: Buffer): Designator {
  const raw = Buffer.from(d.subarray(4));
  const typeCode = d[1] & 0x0f;
  const codeSet = CODE_SETS[d[0] & 0x0f] ?? 'reserved';
  const association = ASSOCIATIONS[(d[1] >> 4) & 0x03];
  const piv = (d[1] & 0x80) !== 0;
  const hex = raw.toString('hex');
  const text = codeSet === 'ascii' || codeSet === 'utf8';
  const designator: Designator = {
    type: TYPE_NAMES[typeCode] ?? 'reserved', typeCode, codeSet, association,
    hex, value: text ? raw.toString(codeSet === 'utf8' ? 'utf8' : 'latin1').replace(/\0+$/, '').trimEnd() : hex,
    raw,
  };
  if (piv && association !== 'logicalUnit') designator.protocolIdentifier = d[0] >> 4;
  if (typeCode === 3 && raw.length > 0) designator.naa = raw[0] >> 4;
  if ((typeCode === 4 || typeCode === 5) && raw.length >= 4) designator.number = raw.readUInt16BE(2);
  return designator;
}

export type LuIdentitySource = 'naa6' | 'naa5' | 'naa2' | 'eui64' | 'scsiName' | 't10VendorId' | 'naa3' | 'serial';

export interface LuIdentity {
  /**
   * The WWID in the form udev/multipath-tools print: "3" + hex for NAA, "2" + hex for EUI-64, "1" + text for T10
   * vendor ids (whitespace runs as '_'), "8" + name for SCSI name strings, or the bare serial as the last resort.
   */
  id: string;
  source: LuIdentitySource;
  designator?: Designator;
}

/** Higher wins; equal scores go to the designator listed first (scsi_id's "any other NAA, in page order"). */
function rank(d: Designator): { score: number; source: LuIdentitySource } | undefined {
  if (d.association !== 'logicalUnit') return undefined;
  switch (d.type) {
    case 'naa':
      if (d.naa === 6 && d.raw.length === 16) return { score: 7, source: 'naa6' };
      if (d.naa === 5 && d.raw.length === 8) return { score: 6, source: 'naa5' };
      if (d.naa === 2 && d.raw.length === 8) return { score: 5, source: 'naa2' };
      if (d.naa === 3 && d.raw.length === 8) return { score: 5, source: 'naa3' };
      return undefined;
    case 'eui64':
      return [8, 12, 16].includes(d.raw.length) ? { score: 4, source: 'eui64' } : undefined;
    case 't10VendorId':
      return d.raw.length >= 8 ? { score: 3, source: 't10VendorId' } : undefined;
    case 'scsiName':
      return /^(eui\.|naa\.|iqn\.)/i.test(d.value) ? { score: 2, source: 'scsiName' } : undefined;
    default:
      return undefined;
  }
}

/**
 * udev's ID_SERIAL spelling of text (scsi_id --export): outer whitespace dropped, each inner run of it one '_',
 * and every other character outside udev's safe set (ASCII letters, digits, `#+-.:=@_`, non-ASCII) a '_'.
 */
function udevSafe(text: string): string {
  return text.trim().replace(/\s+/g, '_').replace(/[^0-9A-Za-z#+\-.:=@_\u0080-\uffff]/g, '_');
}

/** scsi_id's form: the designator type as one hex digit, then the bytes in hex (binary) or the text (ASCII). */
function wwid(d: Designator, source: LuIdentitySource): string {
  switch (source) {
    case 'eui64': return `2${d.hex}`;
    case 'scsiName': return `8${udevSafe(d.value)}`;
    case 't10VendorId': return `1${udevSafe(d.value)}`;
    default: return `3${d.hex}`;
  }
}

/** Picks the LU identity from page 0x83 designators, falling back to the page 0x80 serial number. */
export function chooseLuIdentity(designators: readonly Designator[], serial?: string): LuIdentity | undefined {
  let best: { score: number; source: LuIdentitySource; d: Designator } | undefined;
  for (const d of designators) {
    const r = rank(d);
    if (r && (!best || r.score > best.score)) best = { ...r, d };
  }
  if (best) return { id: wwid(best.d, best.source), source: best.source, designator: best.d };
  if (serial && serial.trim() !== '') return { id: serial.trim(), source: 'serial' };
  return undefined;
}

/** The relative target port and target port group this I_T nexus uses (association = target port). */
export function targetPortOf(designators: readonly Designator[]): { relativeTargetPort?: number; targetPortGroup?: number } {
  const port = designators.find((d) => d.association === 'targetPort' && d.type === 'relativeTargetPort');
  const group = designators.find((d) => d.association === 'targetPort' && d.type === 'targetPortGroup');
  return { relativeTargetPort: port?.number, targetPortGroup: group?.number };
}
