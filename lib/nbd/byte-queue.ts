// The bytes a client sent that nobody consumed yet, as the chunks the socket delivered. The handshake awaits whole
// fields (`take`); request headers are taken from it, and the payload bytes that came in the same read as their
// header are moved into the write's buffer (`fill`) before the kernel reads the rest of the payload there directly
// (connection.ts). With stream reads (the fallback) every payload byte goes through `fill`, one copy.
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // consumed bytes of chunks[0]
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Removes and returns `n` bytes (n ≤ length): a view of the chunk when they lie in one, else a copy. */
  take(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    this.fill(out, 0, n);
    return out;
  }

  /** Moves up to `n` bytes into `target` at `at`; returns how many it moved. */
  fill(target: Buffer, at: number, n: number): number {
    let moved = 0;
    while (moved < n && this.chunks.length > 0) {
      const first = this.chunks[0];
      const step = Math.min(n - moved, first.length - this.head);
      first.copy(target, at + moved, this.head, this.head + step);
      moved += step;
      this.advance(step);
    }
    return moved;
  }

  /** Whether the next `n` bytes lie in one chunk (a payload that can be handed on as a view, without a copy). */
  contiguous(n: number): boolean {
    return this.chunks.length > 0 && this.chunks[0].length - this.head >= n;
  }

  private advance(n: number): void {
    this.head += n;
    this.length -= n;
    while (this.chunks.length > 0 && this.head >= this.chunks[0].length) {
      this.head -= this.chunks[0].length;
      this.chunks.shift();
    }
  }
}
