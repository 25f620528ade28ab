// Starts a private istgt (Debian `istgt`, the FreeBSD-born userspace target) for a test: a config directory of its
// own under /tmp, one portal group with the given loopback portals, one target per entry (its LUN 0 a sparse file
// under /dev/shm, its own CHAP method and digest setting), in the foreground so its log (logins, logouts,
// reinstatements) is ours to read; stops it and removes its files afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface IstgtAccount { user: string; secret: string }
export interface IstgtTarget {
  /** The short name; istgt prefixes NodeBase (`iqn()` gives the full one). */
  name: string;
  sizeBytes: number;
  /** One-way CHAP with this initiator account; with `mutual` too, the target answers as that account. */
  chap?: IstgtAccount;
  mutual?: IstgtAccount;
  /** istgt's UseDigest: 'Auto' (the default) takes what the initiator offers; 'Header Data' insists on CRC32C. */
  useDigest?: 'Auto' | 'Header Data';
}

const NODE_BASE = 'iqn.2024-01.test.istgt';
const live = new Set<Istgt>();
process.on('exit', () => { for (const t of live) t.kill(); });

function listening(portal: string): Promise<boolean> {
  const [host, port] = portal.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export class Istgt {
  private log = '';

  private constructor(readonly process: ChildProcess, readonly dir: string, readonly portals: string[], private readonly files: string[]) {
    process.stderr!.on('data', (d) => { this.log += d; });
    process.stdout!.on('data', (d) => { this.log += d; });
  }

  static iqn(name: string): string { return `${NODE_BASE}:${name}`; }

  /** `portals` as `127.a.b.c:port`; resolves once every portal accepts connections. */
  static async start(portals: string[], targets: IstgtTarget[]): Promise<Istgt> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iscsi-mpio-istgt-'));
    const files = targets.map((t) => `/dev/shm/iscsi-mpio-istgt-${process.pid}-${t.name}`);
    targets.forEach((t, i) => { fs.writeFileSync(files[i], ''); fs.truncateSync(files[i], t.sizeBytes); });
    const conf = path.join(dir, 'istgt.conf');
    fs.writeFileSync(conf, Istgt.config(dir, portals, targets, files));
    fs.writeFileSync(path.join(dir, 'auth.conf'), Istgt.auth(targets), { mode: 0o600 });
    const child = spawn('istgt', ['-c', conf, '-D'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const t = new Istgt(child, dir, portals, files);
    live.add(t);
    try {
      for (let i = 0; !(await Promise.all(portals.map(listening))).every(Boolean); i++) {
        if (child.exitCode !== null) throw new Error(`istgt exited: ${t.log}`);
        if (i > 100) throw new Error(`istgt did not listen on ${portals.join(', ')}: ${t.log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch (error) {
      await t.stop();
      throw error;
    }
    return t;
  }

  private static config(dir: string, portals: string[], targets: IstgtTarget[], files: string[]): string {
    const lines = [
      '[Global]', `  NodeBase "${NODE_BASE}"`, `  PidFile ${dir}/istgt.pid`, `  AuthFile ${dir}/auth.conf`, `  MediaDirectory ${dir}`,
      '  LogFacility "local7"', '  Timeout 30', '  NopInInterval 20', '  DiscoveryAuthMethod Auto', '  MaxSessions 64', '  MaxConnections 4',
      // The example configuration's negotiation values (istgt's own defaults are smaller).
      '  MaxR2T 32', '  MaxOutstandingR2T 16', '  DefaultTime2Wait 2', '  DefaultTime2Retain 60', '  FirstBurstLength 262144',
      '  MaxBurstLength 1048576', '  MaxRecvDataSegmentLength 262144', '  InitialR2T Yes', '  ImmediateData Yes',
      '  DataPDUInOrder Yes', '  DataSequenceInOrder Yes', '  ErrorRecoveryLevel 0',
      // No control portal: istgtcontrol is not used.
      '[UnitControl]', '  AuthMethod CHAP Mutual', '  AuthGroup AuthGroup10000',
      '[PortalGroup1]', ...portals.map((p, i) => `  Portal P${i + 1} ${p}`),
      '[InitiatorGroup1]', '  InitiatorName "ALL"', '  Netmask 127.0.0.0/8',
    ];
    targets.forEach((t, i) => {
      const method = t.mutual ? 'CHAP Mutual' : t.chap ? 'CHAP' : 'None';
      lines.push(`[LogicalUnit${i + 1}]`, `  TargetName ${t.name}`, '  Mapping PortalGroup1 InitiatorGroup1', `  AuthMethod ${method}`);
      if (t.chap) lines.push(`  AuthGroup AuthGroup${i + 1}`);
      lines.push(`  UseDigest ${t.useDigest ?? 'Auto'}`, '  UnitType Disk', '  QueueDepth 32', `  LUN0 Storage ${files[i]} ${Math.floor(t.sizeBytes / 2 ** 20)}MB`);
    });
    return lines.join('\n') + '\n';
  }

  private static auth(targets: IstgtTarget[]): string {
    const lines: string[] = [];
    targets.forEach((t, i) => {
      if (!t.chap) return;
      const mutual = t.mutual ? ` "${t.mutual.user}" "${t.mutual.secret}"` : '';
      lines.push(`[AuthGroup${i + 1}]`, `  Auth "${t.chap.user}" "${t.chap.secret}"${mutual}`);
    });
    lines.push('[AuthGroup10000]', '  Auth "unused" "unused-secret-0"');
    return lines.join('\n') + '\n';
  }

  /** What istgt printed so far: one line per login, logout and reinstatement ("drop old connections"). */
  get output(): string { return this.log; }

  /** SIGTERM (istgt closes its portals and LUs), SIGKILL after 3 s; removes its files. */
  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((r) => this.process.once('exit', r));
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.kill(), 3000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(this);
    for (const f of this.files) fs.rmSync(f, { force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }
}
