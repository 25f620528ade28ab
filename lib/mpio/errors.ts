// Typed errors of the multipath layer. A PathError (lib/session) is one path's trouble and is re-driven here; these
// are what reaches the application when re-driving cannot help.

/** No path could carry the I/O within the all-paths-down window (dm-multipath no_path_retry, MSDSM PDORemovePeriod). */
export class NoPathError extends Error {
  override name = 'NoPathError';
  readonly code = 'ENOPATH';
  constructor(message: string, readonly waitedMs: number, override readonly cause?: Error) {
    super(message);
  }
}

/** A path reaches a different LU than the device's other paths (VPD 0x83 / serial differ): it cannot join. */
export class PathIdentityError extends Error {
  override name = 'PathIdentityError';
  readonly code = 'EIDENTITY';
  constructor(readonly pathId: number, readonly expected: string | undefined, readonly found: string | undefined) {
    super(expected === undefined
      ? `path ${pathId} reports no LU identity (no VPD 0x83 designator, no serial): cannot prove several paths reach one LU`
      : `path ${pathId} reaches LU "${found ?? '(no identity)'}", not "${expected}" like the device's other paths: refusing to group them`);
  }
}

/** Unknown policy name or options that do not fit the device's paths. */
export class PolicyError extends RangeError {
  override name = 'PolicyError';
  readonly code = 'EPOLICY';
}
