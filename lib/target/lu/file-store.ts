// A backing store in a (sparse) file: capacity = file size, I/O by position.
import { open, type FileHandle } from 'node:fs/promises';
import type { BackingStore } from './backing-store';

export interface FileStoreOptions {
  /** Create the file if missing and grow it (sparse) to this many bytes if smaller. Never shrinks a file. */
  size?: number;
  readOnly?: boolean;
}

export class FileStore implements BackingStore {
  readonly volatileCache = true; // writes sit in the page cache until fdatasync

  private constructor(private readonly handle: FileHandle, readonly byteLength: number, readonly path: string) {}

  static async open(path: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const { size, readOnly } = options;
    if (size !== undefined && (!Number.isSafeInteger(size) || size <= 0)) {
      throw new RangeError(`LU file size must be a positive integer, got ${size}`);
    }
    const flags = readOnly ? 'r' : size !== undefined ? 'a+' : 'r+';
    // 'a+' creates without truncating, but appends on write: reopen r+ once the file exists. A file we create
    // is the owner's alone (0600): it holds whatever initiators write, which is nobody else's to read.
    let handle = await open(path, flags, 0o600);
    if (flags === 'a+') {
      await handle.close();
      handle = await open(path, 'r+');
    }
    try {
      let length = (await handle.stat()).size;
      if (size !== undefined && length < size) {
        await handle.truncate(size);
        length = size;
      }
      if (length === 0) throw new RangeError(`LU file ${path} is empty; give a size to create it`);
      return new FileStore(handle, length, path);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) { out.fill(0, done); break; } // beyond EOF of a file shrunk under us
      done += bytesRead;
    }
    return out;
  }

  async write(offset: number, buffers: readonly Buffer[]): Promise<void> {
    let pending = buffers.filter((b) => b.length > 0);
    let position = offset;
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending, position);
      position += bytesWritten;
      pending = dropBytes(pending, bytesWritten);
    }
  }

  async fill(offset: number, length: number, pattern: Buffer): Promise<void> {
    // One chunk of up to 1 MiB of the repeated pattern, written as often as needed.
    const chunk = Buffer.alloc(Math.min(length, Math.max(pattern.length, (1 << 20) - ((1 << 20) % pattern.length))), pattern);
    for (let done = 0; done < length; done += chunk.length) {
      await this.write(offset + done, [chunk.subarray(0, Math.min(chunk.length, length - done))]);
    }
  }

  async flush(): Promise<void> {
    await this.handle.datasync();
  }

  region(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && count >= buffers[i].length) count -= buffers[i++].length;
  const rest = buffers.slice(i);
  if (rest.length > 0 && count > 0) rest[0] = rest[0].subarray(count);
  return rest;
}
