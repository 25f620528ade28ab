// The embedded target in the matrix: one Target per variant (authentication and digest limits are target-wide),
// each with two member portals.
import { Target, DEFAULT_TARGET_LIMITS, type TargetOptions } from '../../../lib/target/target';
import { INITIATOR_CHAP, LU_BYTES, TARGET_CHAP, VARIANTS, type InteropTarget, type TargetDriver, type Variant } from './interop-target';

function options(variant: Variant): Partial<TargetOptions> {
  const chap = { user: INITIATOR_CHAP.user, secret: INITIATOR_CHAP.secret };
  switch (variant) {
    case 'plain': return {};
    case 'chap': return { chap };
    case 'mutual': return { chap, mutualChap: { user: TARGET_CHAP.user, secret: TARGET_CHAP.secret } };
    case 'digests-required': return { limits: { ...DEFAULT_TARGET_LIMITS, headerDigest: ['CRC32C'], dataDigest: ['CRC32C'] } };
    case 'digests-refused': return { limits: { ...DEFAULT_TARGET_LIMITS, headerDigest: ['None'], dataDigest: ['None'] } };
  }
}

export const embeddedDriver: TargetDriver = {
  name: 'embedded target',
  tools: [],
  async start(net: string): Promise<InteropTarget> {
    const targets = new Map<Variant, Target>();
    try {
      for (const [i, variant] of VARIANTS.entries()) {
        targets.set(variant, await Target.start({
          iqn: `iqn.2024-01.test.embedded:${variant}`, portals: [`${net}.${2 * i + 1}:3260`, `${net}.${2 * i + 2}:3260`],
          luns: [LU_BYTES], ...options(variant),
        }));
      }
    } catch (error) {
      await Promise.all([...targets.values()].map((t) => t.stop()));
      throw error;
    }
    const get = (v: Variant) => targets.get(v)!;
    return {
      iqn: (v) => get(v).iqn,
      portals: (v) => get(v).members.map((m) => `${m.address}:${m.port}`),
      lun: 1,
      unsupported: () => undefined,
      discoveryListsEveryPortal: true,
      stop: async () => { await Promise.all([...targets.values()].map((t) => t.stop())); },
    };
  },
};
