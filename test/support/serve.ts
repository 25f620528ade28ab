// Runs `iscsi-mpio serve` from sources as a user would (node + tsx, so signals reach the service itself), waits for
// its "ready" line, and stops it with SIGTERM, returning its exit code. Also runs the other service commands and
// the real NBD clients the tests drive it with.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runTool } from './tools';

const MAIN = path.join(__dirname, '..', '..', 'lib', 'cli', 'main.ts');

export interface ServeProcess {
  child: ChildProcess;
  readonly stderr: string;
  readonly stdout: string;
  /** SIGTERM, then the exit code (128+n when a signal ended it). */
  stop(): Promise<number>;
  exited: Promise<number>;
}

export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  const s: ServeProcess = {
    child, exited,
    get stderr() { return stderr; },
    get stdout() { return stdout; },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!/ready: /.test(stderr)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`serve did not get ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return s;
}

/** Runs a CLI command to its end (node + tsx). */
export function iscsiMpio(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  return runTool(process.execPath, ['--import', 'tsx', MAIN, ...args], timeoutMs);
}

/** The Unix socket NBD URI of a served node (as `status` prints it). */
export function nbdUri(runtimeDir: string, node: string): string {
  return `nbd+unix:///${node}?socket=${path.join(runtimeDir, `${node}.nbd`)}`;
}

/** The SHA-256 of a file's bytes, hex. */
export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A file of `bytes` random bytes (in 1 MiB pieces). */
export function randomFile(file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w');
  for (let at = 0; at < bytes; at += 1 << 20) fs.writeSync(fd, randomBytes(Math.min(1 << 20, bytes - at)));
  fs.closeSync(fd);
}
