// Real multi-path networks for the demo's --netns and bench/multipath.ts (DESIGN.md "Test and bench networks"):
// one network namespace for the far end, one veth pair per path (host end here, peer end in the namespace), each
// /30 from 198.18.0.0/15, `tc tbf` at the link rate on both ends to emulate 1 GbE. Root only. Torn down by
// destroy(), and on process exit as a safety net, so a failure or Ctrl-C leaves nothing behind.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ShapedPath {
  index: number;
  /** Host-side veth (bind the path's socket to it) and its address. */
  hostDevice: string;
  hostAddress: string;
  /** The namespace-side veth and its address (where the far end listens). */
  peerDevice: string;
  peerAddress: string;
}

export interface ShapedPathsOptions {
  paths: number;
  /** tc rate, default 1gbit. */
  rate?: string;
  /** Distinguishes concurrent runs; default the pid. Also picks the /24: 198.18.<id & 255>.0 (198.19 above 255). */
  id?: number;
  /** Start of the namespace and veth names (default "imp"), so concurrent users keep apart; at most 5 characters. */
  prefix?: string;
}

/** `code` EACCES when root is missing, ENETNS when a namespace, veth or qdisc step failed. */
export class ShapedPathsError extends Error {
  override name = 'ShapedPathsError';
  constructor(message: string, readonly code: 'ENETNS' | 'EACCES' = 'ENETNS') { super(message); }
}

/** Runs a command, throwing with its stderr. */
function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new ShapedPathsError(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

export function requireRootForNetns(what: string): void {
  if (process.getuid?.() !== 0) throw new ShapedPathsError(`${what} needs root (network namespaces, veth, tc); run it as root or without --netns`, 'EACCES');
  try {
    sh('ip', ['-V']);
    sh('tc', ['-V']);
  } catch {
    throw new ShapedPathsError(`${what} needs iproute2 (ip, tc)`);
  }
}

export class ShapedPaths {
  readonly namespace: string;
  readonly paths: ShapedPath[] = [];
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;
  private readonly onExit = () => this.destroy();

  private constructor(readonly id: number, readonly rate: string, readonly prefix: string) {
    this.namespace = `${prefix}${id}`;
  }

  static create(o: ShapedPathsOptions): ShapedPaths {
    if (!(o.paths >= 1 && o.paths <= 8)) throw new RangeError(`paths ${o.paths}: use 1..8`);
    const id = (o.id ?? process.pid) % 100000;
    const prefix = o.prefix ?? 'imp';
    // Interface names are at most 15 bytes: prefix + a 5-digit id + "h" + the path index.
    if (!/^[a-z]{1,5}$/.test(prefix)) throw new RangeError(`prefix "${prefix}": use 1 to 5 lowercase letters`);
    const net = new ShapedPaths(id, o.rate ?? '1gbit', prefix);
    process.once('exit', net.onExit);
    try {
      net.build(o.paths);
    } catch (error) {
      net.destroy();
      throw error;
    }
    return net;
  }

  private build(count: number): void {
    const ns = this.namespace;
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // 198.18.0.0/15 has 512 /24s; each run takes one, each path a /30 inside it.
    const subnet = `198.${18 + ((this.id >> 8) & 1)}.${this.id & 0xff}`;
    for (let i = 0; i < count; i++) {
      const p: ShapedPath = {
        index: i, hostDevice: `${this.prefix}${this.id}h${i}`, peerDevice: `${this.prefix}${this.id}n${i}`,
        hostAddress: `${subnet}.${i * 4 + 1}`, peerAddress: `${subnet}.${i * 4 + 2}`,
      };
      sh('ip', ['link', 'add', p.hostDevice, 'type', 'veth', 'peer', 'name', p.peerDevice, 'netns', ns]);
      this.paths.push(p);
      sh('ip', ['addr', 'add', `${p.hostAddress}/30`, 'dev', p.hostDevice]);
      sh('ip', ['-n', ns, 'addr', 'add', `${p.peerAddress}/30`, 'dev', p.peerDevice]);
      // Both directions shaped: reads are limited on the far end's egress, writes on ours.
      for (const [prefix, dev] of [[[], p.hostDevice], [['-n', ns], p.peerDevice]] as const) {
        sh('tc', [...prefix, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', this.rate, 'burst', '256kb', 'latency', '10ms']);
        sh('ip', [...prefix, 'link', 'set', dev, 'up']);
      }
    }
  }

  /** Starts `command` inside the namespace; it is killed by destroy(). */
  spawnInside(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.namespace, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Kills what runs inside, deletes the host veth ends (their peers go with them) and the namespace. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    for (const c of this.children) c.kill('SIGKILL');
    for (const p of this.paths) {
      try { execFileSync('ip', ['link', 'del', p.hostDevice], { stdio: 'ignore' }); } catch { /* gone with the namespace */ }
    }
    try { execFileSync('ip', ['netns', 'del', this.namespace], { stdio: 'ignore' }); } catch { /* never created */ }
  }
}
