// Request buffers reused across requests: a 64 KiB read or write would otherwise allocate a fresh ArrayBuffer each
// time, and the garbage collector then takes a large share of the serving process's CPU (measured with --cpu-prof at
// 64 KiB, iodepth 32). Buffers are kept per exact size, up to a total, and handed out again only once released:
// once the device is done with a write's payload, or the kernel has taken a read's reply.
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private kept = 0;

  constructor(private readonly maxKeptBytes: number) {}

  take(size: number): Buffer {
    const reused = this.free.get(size)?.pop();
    if (reused) { this.kept -= size; return reused; }
    return Buffer.allocUnsafeSlow(size);
  }

  release(buffer: Buffer): void {
    if (this.kept + buffer.length > this.maxKeptBytes) return;
    let list = this.free.get(buffer.length);
    if (!list) { list = []; this.free.set(buffer.length, list); }
    list.push(buffer);
    this.kept += buffer.length;
  }
}
