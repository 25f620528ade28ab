// Typed errors of the wire layer. `code` is stable for programs; the message says what happened and what to check.

/** The peer broke the iSCSI framing rules; the connection is closed. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(message: string, readonly code: string) { super(message); }
}

/** A socket could not be created, bound or connected. `code` is the errno name (ENODEV, ECONNREFUSED, ETIMEDOUT…). */
export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(message: string, readonly code: string, readonly errno?: number) { super(message); }
}
