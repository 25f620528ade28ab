// A backing store in process memory: reads are views, Data-Out can land directly in it.
import { constants } from 'node:buffer';
import type { BackingStore } from './backing-store';

export class MemoryStore implements BackingStore {
  readonly volatileCache = false;
  private readonly memory: Buffer;

  constructor(readonly byteLength: number) {
    if (!Number.isSafeInteger(byteLength) || byteLength <= 0) {
      throw new RangeError(`memory LU size must be a positive integer, got ${byteLength}`);
    }
    if (byteLength > constants.MAX_LENGTH) {
      throw new RangeError(`memory LU size ${byteLength} exceeds the largest Buffer (${constants.MAX_LENGTH}); use a file-backed LU`);
    }
    this.memory = Buffer.alloc(byteLength);
  }

  read(offset: number, length: number): Buffer {
    return this.memory.subarray(offset, offset + length);
  }

  write(offset: number, buffers: readonly Buffer[]): void {
    let at = offset;
    for (const b of buffers) {
      // Data-Out received in place is already there: copying a buffer onto itself is skipped.
      if (b.buffer !== this.memory.buffer || b.byteOffset !== this.memory.byteOffset + at) b.copy(this.memory, at);
      at += b.length;
    }
  }

  fill(offset: number, length: number, pattern: Buffer): void {
    this.memory.fill(pattern, offset, offset + length);
  }

  flush(): void {}

  region(offset: number, length: number): Buffer {
    return this.memory.subarray(offset, offset + length);
  }

  close(): void {}
}
