// istgt (Debian istgt) in the matrix: one daemon, one portal group of both portals, one target per variant.
import { Istgt, type IstgtTarget } from '../istgt';
import { INITIATOR_CHAP, LU_BYTES, TARGET_CHAP, VARIANTS, type InteropTarget, type TargetDriver, type Variant } from './interop-target';

const REFUSE_DIGESTS = 'istgt cannot refuse digests: UseDigest takes Header, Data or Auto, and Auto accepts CRC32C whenever the initiator offers it';

function target(variant: Variant): IstgtTarget | undefined {
  const t: IstgtTarget = { name: variant, sizeBytes: LU_BYTES };
  switch (variant) {
    case 'plain': return t;
    case 'chap': return { ...t, chap: INITIATOR_CHAP };
    case 'mutual': return { ...t, chap: INITIATOR_CHAP, mutual: TARGET_CHAP };
    case 'digests-required': return { ...t, useDigest: 'Header Data' };
    case 'digests-refused': return undefined;
  }
}

export const istgtDriver: TargetDriver = {
  name: 'istgt',
  tools: ['istgt'],
  async start(net: string): Promise<InteropTarget> {
    const portals = [`${net}.1:3260`, `${net}.2:3260`];
    const istgt = await Istgt.start(portals, VARIANTS.map(target).filter((t): t is IstgtTarget => t !== undefined));
    return {
      iqn: (v) => Istgt.iqn(v),
      portals: () => portals,
      // istgt numbers its LUNs from 0 (no controller LUN as tgtd has).
      lun: 0,
      unsupported: (v) => (v === 'digests-refused' ? REFUSE_DIGESTS : undefined),
      discoveryListsEveryPortal: true,
      stop: () => istgt.stop(),
    };
  },
};
