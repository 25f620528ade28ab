// How every subcommand prints: JSON on --json, text otherwise; errors to stderr as one line with a non-zero exit
// (2 for a command line that cannot work as given). Nothing printed may carry a CHAP secret: messages quoting a
// URL redact it where they are made (IscsiUrlError, the bench chart), and as a last guard every secret the command
// was given is blanked out of its messages here.

const USAGE_CODES: ReadonlySet<string> = new Set(['EUSAGE', 'EUNIT', 'EARGUMENT', 'EURL']);
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

export function reportError(error: unknown): void {
  const e = error as { message?: string; code?: string; exitCode?: number; cause?: { message?: string } };
  // "No path" says little alone: the last path's error names what went wrong (still one line).
  const cause = e?.cause?.message && !e.message?.includes(e.cause.message) ? `; last error: ${e.cause.message}` : '';
  process.stderr.write(scrubSecrets(`iscsi-mpio: ${e?.message ?? String(error)}${e?.code ? ` (${e.code})` : ''}${cause}`).replace(/\n/g, ' ') + '\n');
  process.exitCode = typeof e?.exitCode === 'number' ? e.exitCode : USAGE_CODES.has(e?.code ?? '') ? 2 : 1;
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
