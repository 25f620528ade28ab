// The demo over real paths (root): two veth pairs into a network namespace, tbf 1gbit on both ends, the embedded
// target running inside the namespace as `iscsi-mpio target` (group portal on path 0's far address, one member per
// path), the initiator here with each path bound to its veth and source address.
import type { ChildProcess } from 'node:child_process';
import { cliCommand } from '../bench/cli-child';
import { requireRootForNetns, ShapedPaths, ShapedPathsError } from '../bench/shaped-paths';
import type { DemoTopology } from './topology';

interface TargetSummary { iqn: string; portals: Array<{ role: 'group' | 'member'; address: string; port: number }>; luns: Array<{ lun: number; bytes: number }> }

/** Reads the target's --json summary from its stdout (it stays running after printing it). */
function summaryOf(child: ChildProcess, ms: number): Promise<TargetSummary> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => done(new ShapedPathsError(`the target in the namespace did not start within ${ms} ms${err ? `: ${err.trim()}` : ''}`)), ms);
    const done = (error?: Error, summary?: TargetSummary) => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.removeAllListeners('exit');
      if (error) reject(error); else resolve(summary!);
    };
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      try { done(undefined, JSON.parse(out) as TargetSummary); } catch { /* not all of it yet */ }
    });
    child.once('exit', (code) => done(new ShapedPathsError(`the target in the namespace exited with ${code}: ${err.trim()}`)));
  });
}

export async function startNetnsTopology(rate = '1gbit'): Promise<DemoTopology> {
  requireRootForNetns('demo --netns');
  const net = ShapedPaths.create({ paths: 2, rate });
  try {
    const [a, b] = net.paths;
    const cli = cliCommand(['target', '--group', `${a.peerAddress}:3260`, '--portal', `${a.peerAddress}:3261`, '--portal', `${b.peerAddress}:3261`, '--lun', '256M', '--json']);
    const child = net.spawnInside(cli.command, cli.args, { cwd: cli.cwd });
    const summary = await summaryOf(child, 20_000);
    const group = summary.portals.find((p) => p.role === 'group')!;
    const members = summary.portals.filter((p) => p.role === 'member');
    let closed = false;
    return {
      description: [
        `network namespace ${net.namespace}; ${net.paths.length} veth pairs, tc tbf ${rate} on both ends of each`,
        ...net.paths.map((p) => `path ${p.index}: ${p.hostDevice} ${p.hostAddress}/30 <-> ${p.peerDevice} ${p.peerAddress}/30`),
        `embedded target ${summary.iqn} in the namespace (pid ${child.pid}), LUN 1 of ${summary.luns[0].bytes / 2 ** 20} MiB`,
        `group portal ${group.address}:${group.port}; members ${members.map((m) => `${m.address}:${m.port}`).join(', ')} (no pacing: the links are shaped)`,
      ],
      iqn: summary.iqn, lun: 1, group: { host: group.address, port: group.port },
      members: members.map((m) => `${m.address}:${m.port}`),
      paths: net.paths.map((p) => ({ sourceAddress: p.hostAddress, device: p.hostDevice })),
      sessionCount: () => undefined,
      close: async () => {
        if (closed) return;
        closed = true;
        // SIGTERM first so the target logs out cleanly; destroy() kills whatever is left.
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
        }
        net.destroy();
      },
    };
  } catch (error) {
    net.destroy();
    throw error;
  }
}
