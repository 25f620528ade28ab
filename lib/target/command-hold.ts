// The "stalled controller" fault: a member portal that freezes like a hung array controller. While held, nothing
// it would do leaves it: SCSI commands wait before execution, every PDU it would send (SCSI responses, R2Ts,
// NOP-Ins, task management responses, Rejects, login responses) waits, and the PDUs it would have to act on
// without data (task management, NOP-Out, text, logout, login) wait too, all in arrival order. The TCP
// connections stay up and keep receiving write data, as a controller's NICs do.
//
// A held command does not notice its connection closing (a frozen controller would not): it runs at release all
// the same, unless it was aborted meanwhile by a LOGICAL UNIT RESET or CLEAR TASK SET of its LU from any
// connection of the target, or by a reinstatement of its session (RFC 7143 §6.3.5). That is the window in which
// a "ghost write" from a dead path can still land, which failover must not race.
//
// Commands admitted before the hold are not held back by it: a write whose data phase already began into a memory
// LU's own memory (direct placement) lands that data as it arrives. Writes arriving while held use scratch.

/** One thing a held member would have done; `run` does it at release. */
export interface HeldWork {
  /** Who queued it (its connection may be closed by the time it runs). */
  readonly owner: object;
  /** A held SCSI command: the LUN it addresses and whether it was aborted meanwhile. */
  readonly command?: { readonly lun: number; aborted: boolean };
  run(): void;
}

export class CommandHold {
  private queue: HeldWork[] = [];
  private holding = false;

  get active(): boolean { return this.holding; }

  /** Held commands not aborted (for tests and the CLI). */
  get heldCommands(): number { return this.queue.filter((w) => w.command && !w.command.aborted).length; }

  hold(): void { this.holding = true; }

  defer(work: HeldWork): void { this.queue.push(work); }

  /** Work queued by `owner` (a connection), for back-pressure while held. */
  queuedBy(owner: object): number {
    let n = 0;
    for (const w of this.queue) if (w.owner === owner) n++;
    return n;
  }

  /** Marks the held commands that match as aborted: they will never run. Returns how many. */
  abortCommands(match: (owner: object, lun: number) => boolean): number {
    let n = 0;
    for (const w of this.queue) {
      if (w.command && !w.command.aborted && match(w.owner, w.command.lun)) {
        w.command.aborted = true;
        n++;
      }
    }
    return n;
  }

  /** Forgets everything queued without running it (the target stops). */
  discard(): void {
    for (const w of this.queue) if (w.command) w.command.aborted = true;
    this.queue = [];
    this.holding = false;
  }

  /** Unfreezes: everything queued runs in arrival order (aborted commands are skipped by their own `run`). */
  release(): void {
    this.holding = false;
    // Work that runs may queue more only if the member is held again meanwhile: take the queue first.
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i++) {
      if (this.holding) {
        // Held again from inside a run: the rest waits for the next release, still in order.
        this.queue = [...queue.slice(i), ...this.queue];
        return;
      }
      queue[i].run();
    }
  }
}
