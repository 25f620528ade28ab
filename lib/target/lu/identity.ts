// The identity of a logical unit, the same through every target port so initiators see one LU on many paths.
import { createHash, randomBytes } from 'node:crypto';

export interface LogicalUnitIdentityOptions {
  /** T10 vendor identification, up to 8 ASCII characters. */
  vendor?: string;
  /** Up to 16 ASCII characters. */
  product?: string;
  /** Up to 4 ASCII characters. */
  revision?: string;
  /** Unit serial number (VPD 0x80); random when left out. */
  serial?: string;
  /** IEEE company id (OUI, 24 bits) for the NAA-6 designator. */
  companyId?: number;
  /** 100-bit vendor specific identifier + extension of the NAA-6 designator; derived from the serial when left out. */
  vendorSpecificId?: bigint;
}

export interface LogicalUnitIdentity {
  vendor: string;
  product: string;
  revision: string;
  serial: string;
  /** The 16-byte NAA IEEE Registered Extended designator (VPD 0x83, association = logical unit). */
  naa: Buffer;
}

/** LIO's OUI, the usual choice of software targets; configure your own when it matters. */
export const DEFAULT_COMPANY_ID = 0x001405;

function asciiText(value: string, max: number, what: string): string {
  if (value.length > max || !/^[\x20-\x7e]*$/.test(value)) {
    throw new RangeError(`${what} must be at most ${max} printable ASCII characters, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function makeIdentity(options: LogicalUnitIdentityOptions = {}): LogicalUnitIdentity {
  const serial = options.serial ?? randomBytes(8).toString('hex');
  asciiText(serial, 252, 'serial number');
  if (serial.length === 0) throw new RangeError('serial number must not be empty');
  const companyId = options.companyId ?? DEFAULT_COMPANY_ID;
  if (!Number.isInteger(companyId) || companyId < 0 || companyId > 0xffffff) {
    throw new RangeError(`company id must be a 24-bit integer, got ${companyId}`);
  }
  const vsid = options.vendorSpecificId ?? BigInt(`0x${createHash('sha256').update(serial).digest('hex').slice(0, 25)}`);
  if (vsid < 0n || vsid >= 1n << 100n) throw new RangeError('vendor specific id must fit 100 bits');
  const value = (6n << 124n) | (BigInt(companyId) << 100n) | vsid;
  const naa = Buffer.alloc(16);
  naa.writeBigUInt64BE(value >> 64n, 0);
  naa.writeBigUInt64BE(value & 0xffffffffffffffffn, 8);
  return {
    vendor: asciiText(options.vendor ?? 'ISCSIMPI', 8, 'vendor'),
    product: asciiText(options.product ?? 'VIRTUAL-DISK', 16, 'product'),
    revision: asciiText(options.revision ?? '0001', 4, 'revision'),
    serial,
    naa,
  };
}
