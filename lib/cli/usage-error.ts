// A command line that cannot work as given (a bad value, a missing secret): exit code 2, before any I/O.
export class UsageError extends Error {
  override name = 'UsageError';
  readonly code = 'EUSAGE';
  readonly exitCode = 2;
}
