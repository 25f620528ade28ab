// How every subcommand prints: JSON on --json, text otherwise; errors to stderr with a non-zero exit.
export function printResult(value: unknown, json: boolean, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

export function reportError(error: unknown): void {
  const e = error as { message?: string; code?: string; cause?: { message?: string } };
  // "No path" says little alone: the last path's error names what went wrong (still one line).
  const cause = e?.cause?.message && !e.message?.includes(e.cause.message) ? `; last error: ${e.cause.message}` : '';
  process.stderr.write(`iscsi-mpio: ${e?.message ?? String(error)}${e?.code ? ` (${e.code})` : ''}${cause}\n`.replace(/\n(?!$)/g, ' '));
  process.exitCode = typeof (error as { exitCode?: number })?.exitCode === 'number' ? (error as { exitCode: number }).exitCode : 1;
}

/** The process is exiting while the command never finished (from an 'exit' listener: synchronous only). */
export function reportUnfinished(): void {
  process.stderr.write('iscsi-mpio: the command ended without finishing: an operation never completed (EUNFINISHED)\n');
  process.exitCode = 1;
}

/** A problem that did not stop the command from doing its job: one line on stderr, the exit code unchanged. */
export function warn(message: string): void {
  process.stderr.write(`iscsi-mpio: warning: ${message}\n`);
}
