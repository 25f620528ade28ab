// Errors for bad input to the SCSI layer (not SCSI command failures: those are ScsiError in scsi-error.ts).

/** A CDB builder was given an argument it cannot encode (negative LBA, too many blocks, bad page code...). */
export class ScsiArgumentError extends RangeError {
  override name = 'ScsiArgumentError';
  constructor(message: string, readonly code = 'ESCSIARG') { super(message); }
}

/** Response data (Data-In or sense) is too short or malformed to parse. */
export class ScsiParseError extends Error {
  override name = 'ScsiParseError';
  constructor(message: string, readonly code = 'ESCSIPARSE') { super(message); }
}

export function requireLength(data: Buffer, min: number, what: string): void {
  if (data.length < min) throw new ScsiParseError(`${what}: need at least ${min} bytes, got ${data.length}`);
}
