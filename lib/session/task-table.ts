// Initiator Task Tags (RFC 7143 §11.2.1.8): unique among this session's outstanding tasks, never 0xffffffff.
import { RESERVED_TAG } from '../wire/opcodes';

export class TaskTable<T> {
  private readonly tasks = new Map<number, T>();
  private nextTag = 1;

  get size(): number { return this.tasks.size; }

  /** Stores `task` under a fresh tag and returns the tag. */
  add(task: T): number {
    let tag = this.nextTag;
    while (tag === RESERVED_TAG || this.tasks.has(tag)) tag = (tag + 1) >>> 0;
    this.nextTag = (tag + 1) >>> 0;
    this.tasks.set(tag, task);
    return tag;
  }

  get(tag: number): T | undefined { return this.tasks.get(tag); }
  delete(tag: number): boolean { return this.tasks.delete(tag); }
  values(): IterableIterator<T> { return this.tasks.values(); }

  /** Every task, removed (the connection is gone). */
  takeAll(): T[] {
    const all = [...this.tasks.values()];
    this.tasks.clear();
    return all;
  }
}
