// Faults on netns paths (ShapedPaths veths), each undone by its restore(): a silent cut (an nftables table in the
// host namespace dropping everything through the veth, as a dead switch port does), a hard cut (every TCP segment
// through the veth answered with a reset, both ways, and the path's sockets killed with `ss -K`), a slowed link
// (tc tbf at a low rate on both ends), and a refused portal (a reset for every segment to one address:port inside
// the far namespace: a tgtd portal going down). Tables are named after the pid, and removed at exit.
import { execFileSync } from 'node:child_process';
import { ShapedPathsError, type ShapedPath, type ShapedPaths } from './shaped-paths';

export type FaultKind = 'silent-cut' | 'hard-cut' | 'slowed' | 'portal-refused';

export interface Fault {
  kind: FaultKind;
  /** Undoes the fault; idempotent. */
  restore(): void;
}

function sh(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new ShapedPathsError(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

export class PathFaults {
  private readonly live = new Map<string, () => void>();
  private sequence = 0;
  private readonly onExit = () => this.restoreAll();

  constructor(private readonly net: ShapedPaths) {
    process.once('exit', this.onExit);
  }

  /** Drops every packet in and out of the path's host veth; TCP sees nothing until restore. */
  silentCut(path: ShapedPath): Fault {
    return this.table('silent-cut', undefined, `
      chain in { type filter hook input priority -10; iifname "${path.hostDevice}" drop; }
      chain out { type filter hook output priority -10; oifname "${path.hostDevice}" drop; }`);
  }

  /** Resets every TCP segment through the veth (both ways) and kills the path's open sockets at once. */
  hardCut(path: ShapedPath): Fault {
    const fault = this.table('hard-cut', undefined, `
      chain in { type filter hook input priority -10; iifname "${path.hostDevice}" meta l4proto tcp reject with tcp reset; iifname "${path.hostDevice}" drop; }
      chain out { type filter hook output priority -10; oifname "${path.hostDevice}" meta l4proto tcp reject with tcp reset; oifname "${path.hostDevice}" drop; }`);
    // The rules reset a connection on its next segment; ss -K resets the ones with nothing to send now too.
    try { sh('ss', ['-K', 'src', path.hostAddress]); } catch { /* kernel without sock_destroy: the rules do it */ }
    return fault;
  }

  /**
   * tc tbf at `rate` on both ends of the veth, queueing up to `queueMs` of traffic (a bufferbloated link: what is
   * queued still arrives, late); restore puts back the ShapedPaths rate.
   */
  slowed(path: ShapedPath, rate = '1mbit', queueMs = 500): Fault {
    const set = (r: string) => {
      for (const [prefix, dev] of [[[], path.hostDevice], [['-n', this.net.namespace], path.peerDevice]] as const) {
        sh('tc', [...prefix, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', r, 'burst', r === this.net.rate ? '256kb' : '16kb', 'latency', r === this.net.rate ? '10ms' : `${queueMs}ms`]);
      }
    };
    set(rate);
    return this.track('slowed', () => set(this.net.rate));
  }

  /** Inside the far namespace: every TCP segment to `address:port` is answered with a reset (the port is down). */
  portalRefused(address: string, port: number): Fault {
    return this.table('portal-refused', this.net.namespace, `
      chain in { type filter hook input priority -10; ip daddr ${address} tcp dport ${port} reject with tcp reset; }`);
  }

  restoreAll(): void {
    for (const undo of [...this.live.values()]) undo();
    process.off('exit', this.onExit);
  }

  /** An nftables table (in `namespace`, else here) holding `body`; the fault's restore deletes it. */
  private table(kind: FaultKind, namespace: string | undefined, body: string): Fault {
    const name = `imfault${this.net.id}_${this.sequence++}`;
    const nft = (args: string[], input?: string) => (namespace ? sh('ip', ['netns', 'exec', namespace, 'nft', ...args], input) : sh('nft', args, input));
    nft(['-f', '-'], `table inet ${name} {${body}\n}\n`);
    return this.track(kind, () => void nft(['delete', 'table', 'inet', name]));
  }

  private track(kind: FaultKind, undo: () => void): Fault {
    const key = `${kind}#${this.sequence++}`;
    let done = false;
    const restore = () => {
      if (done) return;
      done = true;
      this.live.delete(key);
      try { undo(); } catch (error) { if (!/No such file|does not exist/.test((error as Error).message)) throw error; }
    };
    this.live.set(key, restore);
    return { kind, restore };
  }
}
