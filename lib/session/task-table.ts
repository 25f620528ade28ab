// Initiator Task Tags (RFC 7143 §11.2.1.8): unique among this session's outstanding tasks, never 0xffffffff. Tags
// are small integers reused once their task has ended, so the table is an array: no hash map to grow and shrink
// under a stream of I/O. A tag stays taken while its task is in the table (an aborted one until the target answers).
export class TaskTable<T> {
  private readonly slots: Array<T | undefined> = [];
  private readonly free: number[] = [];
  private count = 0;

  get size(): number { return this.count; }

  /** Stores `task` under a free tag and returns the tag (1, 2, ...). */
  add(task: T): number {
    const tag = this.free.length > 0 ? this.free.pop()! : this.slots.push(undefined);
    this.slots[tag - 1] = task;
    this.count++;
    return tag;
  }

  get(tag: number): T | undefined { return this.slots[tag - 1]; }

  delete(tag: number): boolean {
    if (this.slots[tag - 1] === undefined) return false;
    this.slots[tag - 1] = undefined;
    this.free.push(tag);
    this.count--;
    return true;
  }

  *values(): IterableIterator<T> {
    for (const task of this.slots) if (task !== undefined) yield task;
  }

  /** Every task, removed (the connection is gone). */
  takeAll(): T[] {
    const all = [...this.values()];
    this.slots.length = 0;
    this.free.length = 0;
    this.count = 0;
    return all;
  }
}
