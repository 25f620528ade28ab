// Runs this package's CLI from sources in a child process, as a user would: arguments, environment, stdin; returns
// what it printed and its exit code.
import { spawn } from 'node:child_process';
import path from 'node:path';

const MAIN = path.join(__dirname, '..', '..', 'lib', 'cli', 'main.ts');
const TSX = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

export interface CliRun { stdout: Buffer; stderr: string; code: number }

export function runCli(args: string[], options: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr, code: code ?? -1 }));
    child.stdin.end(options.input ?? Buffer.alloc(0));
  });
}

/** Starts a long-running CLI command (e.g. `target`); `lines` collects stdout as it comes. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(TSX, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  return {
    child, exited,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    /** Resolves once stdout holds a complete JSON document (the command's startup summary). */
    async json<T>(timeoutMs = 20_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try { return JSON.parse(stdout) as T; } catch { /* not complete yet */ }
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no JSON from the CLI: ${stdout} ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

export interface TerminalRun { output: string; code: number; chunks: Array<{ at: number; text: string }> }

/**
 * Runs the CLI with a pseudo-terminal for stdin, stdout and stderr (util-linux `script`, flushing each write), as
 * a person at a terminal would; `redirect` is appended to the command line (e.g. `> file`). `chunks` are the
 * terminal's output as it arrived, each with its arrival time in ms since the start.
 */
export function runCliInTerminal(args: string[], redirect = '', env: NodeJS.ProcessEnv = {}): Promise<TerminalRun> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `${[TSX, MAIN, ...args].map(quote).join(' ')} ${redirect}`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const chunks: Array<{ at: number; text: string }> = [];
    child.stdout.on('data', (d: Buffer) => chunks.push({ at: performance.now() - started, text: d.toString() }));
    child.on('error', reject);
    child.on('close', (code) => resolve({ output: chunks.map((c) => c.text).join(''), code: code ?? -1, chunks }));
  });
}
