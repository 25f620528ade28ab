// Liveness of one connection (protocol.md §0 item 11): any PDU received counts as life, a NOP-Out ping goes out
// only after `intervalMs` of silence, and the connection is declared dead when a ping stays unanswered (no PDU of
// any kind) for `timeoutMs`. A saturated link never gets pinged, so it is never falsely declared dead.
export class Keepalive {
  private lastHeard = Date.now();
  private pingSentAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly intervalMs: number, private readonly timeoutMs: number, private readonly ping: () => void, private readonly onDead: (silentMs: number) => void) {
    const tick = Math.max(50, Math.min(intervalMs, timeoutMs) / 2);
    this.timer = setInterval(() => this.check(), tick);
    this.timer.unref();
  }

  /** A PDU arrived. */
  heard(): void {
    this.lastHeard = Date.now();
    this.pingSentAt = 0;
  }

  stop(): void { clearInterval(this.timer); }

  private check(): void {
    const now = Date.now();
    if (this.pingSentAt !== 0) {
      if (now - this.pingSentAt >= this.timeoutMs) {
        this.stop();
        this.onDead(now - this.lastHeard);
      }
    } else if (now - this.lastHeard >= this.intervalMs) {
      this.pingSentAt = now;
      this.ping();
    }
  }
}
