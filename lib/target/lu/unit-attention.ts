// Unit attention conditions queued per I_T nexus (SAM-5 §5.14, SPC-4 §5.14).

export class UnitAttentionQueue {
  private readonly pending = new Map<string, number[]>();

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

  /** Makes the nexus known to queueAll without queuing anything. */
  register(nexus: string): void {
    if (!this.pending.has(nexus)) this.pending.set(nexus, []);
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
