// The session's command window (RFC 7143 §4.2.2.1): CmdSN to assign next, and the target's ExpCmdSN/MaxCmdSN.
// Non-immediate commands may go out only while CmdSN ≤ MaxCmdSN; the rest wait here in order.
import { serialAdd, serialLe, serialLt } from '../wire/serial';

export class CommandWindow {
  private next: number;
  private expCmdSN: number;
  private maxCmdSN: number;
  private readonly waiting: Array<(cmdSN: number) => void> = [];
  private paused = false;

  constructor(cmdSN: number, expCmdSN: number, maxCmdSN: number) {
    this.next = cmdSN >>> 0;
    this.expCmdSN = expCmdSN >>> 0;
    this.maxCmdSN = maxCmdSN >>> 0;
  }

  /** The CmdSN a new non-immediate command would carry; immediate PDUs carry it without taking it. */
  get current(): number { return this.next; }
  get queued(): number { return this.waiting.length; }
  /** How many more commands the target accepts now. */
  get open(): number { return this.paused ? 0 : Math.max(0, ((this.maxCmdSN - this.next) | 0) + 1); }
  get window(): { cmdSN: number; expCmdSN: number; maxCmdSN: number } {
    return { cmdSN: this.next, expCmdSN: this.expCmdSN, maxCmdSN: this.maxCmdSN };
  }

  /** Runs `issue` with its CmdSN now if the window is open, else when it opens (in submission order). */
  issue(issue: (cmdSN: number) => void): void {
    if (this.waiting.length === 0 && this.canIssue()) issue(this.take());
    else this.waiting.push(issue);
  }

  /** Removes a waiting command (it timed out or was cancelled); false when it was already issued. */
  cancel(issue: (cmdSN: number) => void): boolean {
    const i = this.waiting.indexOf(issue);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  /** Takes the window from a target PDU; ignores a stale or inconsistent update (Linux __iscsi_update_cmdsn). */
  update(expCmdSN: number, maxCmdSN: number): void {
    // MaxCmdSN < ExpCmdSN - 1 is invalid: ignore the whole update.
    if (serialLt(maxCmdSN, serialAdd(expCmdSN, -1))) return;
    if (serialLt(this.expCmdSN, expCmdSN)) this.expCmdSN = expCmdSN >>> 0;
    if (serialLt(this.maxCmdSN, maxCmdSN)) this.maxCmdSN = maxCmdSN >>> 0;
    this.drain();
  }

  /** Holds every new command (the target asked us to log out: drain, then log in again). */
  pause(): void { this.paused = true; }

  /** A new login gave a new window; waiting commands go out on it. */
  restart(cmdSN: number, expCmdSN: number, maxCmdSN: number): void {
    this.next = cmdSN >>> 0;
    this.expCmdSN = expCmdSN >>> 0;
    this.maxCmdSN = maxCmdSN >>> 0;
    this.paused = false;
    this.drain();
  }

  /** Every waiting command, removed (the session failed). */
  takeWaiting(): Array<(cmdSN: number) => void> { return this.waiting.splice(0); }

  private canIssue(): boolean { return !this.paused && serialLe(this.next, this.maxCmdSN); }

  private take(): number {
    const sn = this.next;
    this.next = serialAdd(this.next, 1);
    return sn;
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.canIssue()) this.waiting.shift()!(this.take());
  }
}
