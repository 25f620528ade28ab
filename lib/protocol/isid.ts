// ISIDs (RFC 7143 §11.12.5, §4.4.3): one per path, stable across reconnects of that path.
//
// Format: T=10b "Random". RFC 7143 asks vendors that own an OUI or an IANA Enterprise Number to use it; this
// project owns neither, and borrowing someone else's number (e.g. Microsoft's EN 311) would impersonate that
// vendor. Instead of random bits we use a hash of the path key: distinct paths get distinct ISIDs (40 bits,
// collision odds ~n²/2^41), and the same path gets the same ISID every time, so after a failure the target sees
// <InitiatorName, ISID, TargetName, TPGT> again and reinstates (cleans up) the stale session at once (§6.3.5)
// instead of holding it until it times out.
import { createHash } from 'node:crypto';

export const ISID_LENGTH = 6;

/** What identifies a path. Use the portal originally asked (the group portal), not a redirected one. */
export interface IsidPathKey {
  initiatorName: string;
  targetName?: string;
  /** `address:port` of the portal the path logs in to first. */
  portal: string;
  /** Local source address the path binds to. */
  sourceAddress?: string;
  /** Network device the path binds to. */
  device?: string;
  /**
   * A value recorded with a persistent node (lib/service/node-records.ts), so two nodes over the same paths to one
   * target keep distinct ISIDs whichever starts first. Unset for ad-hoc sessions (their ISIDs stay as before).
   */
  seed?: string;
}

/**
 * The ISID of a path. `salt` resolves the (improbable) case of two of one initiator's paths hashing alike:
 * bump it deterministically for the later path so the choice stays stable.
 */
export function deriveIsid(key: IsidPathKey, salt = 0): Buffer {
  const fields = [key.initiatorName, key.targetName ?? '', key.portal, key.sourceAddress ?? '', key.device ?? '', salt];
  const material = JSON.stringify(key.seed === undefined ? fields : [...fields, key.seed]);
  const hash = createHash('sha256').update(material).digest();
  const isid = Buffer.alloc(ISID_LENGTH);
  isid[0] = 0x80; // T = 10b (Random), A = 0 (reserved)
  hash.copy(isid, 1, 0, 5); // B+C: 24 "random" bits, D: 16-bit qualifier
  return isid;
}

export type IsidFormat = 'oui' | 'enterprise-number' | 'random' | 'reserved';

/** The T field of an ISID, for display. */
export function isidFormat(isid: Buffer): IsidFormat {
  checkIsid(isid);
  return (['oui', 'enterprise-number', 'random', 'reserved'] as const)[isid[0] >> 6];
}

/** 12 hex digits, the form `iscsiadm` and Get-IscsiSession print. */
export function formatIsid(isid: Buffer): string {
  checkIsid(isid);
  return isid.toString('hex');
}

export function parseIsid(text: string): Buffer {
  const hex = text.replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new RangeError(`ISID "${text}" is not 12 hex digits`);
  return Buffer.from(hex, 'hex');
}

function checkIsid(isid: Buffer): void {
  if (isid.length !== ISID_LENGTH) throw new RangeError(`ISID must be ${ISID_LENGTH} bytes, got ${isid.length}`);
}
