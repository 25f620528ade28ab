// Silent path cuts on loopback, for root: an nft table of this test's own that drops every packet to or from one
// 127.x source address (no RST, no ICMP: the peer just stops hearing), as a pulled cable or a dead switch port
// would. Only the addresses handed in are touched; remove() restores the path, destroy() drops the table.
import { execFileSync } from 'node:child_process';

export class LoopbackCuts {
  private readonly table = `iscsi_mpio_test_${process.pid}`;
  private readonly handles = new Set<string>();

  constructor() {
    this.nft(['add', 'table', 'ip', this.table]);
    // Every loopback packet passes the output hook once: dropping there covers both directions.
    this.nft(['add', 'chain', 'ip', this.table, 'out', '{ type filter hook output priority -10 ; policy accept ; }']);
  }

  /** Drops everything from and to `address` from now on, silently. */
  cut(address: string): void {
    if (this.handles.has(address)) return;
    this.nft(['add', 'rule', 'ip', this.table, 'out', 'ip', 'saddr', address, 'drop']);
    this.nft(['add', 'rule', 'ip', this.table, 'out', 'ip', 'daddr', address, 'drop']);
    this.handles.add(address);
  }

  /** Lets `address` through again. */
  restore(address: string): void {
    if (!this.handles.delete(address)) return;
    const listing = this.nft(['-a', 'list', 'chain', 'ip', this.table, 'out']);
    for (const line of listing.split('\n')) {
      const m = new RegExp(`[sd]addr ${address.replace(/\./g, '\\.')} drop # handle (\\d+)`).exec(line);
      if (m) this.nft(['delete', 'rule', 'ip', this.table, 'out', 'handle', m[1]]);
    }
  }

  destroy(): void {
    try { this.nft(['delete', 'table', 'ip', this.table]); } catch { /* already gone */ }
  }

  private nft(args: string[]): string {
    return execFileSync('nft', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
}
