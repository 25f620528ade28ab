// The SCSI tasks of one connection: what each holds (scratch memory, a registered receive buffer, a place in the
// hold queue, an execution in flight) and the one way out of the table, which gives all of it back.
import type { ConnectionBudget } from '../buffer-budget';
import type { LogicalUnit } from '../lu/logical-unit';
import type { WriteTask } from '../write-task';

export interface Task {
  itt: number;
  lun: number;
  cmdSN: number;
  cdb: Buffer;
  /** Bytes the CDB asks to write (before any clamping to EDTL), for the residual. */
  wanted?: number;
  expectedLength: number;
  read: boolean;
  isWrite: boolean;
  /** Sent with the I bit: outside the CmdSN window, so counted against its own cap. */
  immediate: boolean;
  lu: LogicalUnit | undefined;
  write?: WriteTask;
  /** Where Data-Out lands: LU memory (`placed`) or scratch, possibly shorter than EDTL (the CDB wants less). */
  buffer?: Buffer;
  placed: boolean;
  /** The deframer writes Data-Out straight into `buffer` (it spans the whole EDTL). */
  registered: boolean;
  /** Scratch bytes reserved in the budget, given back once the LU is done with the buffer. */
  reserved: number;
  /** Scratch to allocate when the first byte of data arrives (an announced write costs a reservation only). */
  scratchLength: number;
  aborted: boolean;
  /** Its execution waits in the member's CommandHold. */
  held: boolean;
  /** Settles when an execution in flight is over (task management waits for it). */
  running?: Promise<void>;
}

export class TaskTable {
  private readonly tasks = new Map<number, Task>();
  private immediateCount = 0;
  /** ITTs whose Data-Out is discarded silently (aborted, refused): a bounded memory of recent tags. */
  private readonly recentlyAborted = new Set<number>();

  constructor(private readonly budget: ConnectionBudget, private readonly unregister: (itt: number) => void) {}

  get size(): number { return this.tasks.size; }
  get immediate(): number { return this.immediateCount; }
  get(itt: number): Task | undefined { return this.tasks.get(itt); }
  has(itt: number): boolean { return this.tasks.has(itt); }
  values(): Task[] { return [...this.tasks.values()]; }

  add(task: Task): void {
    this.tasks.set(task.itt, task);
    if (task.immediate) this.immediateCount++;
    this.recentlyAborted.delete(task.itt);
  }

  /** Out of the table (answered or aborted); its memory goes back once nothing can still use it. */
  remove(task: Task): void {
    if (this.tasks.get(task.itt) !== task) return;
    this.tasks.delete(task.itt);
    if (task.immediate) this.immediateCount--;
    if (task.registered) {
      task.registered = false;
      this.unregister(task.itt);
    }
    if (!task.running && !task.held) this.releaseBuffer(task);
  }

  /** Gives the scratch reservation back (once): after execution, or when the task dies before it. */
  releaseBuffer(task: Task): void {
    if (task.reserved > 0) {
      this.budget.release(task.reserved);
      task.reserved = 0;
    }
    task.buffer = undefined;
  }

  wasAborted(itt: number): boolean { return this.recentlyAborted.has(itt); }

  /** Data-Out for this ITT is discarded silently from now on (until the tag is used again). */
  rememberAborted(itt: number): void {
    this.recentlyAborted.add(itt);
    if (this.recentlyAborted.size > 1024) this.recentlyAborted.delete(this.recentlyAborted.values().next().value!);
  }
}
