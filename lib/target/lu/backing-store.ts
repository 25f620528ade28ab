// Where a logical unit keeps its blocks: the interface shared by the memory and file stores.

export interface BackingStore {
  /** Capacity in bytes. */
  readonly byteLength: number;
  /** Whether acknowledged writes can still be lost before flush() (reported as WCE in the caching mode page). */
  readonly volatileCache: boolean;
  /** Bytes at [offset, offset + length). A memory store returns a view of its memory, not a copy. */
  read(offset: number, length: number): Buffer | Promise<Buffer>;
  /** Writes the buffers back to back starting at `offset` (a scatter list: no concatenation needed). */
  write(offset: number, buffers: readonly Buffer[]): void | Promise<void>;
  /** Repeats `pattern` (one block) over [offset, offset + length); length is a multiple of the pattern. */
  fill(offset: number, length: number, pattern: Buffer): void | Promise<void>;
  flush(): void | Promise<void>;
  /** The writable memory behind [offset, offset + length), or undefined when the store is not in memory. */
  region(offset: number, length: number): Buffer | undefined;
  close(): void | Promise<void>;
}
