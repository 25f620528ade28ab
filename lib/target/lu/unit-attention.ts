// Unit attention conditions queued per I_T nexus (SAM-5 §5.14, SPC-4 §5.14).

export class UnitAttentionQueue {
  private readonly pending = new Map<string, number[]>();
  // The last reset: every nexus sees it once, also one that first shows up after it (SAM-5 §6.3.3: a reset
  // establishes the unit attention for all initiators, not just those that happened to have sent a command).
  private lastReset: { pair: number; reached: Set<string> } | undefined;

  /** Queues asc/ascq for one nexus; a power-on/reset (29/xx) replaces everything queued before it. */
  queue(nexus: string, asc: number, ascq: number): void {
    const pair = (asc << 8) | ascq;
    const list = asc === 0x29 ? [] : this.pending.get(nexus) ?? [];
    if (!list.includes(pair)) list.push(pair);
    this.pending.set(nexus, list);
  }

  /** Queues for every nexus seen so far (e.g. ALUA state or capacity changed). */
  queueAll(asc: number, ascq: number): void {
    for (const nexus of this.pending.keys()) this.queue(nexus, asc, ascq);
  }

  /** A reset condition (29/xx) for every nexus: those known now and any that registers later, once each. */
  queueReset(ascq: number): void {
    this.lastReset = { pair: 0x2900 | ascq, reached: new Set(this.pending.keys()) };
    this.queueAll(0x29, ascq);
  }

  /** Makes the nexus known to queueAll; a nexus new since the last reset gets that reset's condition. */
  register(nexus: string): void {
    if (this.pending.has(nexus)) return;
    this.pending.set(nexus, []);
    const reset = this.lastReset;
    if (reset && !reset.reached.has(nexus)) {
      reset.reached.add(nexus);
      this.queue(nexus, reset.pair >> 8, reset.pair & 0xff);
    }
  }

  forget(nexus: string): void {
    this.pending.delete(nexus);
  }

  has(nexus: string): boolean {
    return (this.pending.get(nexus)?.length ?? 0) > 0;
  }

  /** Removes and returns the oldest pending condition as asc << 8 | ascq. */
  take(nexus: string): number | undefined {
    return this.pending.get(nexus)?.shift();
  }

  /** Drops one condition if queued (REPORT LUNS clears 3F/0E). */
  clear(nexus: string, asc: number, ascq: number): void {
    const list = this.pending.get(nexus);
    if (!list) return;
    const i = list.indexOf((asc << 8) | ascq);
    if (i >= 0) list.splice(i, 1);
  }
}
