// What the interoperability matrix (test/interop-matrix.test.ts) needs from a target implementation: one target per
// variant (no authentication, CHAP, mutual CHAP, digests required, digests refused) behind the same two portals,
// the accounts they check, and the variants the implementation cannot be configured for, each with its reason.
export const VARIANTS = ['plain', 'chap', 'mutual', 'digests-required', 'digests-refused'] as const;
export type Variant = typeof VARIANTS[number];

/** The initiator's account on every CHAP variant, and the account a mutual-CHAP target answers with. */
export const INITIATOR_CHAP = { user: 'interop-initiator', secret: 'interop-secret-1' };
export const TARGET_CHAP = { user: 'interop-target', secret: 'interop-target-2' };

export const LU_BYTES = 16 << 20;

export interface InteropTarget {
  /** The variant's target name (undefined when `unsupported(variant)` says why not). */
  iqn(variant: Variant): string;
  /** The variant's two portals (host:port), in the order SendTargets lists them where it lists both. */
  portals(variant: Variant): string[];
  readonly lun: number;
  /** Why this implementation cannot be set up as `variant`; undefined when it can. */
  unsupported(variant: Variant): string | undefined;
  /** SendTargets through one portal lists both (tgtd lists only the portal it is asked on). */
  readonly discoveryListsEveryPortal: boolean;
  stop(): Promise<void>;
}

export interface TargetDriver {
  readonly name: string;
  /** Programs the driver runs (requireTools names their packages). */
  readonly tools: string[];
  /** Starts the targets on loopback addresses `${net}.1`, `${net}.2`, ... */
  start(net: string): Promise<InteropTarget>;
}
