// Runs `iscsi-mpio serve` from sources as a user would (node + tsx, so signals reach the service itself), waits for
// its "ready" line, and stops it with SIGTERM, returning its exit code. Also runs the other service commands and
// the real NBD clients the tests drive it with, and the TRIM check both service tests run.
import assert from 'node:assert/strict';
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

/**
 * Fills the export with random bytes (nbdcopy), checks nbdinfo offers TRIM, calls `beforeTrim`, trims `range` with
 * fio's nbd engine and reads the export back (nbdcopy): the range is zeros, every other byte unchanged.
 */
export async function trimThroughNbd(uri: string, dir: string, size: number, range: { offset: number; bytes: number }, beforeTrim?: () => void): Promise<void> {
  const image = path.join(dir, 'trim-in.img');
  const back = path.join(dir, 'trim-out.img');
  try {
    randomFile(image, size);
    const put = await runTool('nbdcopy', [image, uri], 180_000);
    assert.equal(put.code, 0, put.out);
    const info = await runTool('nbdinfo', ['--json', uri]);
    assert.equal(JSON.parse(info.out).exports[0].can_trim, true, `nbdinfo offers TRIM: ${info.out}`);
    beforeTrim?.();
    const trim = await runTool('fio', ['--name=trim', '--ioengine=nbd', `--uri=${uri}`, '--output-format=json', '--rw=trim', '--bs=1M',
      `--offset=${range.offset}`, `--size=${range.bytes}`, '--iodepth=4'], 120_000);
    assert.equal(trim.code, 0, trim.out);
    const job = JSON.parse(trim.out.slice(trim.out.indexOf('{'))).jobs[0];
    assert.equal(job.error, 0);
    assert.equal(job.trim.io_bytes, range.bytes);
    const get = await runTool('nbdcopy', [uri, back], 180_000);
    assert.equal(get.code, 0, get.out);
    // In pieces, awaiting between them: the embedded target may share this process, and a long synchronous stretch
    // would read to the service as a target gone silent.
    const [want, got] = [await fs.promises.open(image), await fs.promises.open(back)];
    try {
      const piece = 4 << 20;
      const [a, b] = [Buffer.alloc(piece), Buffer.alloc(piece)];
      const zeros = Buffer.alloc(piece);
      let sawData = false;
      for (let at = 0; at < size; at += piece) {
        const n = Math.min(piece, size - at);
        await want.read(a, 0, n, at);
        await got.read(b, 0, n, at);
        // Pieces are aligned with the range (both are MiB multiples here), so each is wholly in or out of it.
        const trimmed = at >= range.offset && at < range.offset + range.bytes;
        if (trimmed) sawData ||= !a.subarray(0, n).equals(zeros.subarray(0, n));
        assert.ok(b.subarray(0, n).equals(trimmed ? zeros.subarray(0, n) : a.subarray(0, n)),
          `bytes ${at}..${at + n} ${trimmed ? 'were trimmed and must read as zeros' : 'are outside the range and must be unchanged'}`);
      }
      assert.ok(sawData, 'the range held data before the trim');
    } finally {
      await want.close();
      await got.close();
    }
  } finally {
    fs.rmSync(image, { force: true });
    fs.rmSync(back, { force: true });
  }
}
