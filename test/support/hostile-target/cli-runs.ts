// Runs the `iscsi-mpio` CLI (from source, through tsx) against a hostile target, many times, with another process
// keeping one core busy: the races this finds (a promise nobody settles, so the event loop empties and the process
// exits 0 with nothing done) show up more often under CPU load. Used by a test (a few runs) and by
// bench/cli-hostile-loop.ts (hundreds).
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');
const MAIN = path.join(ROOT, 'lib', 'cli', 'main.ts');

export interface CliRun { code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stdoutBytes: number; stderr: string; ms: number }

/** One CLI run to its end (SIGKILL after `timeoutMs`). */
export function runCli(args: string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    // tsx as a loader in one node process: half a second less per run than its launcher.
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout.push(d); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout);
      resolve({ code, signal, stdout: out, stdoutBytes: out.length, stderr, ms: Date.now() - started });
    });
  });
}

/** A process spinning on one core until stop() (kills it by its own pid). */
export function busyCore(): { stop: () => void } {
  const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  return { stop: () => { child.kill('SIGKILL'); } };
}

export interface LoopSummary { runs: number; byCode: Record<string, number>; exitedZero: CliRun[]; badStderr: CliRun[]; stderrSamples: Record<string, number> }

/**
 * `runs` CLI runs of `args`, `concurrency` at a time, one core kept busy throughout. Counts exit codes, keeps every
 * run that exited 0 and every run whose stderr is not exactly one line.
 */
export async function cliLoop(args: string[], runs: number, concurrency = 2, onRun?: (i: number, r: CliRun) => void): Promise<LoopSummary> {
  const busy = busyCore();
  const summary: LoopSummary = { runs: 0, byCode: {}, exitedZero: [], badStderr: [], stderrSamples: {} };
  try {
    let next = 0;
    const worker = async () => {
      while (next < runs) {
        const i = next++;
        const r = await runCli(args);
        summary.runs++;
        const key = r.signal ?? String(r.code);
        summary.byCode[key] = (summary.byCode[key] ?? 0) + 1;
        if (r.code === 0) summary.exitedZero.push(r);
        const lines = r.stderr.split('\n').filter((l) => l.length > 0);
        if (lines.length !== 1) summary.badStderr.push(r);
        // Group messages by their shape (numbers out) to show which violations were met.
        const shape = (lines[0] ?? '(none)').replace(/0x[0-9a-f]+|\d+/g, 'N');
        summary.stderrSamples[shape] = (summary.stderrSamples[shape] ?? 0) + 1;
        onRun?.(i, r);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    busy.stop();
  }
  return summary;
}
