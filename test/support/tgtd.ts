// Starts a private tgtd (Debian `tgt`) for a test: its own control port and loopback portals, tmpfs-backed LUNs
// (files under /dev/shm), CHAP accounts, static redirects and per-target negotiation settings; stops it and
// removes its files afterwards. tgtd ignores SIGTERM, so stop() asks it to exit through tgtadm, then kills it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import { haveTool, requireTools } from './tools';

const run = promisify(execFile);

export interface TgtdLun {
  sizeBytes: number;
  /** thin_provisioning=1: tgtd offers UNMAP and punches holes in the backing file for it. */
  thin?: boolean;
}
export interface TgtdAccount { user: string; password: string }
export interface TgtdTarget {
  name: string;
  luns: TgtdLun[];
  /** Initiator accounts the target checks (one-way CHAP). */
  incoming?: TgtdAccount[];
  /** The account the target answers with (mutual CHAP). */
  outgoing?: TgtdAccount;
  redirect?: { address: string; port: number; reason: 'Temporary' | 'Permanent' };
  /** Per-target negotiation settings (MaxRecvDataSegmentLength, FirstBurstLength, InitialR2T...). */
  params?: Record<string, string | number>;
}

export { haveTool, requireTools };

let instances = 0;
const live = new Set<Tgtd>();
process.on('exit', () => { for (const t of live) t.kill(); });

export class Tgtd {
  readonly files: string[] = [];
  private readonly targets: TgtdTarget[] = [];
  /** Accounts are tgtd-wide: each is created once, then bound to every target that names it. */
  private readonly accounts = new Set<string>();

  private constructor(readonly process: ChildProcess, readonly controlPort: number, readonly portals: string[], private readonly tag: string) {}

  /**
   * `portals` as `127.a.b.c:port`; the control port is chosen from the pid so parallel runs don't clash. With
   * `namespace`, tgtd runs inside that network namespace (its control socket is a file, so tgtadm reaches it).
   */
  static async start(portals: string[], targets: TgtdTarget[] = [], options: { namespace?: string } = {}): Promise<Tgtd> {
    const n = instances++;
    const controlPort = 1000 + ((process.pid * 7 + n * 131) % 30000); // a unix socket suffix; tgtd takes < 32768
    const argv = ['tgtd', '-f', '-C', String(controlPort), '--iscsi', `portal=${portals[0]}`];
    // `ip netns exec` execs tgtd in place, so the child is tgtd itself and kill() reaches it.
    const [command, ...args] = options.namespace ? ['ip', 'netns', 'exec', options.namespace, ...argv] : argv;
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const t = new Tgtd(child, controlPort, portals, `${process.pid}-${n}`);
    live.add(t);
    try {
      for (let i = 0; ; i++) {
        if (child.exitCode !== null) throw new Error(`tgtd exited: ${stderr}`);
        try { await t.tgtadm('--op', 'show', '--mode', 'system'); break; } catch (error) {
          if (i > 100) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      for (const p of portals.slice(1)) await t.tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'portal', '--param', `portal=${p}`);
      for (const target of targets) await t.addTarget(target);
    } catch (error) {
      await t.stop();
      throw error;
    }
    return t;
  }

  tgtadm(...args: string[]): Promise<{ stdout: string }> {
    return run('tgtadm', ['-C', String(this.controlPort), ...args], { timeout: 10_000 });
  }

  /** Adds a target with tid = its index + 1 and its LUNs numbered from 1 (LUN 0 is tgtd's controller). */
  async addTarget(target: TgtdTarget): Promise<number> {
    this.targets.push(target);
    const tid = String(this.targets.length);
    const L = ['--lld', 'iscsi'];
    await this.tgtadm(...L, '--op', 'new', '--mode', 'target', '--tid', tid, '-T', target.name);
    for (let i = 0; i < target.luns.length; i++) {
      const file = this.backingFile(Number(tid), i + 1);
      fs.writeFileSync(file, '');
      fs.truncateSync(file, target.luns[i].sizeBytes);
      this.files.push(file);
      await this.tgtadm(...L, '--op', 'new', '--mode', 'logicalunit', '--tid', tid, '--lun', String(i + 1), '-b', file);
      if (target.luns[i].thin) await this.tgtadm(...L, '--op', 'update', '--mode', 'logicalunit', '--tid', tid, '--lun', String(i + 1), '--params', 'thin_provisioning=1');
    }
    for (const a of target.incoming ?? []) {
      await this.account(a);
      await this.tgtadm(...L, '--op', 'bind', '--mode', 'account', '--tid', tid, '--user', a.user);
    }
    if (target.outgoing) {
      const a = target.outgoing;
      await this.account(a);
      await this.tgtadm(...L, '--op', 'bind', '--mode', 'account', '--tid', tid, '--user', a.user, '--outgoing');
    }
    for (const [name, value] of Object.entries(target.params ?? {})) {
      await this.tgtadm(...L, '--op', 'update', '--mode', 'target', '--tid', tid, '--name', name, '--value', String(value));
    }
    if (target.redirect) await this.setRedirect(Number(tid), target.redirect);
    await this.tgtadm(...L, '--op', 'bind', '--mode', 'target', '--tid', tid, '-I', 'ALL');
    return Number(tid);
  }

  private async account(a: TgtdAccount): Promise<void> {
    if (this.accounts.has(a.user)) return;
    await this.tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'account', '--user', a.user, '--password', a.password);
    this.accounts.add(a.user);
  }

  async setRedirect(tid: number, r: { address: string; port: number; reason: 'Temporary' | 'Permanent' }): Promise<void> {
    const update = (name: string, value: string) => this.tgtadm('--lld', 'iscsi', '--op', 'update', '--mode', 'target', '--tid', String(tid), '--name', name, '--value', value);
    await update('RedirectAddress', r.address);
    await update('RedirectPort', String(r.port));
    await update('RedirectReason', r.reason);
  }

  backingFile(tid: number, lun: number): string {
    return `/dev/shm/iscsi-mpio-test-${this.tag}-t${tid}-l${lun}`;
  }

  /** Stops tgtd (tgtadm system delete, then SIGKILL after a second) and removes the backing files. */
  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((r) => this.process.once('exit', r));
      // tgtd refuses to exit while it has targets: delete them (forcefully, sessions and all) first.
      for (let tid = 1; tid <= this.targets.length; tid++) {
        await this.tgtadm('--lld', 'iscsi', '--op', 'delete', '--mode', 'target', '--tid', String(tid), '--force').catch(() => undefined);
      }
      await this.tgtadm('--op', 'delete', '--mode', 'system').catch(() => undefined);
      const timer = setTimeout(() => this.kill(), 1000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(this);
    for (const f of this.files) fs.rmSync(f, { force: true });
  }

  /** Hard stop (a target dying mid-I/O). */
  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }
}

/** Loopback portal addresses unique to this process: 127.<pid bits>.<n>. */
export function loopbackPortal(n: number, port = 3260): string {
  const a = 100 + (process.pid % 100);
  const b = (Math.floor(process.pid / 100) % 200) + 1;
  return `127.${a}.${b}.${n}:${port}`;
}
