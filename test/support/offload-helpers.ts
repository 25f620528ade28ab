// Shared by the offload tests: `ss` and `ethtool` as oracles, root/netns plumbing, real socket pairs.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { readlinkSync } from 'node:fs';

const SS_STATES: Record<string, string> = {
  ESTAB: 'ESTABLISHED', LISTEN: 'LISTENING', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECEIVED', 'FIN-WAIT-1': 'FIN_WAIT_1',
  'FIN-WAIT-2': 'FIN_WAIT_2', 'TIME-WAIT': 'TIME_WAIT', UNCONN: 'CLOSED', CLOSE: 'CLOSED', 'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK', CLOSING: 'CLOSING',
};

export interface SsRow { state: string; local: string; remote: string; device?: string }

/** "[::1]:80", "127.0.0.1%lo:80", "*:80" -> "address|port" as netstat rows give them. */
function endpoint(text: string): { key: string; device?: string } {
  const colon = text.lastIndexOf(':');
  let address = text.slice(0, colon);
  const port = text.slice(colon + 1);
  let device: string | undefined;
  const percent = address.indexOf('%');
  if (percent >= 0) {
    device = address.slice(percent + 1).replace(/]$/, '');
    address = address.slice(0, percent) + (address.startsWith('[') ? ']' : '');
  }
  if (address.startsWith('[')) address = address.slice(1, -1);
  if (address === '*') address = '::';
  return { key: `${address}|${port === '*' ? 0 : port}`, device };
}

/**
 * `ss -t -n -H -a` (all) or `ss -t -n -H state connected` (what `netstat -nt` lists: every state but LISTEN and
 * CLOSE; plain `ss -tn` also hides TIME-WAIT and SYN-RECV), in this namespace or another one.
 */
export function ss(all: boolean, netns?: string): SsRow[] {
  const args = ['-t', '-n', '-H', ...(all ? ['-a'] : ['state', 'connected'])];
  const out = netns ? execFileSync('ip', ['netns', 'exec', netns, 'ss', ...args], { encoding: 'utf8' }) : execFileSync('ss', args, { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).map((line) => {
    const [state, , , local, remote] = line.trim().split(/\s+/);
    const l = endpoint(local);
    return { state: SS_STATES[state] ?? state, local: l.key, remote: endpoint(remote).key, device: l.device };
  });
}

export function rowKey(r: { local: { address: string; port: number }; remote: { address: string; port: number } }): string {
  return `${r.local.address}|${r.local.port}>${r.remote.address}|${r.remote.port}`;
}
export function ssKey(r: SsRow): string {
  return `${r.local}>${r.remote}`;
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The inode of a Node socket, from /proc/self/fd: what sock_diag reports as idiag_inode. */
export function socketInode(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  const link = readlinkSync(`/proc/self/fd/${fd}`);
  const m = /^socket:\[(\d+)\]$/.exec(link);
  if (!m) throw new Error(`fd ${fd} is not a socket: ${link}`);
  return Number(m[1]);
}

export interface Pair { server: net.Server; client: net.Socket; accepted: net.Socket }

/** A real listener and one connection to it; `host` may be any loopback address. */
export async function openPair(host: string, port = 0, localAddress?: string, server?: net.Server): Promise<Pair> {
  const srv = server ?? net.createServer();
  if (!server) await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(port, host, () => resolve()); });
  const address = srv.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => srv.once('connection', resolve));
  const client = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host, port: address.port, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
  return { server: srv, client, accepted: await accepted };
}

export async function closeAll(items: (net.Socket | net.Server | undefined)[]): Promise<void> {
  for (const item of items) {
    if (!item) continue;
    if (item instanceof net.Server) await new Promise<void>((resolve) => (item.listening ? item.close(() => resolve()) : resolve()));
    else item.destroy();
  }
}

/** ethtool's legacy names for kernel features (ethtool/ethtool.c off_flag_def), and its group rows to ignore. */
const ETHTOOL_ALIASES: Record<string, string> = {
  'rx-checksumming': 'rx-checksum', 'generic-segmentation-offload': 'tx-generic-segmentation',
  'generic-receive-offload': 'rx-gro', 'large-receive-offload': 'rx-lro', 'rx-vlan-offload': 'rx-vlan-hw-parse',
  'tx-vlan-offload': 'tx-vlan-hw-insert', 'ntuple-filters': 'rx-ntuple-filter', 'receive-hashing': 'rx-hashing',
};
const ETHTOOL_GROUPS = new Set(['tx-checksumming', 'scatter-gather', 'tcp-segmentation-offload']);

/** `ethtool --json -k DEV` as {kernel feature name: active}. */
export function ethtoolFeatures(device: string, netns?: string): Map<string, boolean> {
  const args = ['--json', '-k', device];
  const out = netns ? run('ip', ['netns', 'exec', netns, 'ethtool', ...args]) : run('ethtool', args);
  const parsed = JSON.parse(out)[0] as Record<string, { active: boolean } | string>;
  const features = new Map<string, boolean>();
  for (const [name, value] of Object.entries(parsed)) {
    if (name === 'ifname' || ETHTOOL_GROUPS.has(name) || typeof value !== 'object') continue;
    features.set(ETHTOOL_ALIASES[name] ?? name, value.active);
  }
  return features;
}
