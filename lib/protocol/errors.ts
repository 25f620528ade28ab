// Typed errors of the protocol layer. A ProtocolError means the peer (or the caller) broke RFC 7143; the
// connection it happened on cannot be trusted any more and should be closed.

/** A violation of RFC 7143 rules: wrong PDU fields, illegal stage transitions, malformed text. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(message: string, readonly code = 'EPROTO') { super(message); }
}

/** A text data segment that does not follow RFC 7143 §6.1 (grammar, lengths, duplicates). */
export class TextFormatError extends ProtocolError {
  override name = 'TextFormatError';
  constructor(message: string) { super(message, 'ETEXT'); }
}

/** An illegal offer or answer for one key (RFC 7143 §6.2): names the key and the value. */
export class NegotiationError extends ProtocolError {
  override name = 'NegotiationError';
  constructor(readonly key: string, readonly value: string | undefined, reason: string) {
    super(`${key}=${value ?? '(absent)'}: ${reason}`, 'ENEGOTIATION');
  }
}
