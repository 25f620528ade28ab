// How every subcommand prints: JSON on --json, text otherwise; errors to stderr with a non-zero exit.
export function printResult(value: unknown, json: boolean, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

export function reportError(error: unknown): void {
  const e = error as { message?: string; code?: string };
  process.stderr.write(`iscsi-mpio: ${e?.message ?? String(error)}${e?.code ? ` (${e.code})` : ''}\n`);
  process.exitCode = typeof (error as { exitCode?: number })?.exitCode === 'number' ? (error as { exitCode: number }).exitCode : 1;
}
