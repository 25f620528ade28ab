// Which LU a path reaches (protocol.md §0 item 8, §4.3): the VPD 0x83 designator multipath-tools would pick, else
// the VPD 0x80 serial. Paths are grouped into one device only when these match.
import type { DeviceIdentity } from '../session/lun-device';
import { PathIdentityError } from './errors';

/** Throws PathIdentityError unless every path reports the same LU identity (or, with one path, any). */
export function requireSameLu(identities: ReadonlyArray<{ pathId: number; identity: DeviceIdentity }>): string | undefined {
  const [first, ...rest] = identities;
  const expected = first?.identity.identity?.id;
  if (rest.length > 0 && expected === undefined) {
    throw new PathIdentityError(first.pathId, undefined, undefined);
  }
  for (const { pathId, identity } of rest) {
    const found = identity.identity?.id;
    if (found !== expected) throw new PathIdentityError(pathId, expected, found);
  }
  return expected;
}
