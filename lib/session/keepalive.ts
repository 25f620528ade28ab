// Liveness of one connection (protocol.md §0 item 11; DESIGN "Failure semantics"): silence, never slowness, fails a
// path. Any PDU received counts as life. A NOP-Out ping goes out only after a stretch of silence, and the connection
// is declared dead when the ping stays unanswered (no PDU of any kind) for a deadline. Two regimes:
// - busy (commands outstanding): a short silence and a short deadline (defaults 500 ms + 500 ms), so a silently
//   cut path under load is found in about a second, while its siblings keep completing I/O;
// - idle: open-iscsi's noop_out_interval / noop_out_timeout (5 s + 5 s), so an idle path costs nothing.
// - task management outstanding: the idle timers, busy or not. A target may run a reset before it reads anything
//   else (istgt is silent for about 1 s over a LOGICAL UNIT RESET), and the request has its own timeout that takes
//   the connection down; the multipath fence sends its reset over a working path, which must not fail for it.
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
  /** Whether the target may be silent now (a task management request is outstanding): the idle timers apply. */
  mayBeSilent?(): boolean;
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
    const patient = this.hooks.mayBeSilent?.() ?? false;
    const busy = !patient && this.hooks.busy();
    if (this.pingSentAt !== 0) {
      // A ping sent while idle gets the busy deadline once commands are waiting on the answer; one sent while busy
      // gets the idle deadline once the target may be silent.
      const deadline = patient ? Math.max(this.pingDeadline, this.timers.idleTimeoutMs)
        : busy ? Math.min(this.pingDeadline, this.timers.busyTimeoutMs) : this.pingDeadline;
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
