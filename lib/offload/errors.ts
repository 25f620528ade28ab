// Typed errors of the offload view. `code` is stable for programs.

/** An option or argument the offload view cannot use (unknown check, bad port, bad address...). */
export class OffloadArgumentError extends TypeError {
  override name = 'OffloadArgumentError';
  constructor(message: string, readonly code = 'EOFFLOADARG') { super(message); }
}
