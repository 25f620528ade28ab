// The real peers the tests and benchmarks drive (tgtd, libiscsi's tools, iperf3…): whether one is installed, the
// test's answer when it is not (a skip locally, a failure under CI), and running one to completion.
import { spawn, spawnSync } from 'node:child_process';

export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export function requireTools(context: Mocha.Context, ...names: string[]): void {
  const missing = names.filter((n) => !haveTool(n));
  if (missing.length === 0) return;
  const message = `${missing.join(', ')} not installed (apt install tgt libiscsi-bin)`;
  if (process.env.CI === 'true') throw new Error(`CI: ${message}`);
  // eslint-disable-next-line no-console
  console.log(`      skipped: ${message}`);
  context.skip();
}

/** Runs a tool to its end (killed after `timeoutMs`): its exit code and stdout and stderr together. */
export function runTool(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}
