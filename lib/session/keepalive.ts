// Liveness of one connection (protocol.md §0 item 11; DESIGN "Failure semantics"): silence, never slowness, fails a
// path. Any PDU received counts as life. A NOP-Out ping goes out only after a stretch of silence, and the connection
// is declared dead when the ping stays unanswered (no PDU of any kind) for a deadline. Two regimes:
// - busy (commands outstanding): a short silence and a short deadline (defaults 500 ms + 500 ms), so a silently
//   cut path under load is found in about a second, while its siblings keep completing I/O;
// - idle: open-iscsi's noop_out_interval / noop_out_timeout (5 s + 5 s), so an idle path costs nothing.
// A saturated link or a slow target keeps sending PDUs (or answers the ping), so it is never declared dead. A tick
// that comes late (the event loop itself stalled: GC, a busy CPU) judges nothing: the silence was ours.
export interface KeepaliveTimers {
  /** Idle: ping after this much silence (ms). */
  idleIntervalMs: number;
  /** Idle: the ping's deadline (ms). */
  idleTimeoutMs: number;
  /** Commands outstanding: ping after this much silence (ms). */
  busyIntervalMs: number;
  /** Commands outstanding: the ping's deadline (ms). */
  busyTimeoutMs: number;
}

export const DEFAULT_KEEPALIVE: KeepaliveTimers = { idleIntervalMs: 5000, idleTimeoutMs: 5000, busyIntervalMs: 500, busyTimeoutMs: 500 };

export interface KeepaliveHooks {
  /** Whether commands are outstanding on the connection now. */
  busy(): boolean;
  ping(): void;
  /** No PDU for `silentMs`, the last ping unanswered for its deadline. Called once; the keepalive stops. */
  dead(silentMs: number): void;
  /** A clock for tests; default performance.now. */
  now?(): number;
}

export class Keepalive {
  private lastHeard: number;
  private pingSentAt = 0;
  private pingDeadline = 0;
  private lastTick: number;
  private readonly tickMs: number;
  private readonly timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly timers: KeepaliveTimers, private readonly hooks: KeepaliveHooks, autoStart = true) {
    this.now = hooks.now ?? (() => performance.now());
    this.lastHeard = this.now();
    this.lastTick = this.lastHeard;
    const shortest = Math.min(timers.busyIntervalMs, timers.busyTimeoutMs, timers.idleIntervalMs, timers.idleTimeoutMs);
    this.tickMs = Math.max(20, Math.floor(shortest / 4));
    if (autoStart) {
      this.timer = setInterval(() => this.check(), this.tickMs);
      this.timer.unref();
    }
  }

  /** A PDU arrived. */
  heard(): void {
    this.lastHeard = this.now();
    this.pingSentAt = 0;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private stopped = false;

  /** One tick of the timer (public for tests driving a fake clock). */
  check(): void {
    if (this.stopped) return;
    const now = this.now();
    const late = now - this.lastTick > 3 * this.tickMs;
    this.lastTick = now;
    if (late) return; // the loop stalled: what looks like silence may be PDUs we have not read yet
    const busy = this.hooks.busy();
    if (this.pingSentAt !== 0) {
      // A ping sent while idle gets the busy deadline once commands are waiting on the answer.
      const deadline = busy ? Math.min(this.pingDeadline, this.timers.busyTimeoutMs) : this.pingDeadline;
      if (now - this.pingSentAt >= deadline) {
        this.stop();
        this.hooks.dead(Math.round(now - this.lastHeard));
      }
      return;
    }
    if (now - this.lastHeard >= (busy ? this.timers.busyIntervalMs : this.timers.idleIntervalMs)) {
      this.pingSentAt = now;
      this.pingDeadline = busy ? this.timers.busyTimeoutMs : this.timers.idleTimeoutMs;
      this.hooks.ping();
    }
  }
}
