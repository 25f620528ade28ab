// What `iscsi-mpio status` shows: every node of the running service, and for each one up the `multipath -ll`
// view (device id, vendor/product, size, policy, NBD endpoints as standard NBD URIs) with each path's addresses,
// state, ALUA state, counters and last error (kept after the path comes back, with when it happened).
import type { MultipathDevice } from '../mpio/multipath-device';
import type { NodeRecord } from './node-records';

export interface PathHistory { lastError: string; lastErrorAt: string }

export interface PathStatus {
  id: number;
  local: { address: string | null; port: number | null; device: string | null };
  remote: { address: string; port: number };
  redirectedFrom: string | null;
  state: string;
  alua: string | null;
  inFlight: number;
  ios: number;
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
  failovers: number;
  reinstatements: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

export interface NodeStatus {
  name: string;
  /** up: logged in and exported; down: an automatic node failing to log in (retried); stopped: not logged in. */
  state: 'up' | 'down' | 'stopped';
  startup: string | null;
  url: string | null;
  error?: { message: string; at: string };
  device?: {
    id: string | null; vendor: string; product: string; revision: string; size: number; blockSize: number; blocks: number;
    policy: string; nbd: string[]; paths: PathStatus[];
  };
}

export interface ServiceStatus { pid: number; config: string; control: string; metrics: string | null; nodes: NodeStatus[] }

export function nodeStatus(
  name: string, record: NodeRecord | undefined,
  running: { device: MultipathDevice; uris: string[]; history: Map<number, PathHistory> } | undefined,
  down: { error: Error; at: Date } | undefined,
): NodeStatus {
  const out: NodeStatus = { name, state: running ? 'up' : down ? 'down' : 'stopped', startup: record?.startup ?? null, url: record?.url ?? null };
  if (down && !running) out.error = { message: down.error.message, at: down.at.toISOString() };
  if (!running) return out;
  const { device, uris, history } = running;
  const identity = device.knownIdentity;
  const capacity = device.knownCapacity;
  out.device = {
    id: device.id ?? null, vendor: identity.vendor.trim(), product: identity.product.trim(), revision: identity.revision.trim(),
    size: capacity.blocks * capacity.blockSize, blockSize: capacity.blockSize, blocks: capacity.blocks, policy: device.policy.name, nbd: uris,
    paths: device.paths.map((p) => {
      const i = p.info();
      const h = history.get(p.id);
      return {
        id: i.id, local: i.local, remote: i.remote, redirectedFrom: i.redirectedFrom, state: i.state, alua: i.alua ?? null,
        inFlight: i.stats.inFlight, ios: i.stats.ios, reads: i.stats.reads, writes: i.stats.writes, bytesRead: i.stats.bytesRead,
        bytesWritten: i.stats.bytesWritten, errors: i.stats.failures, failovers: i.stats.failovers, reinstatements: i.stats.reinstatements,
        lastError: h?.lastError ?? null, lastErrorAt: h?.lastErrorAt ?? null,
      };
    }),
  };
  return out;
}

function size(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) { v /= 1024; u++; }
  return `${v}${units[u]}`;
}

function endpoint(e: { address: string | null; port: number | null; device?: string | null }): string {
  const host = e.address && e.address.includes(':') ? `[${e.address}]` : e.address ?? '*';
  return `${host}:${e.port ?? '*'}${e.device ? `@${e.device}` : ''}`;
}

/** The `multipath -ll`-like tree of every node. */
export function formatStatus(s: ServiceStatus): string {
  const lines: string[] = [];
  if (s.nodes.length === 0) lines.push('(no nodes)');
  for (const n of s.nodes) {
    if (!n.device) {
      lines.push(`${n.name} ${n.state}${n.error ? `: ${n.error.message} (since ${n.error.at})` : ''}${n.startup === 'manual' && n.state === 'stopped' ? ' (manual: node login)' : ''}`);
      continue;
    }
    const d = n.device;
    lines.push(`${n.name} (${d.id ?? 'no id'}) ${d.vendor},${d.product}`);
    lines.push(`size=${size(d.size)} policy='${d.policy}' nbd=${d.nbd.join(' ')}`);
    d.paths.forEach((p, i) => {
      const last = i === d.paths.length - 1;
      const ready = p.state === 'failed' ? 'failed faulty' : `${p.state} ready`;
      lines.push(`${last ? '`-' : '|-'} ${p.id} ${endpoint(p.local)} -> ${endpoint(p.remote)}${p.redirectedFrom ? ` (redirected from ${p.redirectedFrom})` : ''} ${ready}`
        + `${p.alua ? ` alua=${p.alua}` : ''}`);
      lines.push(`${last ? '  ' : '| '}   inflight=${p.inFlight} ios=${p.ios} read=${p.bytesRead}B written=${p.bytesWritten}B errors=${p.errors} failovers=${p.failovers}`
        + `${p.lastError ? ` last-error="${p.lastError}" at ${p.lastErrorAt}` : ''}`);
    });
  }
  return lines.join('\n');
}
