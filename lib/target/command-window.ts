// The session's CmdSN window (RFC 7143 §4.2.2.1): which non-immediate commands the target accepts, and the
// ExpCmdSN/MaxCmdSN it advertises. Serial-number arithmetic throughout (RFC 1982, 32 bits).
import { serialDiff } from '../wire/serial';

export class CommandWindow {
  private expected: number;
  /** CmdSNs received ahead of ExpCmdSN (a gap before them is still open). */
  private readonly ahead = new Set<number>();

  constructor(initialCmdSN: number, readonly depth: number) {
    this.expected = initialCmdSN >>> 0;
  }

  get expCmdSN(): number { return this.expected; }
  get maxCmdSN(): number { return (this.expected + this.depth - 1) >>> 0; }

  /**
   * Records a non-immediate command's CmdSN; false when it lies outside [ExpCmdSN, MaxCmdSN] or repeats one
   * already taken: such a command is dropped unanswered, as RFC 7143 §4.2.2.1 requires.
   */
  accept(cmdSN: number): boolean {
    const d = serialDiff(cmdSN, this.expected);
    if (d < 0 || d >= this.depth || this.ahead.has(cmdSN >>> 0)) return false;
    if (d > 0) {
      this.ahead.add(cmdSN >>> 0);
      return true;
    }
    this.expected = (this.expected + 1) >>> 0;
    while (this.ahead.delete(this.expected)) this.expected = (this.expected + 1) >>> 0;
    return true;
  }
}
