// Byte ranges of an LU streamed from a descriptor or to a sink with bounded memory: DEPTH chunks of CHUNK bytes in
// flight, each in a buffer of a fixed set reused for the whole transfer, whatever its size. Both directions may
// start and end anywhere in a block: `write` reads the partly covered first and last blocks and merges them
// (read-modify-write; not atomic against other writers of those blocks).
import { read as fsRead } from 'node:fs';
import type { MultipathDevice } from '../mpio/multipath-device';

const CHUNK = 1 << 20;
const DEPTH = 8;

/** A range past the end of the LU (the message says what, if anything, was sent before it was seen). */
export class RangeEndError extends RangeError {
  override name = 'RangeEndError';
  readonly code = 'ERANGE';
}

/** stdin ended before `--length` bytes; the bytes before were written (`written` says how many). */
export class ShortInputError extends Error {
  override name = 'ShortInputError';
  readonly code = 'ESHORTINPUT';
  constructor(readonly written: number, readonly wanted: number) {
    super(`stdin ended after ${written} of the ${wanted} bytes --length asked for; those ${written} bytes were written`);
  }
}

export interface TransferOptions {
  offset: number;
  /** Bytes to move; for a write, undefined means until the input ends. */
  length?: number;
  /** Called with the bytes each chunk moved, in order. */
  onBytes?: (bytes: number) => void;
}

/** Fills `buffer[at, at + max)` from an input; resolves 0 at its end. */
export type ByteSource = (buffer: Buffer, at: number, max: number) => Promise<number>;

/**
 * Reads a file descriptor (stdin) straight into the caller's buffers: no stream in between, so no garbage pieces
 * pile up for the collector (through process.stdin, a 256 MiB write peaked ~18 MB higher). A descriptor left non-blocking by
 * whoever opened the pipe answers EAGAIN when empty: it is polled again shortly.
 */
export function fdSource(fd: number): ByteSource {
  const attempt = (buffer: Buffer, at: number, max: number, wait: number): Promise<number> => new Promise((resolve, reject) => {
    fsRead(fd, buffer, at, max, null, (error, bytes) => {
      if (error?.code === 'EAGAIN') setTimeout(() => attempt(buffer, at, max, Math.min(wait * 2, 20)).then(resolve, reject), wait);
      else if (error) reject(error);
      else resolve(bytes);
    });
  });
  return (buffer, at, max) => attempt(buffer, at, max, 1);
}

/** Takes a chunk of output; resolves once the chunk's buffer may be reused. */
export type ByteSink = (chunk: Buffer) => Promise<void>;

/** Streams `length` bytes from `offset` to `out`, in order; returns the bytes written. */
export async function streamRead(device: MultipathDevice, out: ByteSink, o: TransferOptions & { length: number }): Promise<number> {
  const { blockSize, blocks } = await device.capacity();
  const { offset, length } = o;
  if (offset + length > blocks * blockSize) throw new RangeEndError(`range ${offset}+${length} is past the end of the LU (${blocks * blockSize} bytes)`);
  const first = Math.floor(offset / blockSize);
  const end = Math.ceil((offset + length) / blockSize);
  const perChunk = Math.max(1, Math.floor(CHUNK / blockSize));
  const pending: Array<{ lba: number; buffer: Buffer; read: Promise<Buffer> }> = [];
  let next = first;
  const issue = (buffer: Buffer) => {
    const n = Math.min(perChunk, end - next);
    const read = device.read(next, n, buffer.subarray(0, n * blockSize));
    read.catch(() => undefined); // awaited in order below; this only keeps a later failure from being "unhandled"
    pending.push({ lba: next, buffer, read });
    next += n;
  };
  for (let i = 0; i < DEPTH && next < end; i++) issue(Buffer.allocUnsafe(perChunk * blockSize));
  let moved = 0;
  while (pending.length > 0) {
    const { lba, buffer, read } = pending.shift()!;
    const data = await read;
    const from = Math.max(offset - lba * blockSize, 0);
    const to = Math.min(offset + length - lba * blockSize, data.length);
    await out(data.subarray(from, to));
    moved += to - from;
    o.onBytes?.(to - from);
    if (next < end) issue(buffer);
  }
  return moved;
}

/**
 * Streams `input` to the LU from `offset`: `length` bytes exactly (ShortInputError if the input ends first; what
 * follows them is left unread, as dd's count= leaves it), or every byte until the input ends. Returns the bytes written; flushes the LU.
 */
export async function streamWrite(device: MultipathDevice, input: ByteSource, o: TransferOptions & { knownInputBytes?: number }): Promise<number> {
  const { blockSize, blocks } = await device.capacity();
  const capacity = blocks * blockSize;
  const { offset, length } = o;
  const planned = length ?? o.knownInputBytes;
  // Refused before anything is written when the size is known up front; from a pipe, at the chunk that would cross.
  const pastEnd = (bytes: number) => new RangeEndError(`range ${offset}+${bytes} is past the end of the LU (${capacity} bytes)`);
  if (offset > capacity || (planned !== undefined && offset + planned > capacity)) throw pastEnd(planned ?? 0);

  const perChunk = Math.max(1, Math.floor(CHUNK / blockSize)) * blockSize;
  const free: Buffer[] = Array.from({ length: DEPTH + 1 }, () => Buffer.allocUnsafe(perChunk));
  const inFlight: Array<{ buffer: Buffer; write: Promise<void>; bytes: number }> = [];
  const settleOldest = async () => {
    const { buffer, write, bytes } = inFlight.shift()!;
    await write;
    free.push(buffer);
    o.onBytes?.(bytes);
  };

  const head = offset % blockSize; // bytes of the first block before the data, kept from the LU
  let lba = Math.floor(offset / blockSize); // first block of the chunk being filled
  let chunk = free.pop()!;
  let filled = head; // bytes of `chunk` holding data (or kept LU bytes)
  let dataInChunk = 0;
  let written = 0; // data bytes taken from the input
  if (head > 0) await device.read(lba, 1, chunk.subarray(0, blockSize));

  const submit = async (bytes: number, dataBytes: number) => {
    const write = device.write(lba, chunk.subarray(0, bytes));
    write.catch(() => undefined); // awaited in settleOldest
    inFlight.push({ buffer: chunk, write, bytes: dataBytes });
    lba += bytes / blockSize;
    if (inFlight.length >= DEPTH) await settleOldest();
    chunk = free.pop()!;
    filled = 0;
    dataInChunk = 0;
  };

  try {
    const wanted = length ?? Infinity;
    while (written < wanted) {
      const got = await input(chunk, filled, Math.min(perChunk - filled, wanted - written));
      if (got === 0) break;
      if (offset + written + got > capacity) {
        throw new RangeEndError(`stdin holds more than the ${capacity - offset} bytes from offset ${offset} to the end of the LU (${capacity} bytes); the first ${written - dataInChunk} bytes were already sent`);
      }
      filled += got;
      dataInChunk += got;
      written += got;
      if (filled === perChunk) await submit(filled, dataInChunk);
    }
    if (length !== undefined && written < length) {
      // The bytes so far are written out before the error says so.
      if (dataInChunk > 0) await finishTail();
      while (inFlight.length > 0) await settleOldest();
      await device.flush();
      throw new ShortInputError(written, length);
    }
    if (dataInChunk > 0) await finishTail();
    while (inFlight.length > 0) await settleOldest();
    await device.flush();
    return written;
  } finally {
    // A failure leaves writes in flight: let them settle so close() does not race them.
    await Promise.allSettled(inFlight.map((w) => w.write));
  }

  /** Rounds the last chunk up to whole blocks, the bytes after the data kept from the LU, and submits it. */
  async function finishTail(): Promise<void> {
    const tail = filled % blockSize;
    if (tail > 0) {
      const lastBlock = Buffer.allocUnsafe(blockSize);
      await device.read(lba + Math.floor(filled / blockSize), 1, lastBlock);
      lastBlock.copy(chunk, filled, tail);
      filled += blockSize - tail;
    }
    await submit(filled, dataInChunk);
  }
}
