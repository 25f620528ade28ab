// Initiator Task Tags (RFC 7143 §11.2.1.8): unique among this session's outstanding tasks, never 0xffffffff. Tags
// are small integers reused once their task has ended, so the table is an array: no hash map to grow and shrink
// under a stream of I/O. A tag stays taken while its task is in the table (an aborted one until the target answers).
// A read's tag whose task ended by an answered ABORT TASK is "retired": a late PDU for it is a race the
// target may lose, not a violation, so the table remembers it and hands it out again last.
export class TaskTable<T> {
  private readonly slots: Array<T | undefined> = [];
  private readonly free: number[] = [];
  private readonly retired = new Set<number>();
  private count = 0;

  get size(): number { return this.count; }

  /** Stores `task` under a free tag and returns the tag (1, 2, ...). */
  add(task: T): number {
    const tag = this.free.length > 0 ? this.free.pop()! : this.slots.push(undefined);
    this.retired.delete(tag);
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

  /** Removes the task under `tag` as ended by task management: wasRetired(tag) until the tag is handed out again. */
  retire(tag: number): boolean {
    if (this.slots[tag - 1] === undefined) return false;
    this.slots[tag - 1] = undefined;
    this.free.unshift(tag); // reused last: a late PDU for it then finds no new task under the same tag
    this.retired.add(tag);
    this.count--;
    return true;
  }

  /** Whether `tag` last belonged to a task ended by task management, and no task holds it since. */
  wasRetired(tag: number): boolean { return this.retired.has(tag); }

  *values(): IterableIterator<T> {
    for (const task of this.slots) if (task !== undefined) yield task;
  }

  /** Every task, removed (the connection is gone). */
  takeAll(): T[] {
    const all = [...this.values()];
    this.slots.length = 0;
    this.free.length = 0;
    this.retired.clear();
    this.count = 0;
    return all;
  }
}
