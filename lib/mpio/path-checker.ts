// The path checker (dm-multipath's `tur` checker, MSDSM path verification): every interval, a TEST UNIT READY on
// each failed path whose session is logged in; a session's 'reconnected' event checks its path at once. A path that
// answers is handed back to the device for reinstatement. One check per path at a time.
import type { Path } from './path';

export interface PathCheckerHooks {
  /** The path answered: reinstate it (the device may verify more first, e.g. ALUA state). */
  healthy(path: Path): Promise<void>;
  /** Runs once per interval after the checks (the device refreshes ALUA states here). */
  tick?(): Promise<void>;
}

export class PathChecker {
  private timer?: NodeJS.Timeout;
  private readonly busy = new Set<Path>();
  private stopped = false;

  constructor(private readonly paths: readonly Path[], readonly intervalMs: number, private readonly hooks: PathCheckerHooks) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs).unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Checks one failed path now (no-op when it is not failed, not logged in, or already being checked). */
  async check(path: Path): Promise<void> {
    if (this.stopped || !path.failed || path.session.state !== 'loggedIn' || this.busy.has(path)) return;
    this.busy.add(path);
    try {
      await path.lu.testUnitReady();
      if (!this.stopped) await this.hooks.healthy(path);
    } catch {
      // Still down: the next interval tries again.
    } finally {
      this.busy.delete(path);
    }
  }

  private async tick(): Promise<void> {
    await Promise.all(this.paths.map((p) => this.check(p)));
    if (!this.stopped) await this.hooks.tick?.().catch(() => undefined);
  }
}
