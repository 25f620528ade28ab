// How every subcommand prints: JSON on --json, text otherwise; one line per error on stderr, and the exit status of
// its class (exit-codes.ts). A reader that closes stdout early (`| head`) ends the command quietly.
import { CommanderError } from 'commander';
import { EXIT, exitCodeOf } from './exit-codes';

export function printResult(value: unknown, json: boolean, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

/** Writes a chunk of output, resolving once stdout took it (or drained) and rejecting when stdout failed. */
export function writeOut(chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stdoutError) { reject(stdoutError); return; }
    const onError = (error: Error) => { process.stdout.off('drain', onDrain); reject(error); };
    const onDrain = () => { process.stdout.off('error', onError); resolve(); };
    if (process.stdout.write(chunk, (error) => { if (error) onError(error); })) resolve();
    else { process.stdout.once('drain', onDrain); process.stdout.once('error', onError); }
  });
}

let stdoutError: NodeJS.ErrnoException | undefined;

/**
 * Handles stdout failing: EPIPE (the reader went away) is no error of ours and ends with 141 and no message; any
 * other (ENOSPC on `> /dev/full`) is one line and status 1. Commands writing in a loop see the error from writeOut
 * and stop; reportError does not print it twice.
 */
export function guardStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (stdoutError) return;
    stdoutError = error;
    if (error.code === 'EPIPE') { process.exitCode = EXIT.stdoutClosed; return; }
    process.stderr.write(`iscsi-mpio: cannot write the output: ${error.message}\n`);
    process.exitCode = EXIT.failure;
  });
}

export function reportError(error: unknown): void {
  const e = error as { message?: string; code?: string };
  const isStdoutError = stdoutError !== undefined && (error === stdoutError || e?.code === stdoutError.code);
  if (isStdoutError) {
    process.exitCode = stdoutError!.code === 'EPIPE' ? EXIT.stdoutClosed : EXIT.failure;
    return;
  }
  // commander has printed its own message (and the help); a typed error gets one line with its code.
  if (!(error instanceof CommanderError) && e?.code !== 'EPIPE') {
    process.stderr.write(`iscsi-mpio: ${e?.message ?? String(error)}${e?.code ? ` (${e.code})` : ''}\n`);
  }
  process.exitCode = exitCodeOf(error);
}
