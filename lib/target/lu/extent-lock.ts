// Serialises commands that read-modify-write blocks (COMPARE AND WRITE, ORWRITE) against every other command
// that modifies the same blocks, so the read and the write form one atomic step (SBC-4 §5.3). With a memory
// store everything runs synchronously within one call and nothing is ever held; only asynchronous (file)
// stores queue here.

interface Held { start: number; end: number; done: Promise<unknown> }

export class ExtentLock {
  private readonly held: Held[] = [];

  /**
   * Runs `fn` once no earlier holder overlaps [start, start + count); holds the extent until fn's result settles.
   * Runs fn at once (and returns its value unchanged) when nothing overlaps.
   */
  run<T>(start: number, count: number, fn: () => T | Promise<T>): T | Promise<T> {
    const end = start + Math.max(count, 1);
    const waits = this.held.filter((h) => h.start < end && start < h.end).map((h) => h.done.catch(() => undefined));
    const result = waits.length === 0 ? fn() : Promise.all(waits).then(fn);
    if (!(result instanceof Promise)) return result;
    const entry: Held = { start, end, done: result };
    this.held.push(entry);
    const release = () => { this.held.splice(this.held.indexOf(entry), 1); };
    result.then(release, release);
    return result;
  }
}
