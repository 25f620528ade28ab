// What a test needs from the machine beyond Node (real peers such as tgtd, libiscsi's tools, iproute2, ethtool; root)
// and the one rule for when it is missing: locally the test skips with one line naming what to install or that root
// is needed; under CI=true it fails, because there a skip would hide a missing install step. Also runs a tool to
// its end.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The Debian package that provides each tool the tests and benchmarks run. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  tgtd: 'tgt', tgtadm: 'tgt',
  'iscsi-ls': 'libiscsi-bin', 'iscsi-inq': 'libiscsi-bin', 'iscsi-perf': 'libiscsi-bin', 'iscsi-test-cu': 'libiscsi-bin',
  'iscsi-readcapacity16': 'libiscsi-bin',
  ip: 'iproute2', ss: 'iproute2', tc: 'iproute2',
  ethtool: 'ethtool', nft: 'nftables', iperf3: 'iperf3', istgt: 'istgt',
  nbdinfo: 'libnbd-bin', nbdcopy: 'libnbd-bin', 'qemu-img': 'qemu-utils', 'qemu-io': 'qemu-utils', fio: 'fio', curl: 'curl',
};

export const isRoot = process.getuid?.() === 0;

export function haveTool(name: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try { accessSync(path.join(dir, name), constants.X_OK); return true; } catch { return false; }
  });
}

/**
 * The one place that decides skip or fail: `reason` is one line saying what is missing and how to get it. Skips
 * the test (or the hook's whole suite) locally; under CI=true throws instead.
 */
export function unavailable(context: Mocha.Context, reason: string): never {
  if (process.env.CI === 'true') throw new Error(`CI=true forbids skipping: ${reason}`);
  // eslint-disable-next-line no-console
  console.log(`      skipped: ${reason}`);
  context.skip();
}

/** Skips, under CI too, a test this machine cannot exercise whatever is installed (a CPU feature it has, say). */
export function notApplicable(context: Mocha.Context, reason: string): never {
  // eslint-disable-next-line no-console
  console.log(`      skipped: ${reason}`);
  context.skip();
}

/** Skips (fails under CI) unless every tool is on PATH, naming the apt packages that provide the missing ones. */
export function requireTools(context: Mocha.Context, ...names: string[]): void {
  const missing = names.filter((n) => !haveTool(n));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((n) => PACKAGE_OF[n] ?? n))];
  unavailable(context, `${missing.join(', ')} not installed (apt install ${packages.join(' ')})`);
}

/** Skips (fails under CI) unless running as root; `what` says what needs it (network namespaces, veth...). */
export function requireRoot(context: Mocha.Context, what: string): void {
  if (!isRoot) unavailable(context, `needs root (${what})`);
}

/** Runs a tool to its end (killed after `timeoutMs`): its exit code and stdout and stderr together. */
export function runTool(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}
