// How every subcommand prints: JSON on --json, text otherwise; one line per error on stderr, and the exit status of
// its class (exit-codes.ts). A reader that closes stdout early (`| head`) ends the command quietly. Nothing printed
// may carry a CHAP secret: messages quoting a URL redact it where they are made (IscsiUrlError, the bench chart),
// and as a last guard every secret the command was given is blanked out of its messages here.
import { CommanderError } from 'commander';
import { EXIT, exitCodeOf } from './exit-codes';

const secrets = new Set<string>();

/** Registers a secret this process holds, so that no message of the CLI prints it. */
export function keepSecret(secret: string): void {
  if (secret.length > 0) secrets.add(secret);
}

/** `text` with every registered secret replaced by `***`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

export function printResult(value: unknown, json: boolean, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

/** Writes a chunk of output, resolving once stdout took it (or drained) and rejecting when stdout failed. */
export function writeOut(chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stdoutError) { reject(stdoutError); return; }
    const onError = (error: NodeJS.ErrnoException) => { process.stdout.off('drain', onDrain); stdoutFailed(error); reject(error); };
    const onDrain = () => { process.stdout.off('error', onError); resolve(); };
    if (process.stdout.write(chunk, (error) => { if (error) onError(error); })) resolve();
    else { process.stdout.once('drain', onDrain); process.stdout.once('error', onError); }
  });
}

let stdoutError: NodeJS.ErrnoException | undefined;

/**
 * Stdout failed: EPIPE (the reader went away) is no error of ours and ends with 141 and no message; any other
 * (ENOSPC on `> /dev/full`) is one line and status 1. Once, whether the write's callback or the stream says it first.
 */
function stdoutFailed(error: NodeJS.ErrnoException): void {
  if (stdoutError) return;
  stdoutError = error;
  if (error.code === 'EPIPE') { process.exitCode = EXIT.stdoutClosed; return; }
  process.stderr.write(`iscsi-mpio: cannot write the output: ${error.message}\n`);
  process.exitCode = EXIT.failure;
}

/** Commands writing in a loop see stdout failing from writeOut and stop; the others end with its status. */
export function guardStdout(): void {
  process.stdout.on('error', stdoutFailed);
}

export function reportError(error: unknown): void {
  const e = error as { message?: string; code?: string; cause?: { message?: string } };
  // Reported when it happened, with its status.
  if (error === stdoutError) return;
  // commander has printed its own line; a typed error gets one line with its code.
  if (!(error instanceof CommanderError)) {
    // "No path" says little alone: the last path's error names what went wrong (still one line).
    const cause = e?.cause?.message && !e.message?.includes(e.cause.message) ? `; last error: ${e.cause.message}` : '';
    process.stderr.write(scrubSecrets(`iscsi-mpio: ${e?.message ?? String(error)}${e?.code ? ` (${e.code})` : ''}${cause}`).replace(/\n/g, ' ') + '\n');
  }
  process.exitCode = exitCodeOf(error);
}

/** The process is exiting while the command never finished (from an 'exit' listener: synchronous only). */
export function reportUnfinished(): void {
  process.stderr.write('iscsi-mpio: the command ended without finishing: an operation never completed (EUNFINISHED)\n');
  process.exitCode = EXIT.failure;
}

/** A problem that did not stop the command from doing its job: one line on stderr, the exit code unchanged. */
export function warn(message: string): void {
  process.stderr.write(scrubSecrets(`iscsi-mpio: warning: ${message}`) + '\n');
}
