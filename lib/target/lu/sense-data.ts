// Building fixed-format sense data and CHECK CONDITION results (SPC-4 §4.5.3).
import { SenseKey } from '../../scsi/sense-codes';
import { ScsiStatus } from '../../scsi/status';
import type { ScsiResult } from './types';

export interface SenseOptions {
  /** INFORMATION field (e.g. the offset of the first miscompare). */
  information?: number;
  /** Sense-key-specific field pointer for ILLEGAL REQUEST: which byte (and bit) of the CDB/parameters is wrong. */
  fieldPointer?: { byte: number; bit?: number; inCdb?: boolean };
}

/** `ascPair` is asc << 8 | ascq (the Asc constants). */
export function fixedSense(senseKey: number, ascPair: number, options: SenseOptions = {}): Buffer {
  const s = Buffer.alloc(18);
  s[0] = 0x70;
  s[2] = senseKey & 0x0f;
  if (options.information !== undefined) {
    s[0] |= 0x80;
    s.writeUInt32BE(options.information >>> 0, 3);
  }
  s[7] = 10;
  s[12] = ascPair >> 8;
  s[13] = ascPair & 0xff;
  const fp = options.fieldPointer;
  if (fp) {
    s[15] = 0x80 | (fp.inCdb === false ? 0 : 0x40) | (fp.bit !== undefined ? 0x08 | (fp.bit & 0x07) : 0);
    s.writeUInt16BE(fp.byte, 16);
  }
  return s;
}

export function checkCondition(senseKey: number, ascPair: number, options?: SenseOptions): ScsiResult {
  return { status: ScsiStatus.CHECK_CONDITION, sense: fixedSense(senseKey, ascPair, options) };
}

/** Thrown inside command handlers to end the command with CHECK CONDITION; LogicalUnit.execute turns it into a result. */
export class CheckCondition extends Error {
  override name = 'CheckCondition';
  constructor(readonly senseKey: number, readonly ascPair: number, readonly options?: SenseOptions) {
    super(`CHECK CONDITION ${senseKey.toString(16)}/${ascPair.toString(16).padStart(4, '0')}`);
  }
  toResult(): ScsiResult { return checkCondition(this.senseKey, this.ascPair, this.options); }
}

/** ILLEGAL REQUEST, INVALID FIELD IN CDB pointing at `byte` (and `bit`). */
export function invalidField(byte: number, bit?: number): CheckCondition {
  return new CheckCondition(SenseKey.ILLEGAL_REQUEST, 0x2400, { fieldPointer: { byte, bit } });
}

export function good(data?: Buffer): ScsiResult {
  return data ? { status: ScsiStatus.GOOD, data } : { status: ScsiStatus.GOOD };
}
