// tgtd (Debian tgt) in the matrix: one daemon, both portals, one target per variant (CHAP accounts and digest
// settings are per target in tgtd).
import { Tgtd, type TgtdTarget } from '../tgtd';
import { INITIATOR_CHAP, LU_BYTES, TARGET_CHAP, VARIANTS, type InteropTarget, type TargetDriver, type Variant } from './interop-target';

const REQUIRE_DIGESTS = 'tgtd cannot require digests: set to HeaderDigest=CRC32C it still answers None to an initiator that offers only None';

const incoming = [{ user: INITIATOR_CHAP.user, password: INITIATOR_CHAP.secret }];

function target(variant: Variant): TgtdTarget | undefined {
  const t: TgtdTarget = { name: `iqn.2024-01.test.tgtd:${variant}`, luns: [{ sizeBytes: LU_BYTES }] };
  switch (variant) {
    case 'plain': return t;
    case 'chap': return { ...t, incoming };
    case 'mutual': return { ...t, incoming, outgoing: { user: TARGET_CHAP.user, password: TARGET_CHAP.secret } };
    case 'digests-required': return undefined;
    // Set to None, tgtd answers None to any offer: digests refused.
    case 'digests-refused': return { ...t, params: { HeaderDigest: 'None', DataDigest: 'None' } };
  }
}

export const tgtdDriver: TargetDriver = {
  name: 'tgtd',
  tools: ['tgtd', 'tgtadm'],
  async start(net: string): Promise<InteropTarget> {
    const portals = [`${net}.1:3260`, `${net}.2:3260`];
    const tgtd = await Tgtd.start(portals, VARIANTS.map(target).filter((t): t is TgtdTarget => t !== undefined));
    return {
      iqn: (v) => `iqn.2024-01.test.tgtd:${v}`,
      portals: () => portals,
      lun: 1,
      unsupported: (v) => (v === 'digests-required' ? REQUIRE_DIGESTS : undefined),
      discoveryListsEveryPortal: false,
      stop: () => tgtd.stop(),
    };
  },
};
