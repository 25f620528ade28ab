// The text data segment of Login and Text PDUs (RFC 7143 §6.1): `key=value\0` pairs in UTF-8, possibly spread
// over several PDUs with the C (continue) bit. Decoding validates the grammar and the lengths; the meaning of
// each key lives in keys.ts.
import { TextFormatError } from './errors';

/** One key=value pair, in the order it appeared. */
export type TextPair = readonly [key: string, value: string];

/**
 * RFC 7143 §6.1: a standard-label (or an `X#` IANA-registered key) of at most 63 bytes. The grammar asks for a
 * capital first letter, but the RFC's own iSCSIProtocolLevel key starts lower-case, so any letter is accepted.
 */
const KEY_PATTERN = /^(?:X#[A-Za-z0-9.+@_-]+|[A-Za-z][A-Za-z0-9.+@_-]*)$/;
export const MAX_KEY_LENGTH = 63;
/** RFC 7143 §6.1: an individual value (not its encoding) is at most 255 bytes. */
export const MAX_VALUE_LENGTH = 255;
/** RFC 7143 §4.2.7.1: iSCSI names are at most 223 bytes. */
export const MAX_ISCSI_NAME_LENGTH = 223;
/** RFC 7143 §12.1.3: CHAP challenges and responses are at most 1024 bytes; hex is the longer encoding. */
export const MAX_BINARY_LENGTH = 1024;
const BINARY_KEYS = new Set(['CHAP_C', 'CHAP_R']);
const NAME_KEYS = new Set(['InitiatorName', 'TargetName']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function checkValueLength(key: string, value: string): void {
  if (BINARY_KEYS.has(key)) {
    if (value.length > 2 + 2 * MAX_BINARY_LENGTH) throw new TextFormatError(`${key}: binary value longer than ${MAX_BINARY_LENGTH} bytes`);
    return;
  }
  const limit = NAME_KEYS.has(key) ? MAX_ISCSI_NAME_LENGTH : MAX_VALUE_LENGTH;
  // The limit applies to each value of a list separately (the comma is a delimiter, RFC 7143 §6.1).
  for (const item of value.split(',')) {
    const bytes = Buffer.byteLength(item, 'utf8');
    if (bytes > limit) throw new TextFormatError(`${key}: value of ${bytes} bytes exceeds ${limit}`);
  }
}

/** Throws TextFormatError unless `key` is a well-formed key name. */
export function checkKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_LENGTH) throw new TextFormatError(`key "${key.slice(0, 70)}…" exceeds ${MAX_KEY_LENGTH} bytes`);
  if (!KEY_PATTERN.test(key)) throw new TextFormatError(`malformed key name "${key}"`);
}

/**
 * Decodes a complete logical text data segment into pairs, keeping order and repeated keys (SendTargets answers
 * repeat TargetName/TargetAddress). Trailing extra NUL bytes are tolerated; an empty pair elsewhere is not.
 */
export function decodeTextPairs(data: Buffer): TextPair[] {
  if (data.length === 0) return [];
  if (data[data.length - 1] !== 0) throw new TextFormatError('text does not end with a NUL delimiter (truncated pair)');
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  if (end === 0) return [];
  let text: string;
  try {
    text = utf8.decode(data.subarray(0, end));
  } catch {
    throw new TextFormatError('text is not valid UTF-8');
  }
  const pairs: TextPair[] = [];
  for (const pair of text.split('\0')) {
    if (pair.length === 0) throw new TextFormatError('empty key=value pair (two consecutive NUL bytes)');
    const eq = pair.indexOf('=');
    if (eq < 0) throw new TextFormatError(`pair "${pair.slice(0, 70)}" has no "="`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    checkKey(key);
    checkValueLength(key, value);
    pairs.push([key, value]);
  }
  return pairs;
}

/** Decodes a text segment where every key may appear once (login and negotiation text). */
export function decodeTextKeys(data: Buffer): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [key, value] of decodeTextPairs(data)) {
    if (keys.has(key)) throw new TextFormatError(`key ${key} appears more than once`);
    keys.set(key, value);
  }
  return keys;
}

/** Encodes pairs as `key=value\0…`, validating each key and value the same way decoding does. */
export function encodeText(pairs: Iterable<TextPair>): Buffer {
  const parts: string[] = [];
  for (const [key, value] of pairs) {
    checkKey(key);
    if (value.includes('\0')) throw new TextFormatError(`${key}: value contains a NUL byte`);
    checkValueLength(key, value);
    parts.push(`${key}=${value}\0`);
  }
  return Buffer.from(parts.join(''), 'utf8');
}

/** Splits a list value (`CRC32C,None`) into its items. */
export function splitList(value: string): string[] {
  return value.split(',');
}

/**
 * Splits an encoded text segment into chunks of at most `maxLength` bytes. Every chunk but the last goes out
 * with the C bit set (RFC 7143 §6.1); a pair may be cut anywhere. Always returns at least one (maybe empty) chunk.
 */
export function splitText(text: Buffer, maxLength: number): Buffer[] {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
  if (text.length <= maxLength) return [text];
  const chunks: Buffer[] = [];
  for (let at = 0; at < text.length; at += maxLength) chunks.push(text.subarray(at, at + maxLength));
  return chunks;
}

/**
 * Reassembles text sent over several PDUs: push each PDU's data with its C bit; a Buffer comes back when the
 * PDU with C=0 completes the text. `maxTotal` bounds the memory a peer can make us hold.
 */
export class TextAssembler {
  private chunks: Buffer[] = [];
  private total = 0;
  constructor(private readonly maxTotal = 1 << 20) {}

  /** True while a C=1 PDU has been received and the text is not complete yet. */
  get pending(): boolean { return this.chunks.length > 0; }

  push(data: Buffer, cont: boolean): Buffer | undefined {
    this.total += data.length;
    if (this.total > this.maxTotal) {
      this.reset();
      throw new TextFormatError(`text spread over several PDUs exceeds ${this.maxTotal} bytes`);
    }
    this.chunks.push(data);
    if (cont) return undefined;
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.reset();
    return whole;
  }

  reset(): void {
    this.chunks = [];
    this.total = 0;
  }
}
