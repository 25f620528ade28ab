// Typed errors of the wire layer. `code` is stable for programs; the message says what happened and what to check.

/**
 * The peer broke RFC 7143 (framing here; stage transitions, PDU fields and text in the protocol layer, which
 * extends this class): the connection it happened on cannot be trusted any more and is closed.
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  /** The 48-byte BHS of the offending PDU, when it arrived whole (a target quotes it in a Reject). */
  bhs?: Buffer;
  constructor(message: string, readonly code = 'EPROTO') { super(message); }
}

/** A socket could not be created, bound or connected. `code` is the errno name (ENODEV, ECONNREFUSED, ETIMEDOUT…). */
export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(message: string, readonly code: string, readonly errno?: number) { super(message); }
}
