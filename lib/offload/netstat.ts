// `netstat -nt` with an Offload State column, for Linux: every TCP connection from sock_diag, its egress NIC
// (bound device or route lookup), the stateless offloads in effect there, and full offload engines (iSCSI HBAs,
// kTLS TOE), with iSCSI connections labelled from this process's registry and the kernel's iSCSI sessions.
import { offloadNative, type NativeTcpConnection, type TcpInfo } from './native-offload';
import { classifySocket, type KtlsState, type OffloadState } from './offload-state';
import { statelessOffloads } from './stateless-offloads';
import { ALL_STATES, CONNECTED_STATES, tcpStateName, type TcpStateName } from './tcp-states';
import { connectionKey, normalizeAddress, registeredIscsiConnections, type IscsiLabel } from './iscsi-connections';
import { kernelIscsiConnections, type KernelIscsiConnection } from './kernel-iscsi';
import { OffloadArgumentError } from './errors';

export const ISCSI_PORT = 3260;

export interface NetstatOptions {
  /** Include listening sockets (netstat -a). */
  all?: boolean;
  /** Keep only iSCSI connections: this process's sessions, the kernel's, and any on an iSCSI port. */
  iscsi?: boolean;
  /** Ports that mark a connection as iSCSI (default [3260]). */
  iscsiPorts?: number[];
  /** Attach tcp_info counters (default true). */
  tcpInfo?: boolean;
  /** Address families (default both). */
  ipv4?: boolean;
  ipv6?: boolean;
  /** sysfs mount to read iSCSI hosts from (default /sys); for inspecting another root. */
  sysfsRoot?: string;
}

export interface Endpoint {
  address: string;
  port: number;
}

export interface IscsiRowLabel {
  target: string | null;
  session: string | null;
  path: string | number | null;
  /** Where the label came from: this process's registry, the kernel's iSCSI sessions, or only the port number. */
  source: 'process' | 'kernel' | 'port';
  /** Which end this host is: the initiator (remote port is the portal) or the target. */
  role: 'initiator' | 'target';
}

export interface NetstatRow {
  proto: 'TCP';
  local: Endpoint;
  remote: Endpoint;
  state: TcpStateName;
  offloadState: OffloadState;
  /** InHost: the stateless offloads active on the egress NIC; Offloaded: what the engine does itself. */
  offloads: string[];
  /** Egress interface; null for a listener not bound to a device, or when the route lookup failed. */
  device: string | null;
  iscsi?: IscsiRowLabel;
  family: 4 | 6;
  /** SO_BINDTODEVICE interface, when the socket is bound to one. */
  boundDevice?: string;
  engine?: string;
  ktls?: KtlsState;
  routeError?: string;
  inode?: number;
  uid?: number;
  congestion?: string;
  tcpInfo?: TcpInfo;
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function checkPorts(ports: unknown): number[] {
  if (ports === undefined) return [ISCSI_PORT];
  if (!Array.isArray(ports) || !ports.every((p) => Number.isInteger(p) && p > 0 && p <= 65535))
    throw new OffloadArgumentError('netstat: iscsiPorts must be an array of port numbers 1..65535');
  return ports;
}

/** Answers "which NIC carries this connection" once per distinct (local, remote, bound device) in a call. */
class EgressResolver {
  private readonly names = new Map<number, string>();
  private readonly routes = new Map<string, { device: string | null; error?: string }>();
  private readonly features = new Map<string, string[]>();

  constructor() {
    for (const iface of offloadNative.offloadInterfaces()) this.names.set(iface.ifindex, iface.name);
  }

  deviceName(ifindex: number): string | undefined {
    return ifindex > 0 ? this.names.get(ifindex) ?? `if${ifindex}` : undefined;
  }

  /** Looks up every distinct route the connections need in one batch over one netlink socket. */
  resolve(connections: NativeTcpConnection[]): void {
    const pending = new Map<string, { remoteAddress: string; localAddress: string; boundIfindex: number }>();
    for (const c of connections) {
      if (isUnspecified(c.remoteAddress)) continue;
      const key = this.routeKey(c);
      if (!this.routes.has(key) && !pending.has(key))
        pending.set(key, { remoteAddress: c.remoteAddress, localAddress: c.localAddress, boundIfindex: c.boundIfindex });
    }
    if (pending.size === 0) return;
    const answers = offloadNative.offloadRouteEgress([...pending.values()]);
    [...pending.keys()].forEach((key, i) => {
      const a = answers[i];
      this.routes.set(key, a.error ? { device: null, error: a.error } : { device: a.ifname ?? this.deviceName(a.ifindex ?? 0) ?? null });
    });
  }

  egress(c: NativeTcpConnection): { device: string | null; error?: string } {
    if (isUnspecified(c.remoteAddress)) return { device: this.deviceName(c.boundIfindex) ?? null };
    return this.routes.get(this.routeKey(c)) ?? { device: null };
  }

  activeFeatures(device: string): string[] {
    let active = this.features.get(device);
    if (!active) {
      try {
        active = offloadNative.offloadNetdevFeatures(device).active;
      } catch {
        active = []; // the interface vanished between the dump and this query
      }
      this.features.set(device, active);
    }
    return active;
  }

  private routeKey(c: NativeTcpConnection): string {
    return `${c.localAddress}|${c.remoteAddress}|${c.boundIfindex}`;
  }
}

function iscsiLabelFor(
  c: { localAddress: string; localPort: number; remoteAddress: string; remotePort: number },
  registered: Map<string, IscsiLabel>,
  kernel: Map<string, KernelIscsiConnection>,
  ports: number[],
): IscsiRowLabel | undefined {
  const own = registered.get(connectionKey(c.localAddress, c.localPort, c.remoteAddress, c.remotePort));
  if (own) return { target: own.target, session: own.session, path: own.path ?? null, source: 'process', role: 'initiator' };
  const k = kernel.get(kernelKey(c.remoteAddress, c.remotePort, c.localPort)) ?? kernel.get(kernelKey(c.remoteAddress, c.remotePort));
  if (k) return { target: k.target ?? null, session: k.session, path: null, source: 'kernel', role: 'initiator' };
  if (ports.includes(c.remotePort)) return { target: null, session: null, path: null, source: 'port', role: 'initiator' };
  if (ports.includes(c.localPort)) return { target: null, session: null, path: null, source: 'port', role: 'target' };
  return undefined;
}

function kernelKey(remoteAddress: string, remotePort: number, localPort?: number): string {
  return `${normalizeAddress(remoteAddress)}|${remotePort}|${localPort ?? '*'}`;
}

/** Rows for connections a full offload engine owns: they never reach the host stack, so sock_diag lacks them. */
function offloadedKernelRows(kernel: KernelIscsiConnection[]): NetstatRow[] {
  return kernel
    .filter((k) => k.transport?.offloaded && k.remoteAddress && k.remotePort !== undefined)
    .map((k) => {
      const remoteAddress = k.remoteAddress as string;
      return {
        proto: 'TCP' as const,
        local: { address: k.localAddress ?? (remoteAddress.includes(':') ? '::' : '0.0.0.0'), port: k.localPort ?? 0 },
        remote: { address: remoteAddress, port: k.remotePort as number },
        state: k.state === undefined || k.state === 'up' || /LOGGED_IN/i.test(k.state) ? 'ESTABLISHED' as const : 'CLOSED' as const,
        offloadState: 'Offloaded' as const,
        offloads: k.transport?.offloads ?? [],
        device: k.netdev ?? null,
        iscsi: { target: k.target ?? null, session: k.session, path: null, source: 'kernel' as const, role: 'initiator' as const },
        family: remoteAddress.includes(':') ? 6 as const : 4 as const,
        engine: `iscsi-hba:${k.transport?.name}`,
      };
    });
}

/** The TCP connections of this network namespace, as `netstat -nt` (or `-a`) lists them, with offload state. */
export function netstat(options: NetstatOptions = {}): NetstatRow[] {
  if (options === null || typeof options !== 'object') throw new OffloadArgumentError('netstat(options): options must be an object');
  const ports = checkPorts(options.iscsiPorts);
  const connections = offloadNative.offloadTcpConnections({
    ipv4: options.ipv4 ?? true,
    ipv6: options.ipv6 ?? true,
    states: options.all ? ALL_STATES : CONNECTED_STATES,
    tcpInfo: options.tcpInfo ?? true,
  });

  const sysfs = offloadNative.offloadIscsiSysfs(options.sysfsRoot);
  const kernel = kernelIscsiConnections(sysfs);
  const kernelByKey = new Map<string, KernelIscsiConnection>();
  for (const k of kernel) {
    if (!k.remoteAddress || k.remotePort === undefined || k.transport?.offloaded) continue;
    kernelByKey.set(kernelKey(k.remoteAddress, k.remotePort, k.localPort), k);
  }
  const registered = registeredIscsiConnections();

  const egress = new EgressResolver();
  egress.resolve(connections);

  const rows: NetstatRow[] = [];
  for (const c of connections) {
    const iscsi = iscsiLabelFor(c, registered, kernelByKey, ports);
    if (options.iscsi && !iscsi) continue;
    const route = egress.egress(c);
    const classification = classifySocket(c);
    const offloads = route.device ? statelessOffloads(egress.activeFeatures(route.device), c.family) : [];
    const row: NetstatRow = {
      proto: 'TCP',
      local: { address: c.localAddress, port: c.localPort },
      remote: { address: c.remoteAddress, port: c.remotePort },
      state: tcpStateName(c.state),
      offloadState: classification.offloadState,
      offloads,
      device: route.device,
      ...(iscsi && { iscsi }),
      family: c.family,
    };
    const bound = egress.deviceName(c.boundIfindex);
    if (bound) row.boundDevice = bound;
    if (classification.engine) row.engine = classification.engine;
    if (classification.ktls) row.ktls = classification.ktls;
    if (route.error) row.routeError = route.error;
    row.inode = c.inode;
    row.uid = c.uid;
    if (c.congestion) row.congestion = c.congestion;
    if (c.tcpInfo) row.tcpInfo = c.tcpInfo;
    rows.push(row);
  }
  rows.push(...offloadedKernelRows(kernel));
  return rows;
}

/** The iSCSI connections (not listeners) that are not offloaded: what `netstat --check offloaded` reports. */
export function notOffloadedIscsiConnections(rows: NetstatRow[]): NetstatRow[] {
  return rows.filter((r) => r.iscsi && r.state !== 'LISTENING' && r.offloadState !== 'Offloaded');
}
