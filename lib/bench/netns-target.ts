// The embedded target as a child process inside a ShapedPaths namespace (`iscsi-mpio target --json`), so its
// listeners live behind the shaped veths. Resolves once the target has printed its portals.
import type { ChildProcess } from 'node:child_process';
import type { Portal } from '../portal';
import { cliCommand } from './cli-child';
import { ShapedPathsError, type ShapedPaths } from './shaped-paths';

export interface TargetSummary {
  iqn: string;
  portals: Array<{ role: 'group' | 'member'; address: string; port: number; tpgt: number }>;
  luns: Array<{ lun: number; bytes: number }>;
}

export interface NamespaceTarget {
  summary: TargetSummary;
  group: Portal;
  members: string[];
  pid: number | undefined;
  /** SIGTERM (clean logout of its side), SIGKILL after 2 s. */
  stop(): Promise<void>;
}

/** Reads the target's --json summary from its stdout (it keeps running after printing it). */
function summaryOf(child: ChildProcess, ms: number): Promise<TargetSummary> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const done = (error?: Error, summary?: TargetSummary) => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.removeListener('exit', exited);
      if (error) reject(error); else resolve(summary!);
    };
    const timer = setTimeout(() => done(new ShapedPathsError(`the target in the namespace did not start within ${ms} ms${err ? `: ${err.trim()}` : ''}`)), ms);
    const exited = (code: number | null) => done(new ShapedPathsError(`the target in the namespace exited with ${code}: ${err.trim()}`));
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      try { done(undefined, JSON.parse(out) as TargetSummary); } catch { /* not all of it yet */ }
    });
    child.once('exit', exited);
  });
}

/** `targetArgs` are `iscsi-mpio target` flags (without --json). */
export async function startTargetInNamespace(net: ShapedPaths, targetArgs: string[]): Promise<NamespaceTarget> {
  const cli = cliCommand(['target', ...targetArgs, '--json']);
  const child = net.spawnInside(cli.command, cli.args, { cwd: cli.cwd });
  const summary = await summaryOf(child, 20_000);
  const group = summary.portals.find((p) => p.role === 'group');
  if (!group) throw new ShapedPathsError('the target in the namespace has no group portal');
  return {
    summary, pid: child.pid, group: { address: group.address, port: group.port },
    members: summary.portals.filter((p) => p.role === 'member').map((m) => `${m.address}:${m.port}`),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
