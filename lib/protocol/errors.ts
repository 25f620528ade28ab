// Typed errors of the protocol layer. A ProtocolError (the wire layer's class, one for the whole stack) means the
// peer (or the caller) broke RFC 7143; the connection it happened on cannot be trusted any more and is closed.
import { ProtocolError } from '../wire/errors';

export { ProtocolError };

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
