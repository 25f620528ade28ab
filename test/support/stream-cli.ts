// Runs `iscsi-mpio read|write` from sources as one node process (no tsx wrapper process in between, so its memory
// is the CLI's own), streams a generated input into it or hashes what it prints, and reports its peak resident
// memory (VmHWM from /proc/<pid>/status, written at exit by report-peak-memory.cjs). Shared by the streaming test
// and bench/cli-stream.ts.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAIN = path.join(__dirname, '..', '..', 'lib', 'cli', 'main.ts');
const PRELOAD = path.join(__dirname, 'report-peak-memory.cjs');
const PIECE = 1 << 20;

export interface StreamRun { code: number; stdout: Buffer; stderr: string; sha256: string; bytes: number; peakKiB: number; seconds: number }

/** `bytes` of a pseudo-random stream (AES-CTR keystream of `seed`): fast, and the same for the same seed. */
export function* generated(bytes: number, seed: string): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(PIECE);
  for (let left = bytes; left > 0; left -= PIECE) yield cipher.update(zeros.subarray(0, Math.min(PIECE, left)));
}

/**
 * Runs the CLI with `args`. With `input`, streams it to stdin (`sha256` is then of the input); otherwise stdin is
 * empty and `sha256`/`bytes` are of stdout (kept whole in `stdout` only up to `keepStdout` bytes).
 */
export async function runStreamingCli(args: string[], options: { input?: Iterable<Buffer>; keepStdout?: number } = {}): Promise<StreamRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iscsi-mpio-peak-'));
  const peakFile = path.join(dir, 'vmhwm');
  const started = process.hrtime.bigint();
  try {
    const child = spawn(process.execPath, ['--require', PRELOAD, '--import', 'tsx', MAIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ISCSI_MPIO_VMHWM_FILE: peakFile },
    });
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      if (options.input) { kept.push(d); return; }
      hash.update(d);
      bytes += d.length;
      if (bytes <= (options.keepStdout ?? 0)) kept.push(d);
    });
    const closed = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
    });
    child.stdin.on('error', () => undefined); // the CLI may stop reading early (--length, an error): EPIPE here is its answer
    if (options.input) {
      for (const piece of options.input) {
        hash.update(piece);
        bytes += piece.length;
        if (!child.stdin.write(piece)) {
          const more = await Promise.race([new Promise((r) => child.stdin.once('drain', () => r(true))), closed.then(() => false)]);
          if (!more) break;
        }
      }
    }
    child.stdin.end();
    const code = await closed;
    const peak = readFileSync(peakFile, 'utf8');
    return {
      code, stdout: Buffer.concat(kept), stderr, sha256: hash.digest('hex'), bytes, peakKiB: Number(peak),
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
