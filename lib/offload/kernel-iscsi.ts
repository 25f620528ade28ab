// The kernel's own iSCSI sessions (open-iscsi) and which of them a full offload engine owns, read from
// /sys/class/iscsi_{transport,host,session,connection} (native/offload_iscsi_sysfs.cc).
import { offloadNative, type NativeIscsiSysfs } from './native-offload';

// include/scsi/iscsi_if.h CAP_* bits.
export const CAP_DATA_PATH_OFFLOAD = 0x800;
export const CAP_DIGEST_OFFLOAD = 0x1000;
export const CAP_PADDING_OFFLOAD = 0x2000;
export const CAP_LOGIN_OFFLOAD = 0x4000;

// Chelsio's iSCSI transports run TCP on the chip (libcxgbi) without announcing CAP_DATA_PATH_OFFLOAD.
const TCP_ON_CHIP_TRANSPORTS = new Set(['cxgb3i', 'cxgb4i']);

export interface IscsiTransport {
  name: string;
  caps: number;
  /** A full offload engine: the protocol and TCP state live on the adapter, not in the host stack. */
  offloaded: boolean;
  /** What the adapter does itself, for the `offloads` column of its connections. */
  offloads: string[];
}

export interface KernelIscsiConnection {
  connection: string;
  session: string;
  host?: string;
  target?: string;
  transport?: IscsiTransport;
  /** The adapter's network interface and address, where the transport exports them. */
  netdev?: string;
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
  remotePort?: number;
  state?: string;
}

export function describeTransport(name: string, caps: number): IscsiTransport {
  const offloaded = (caps & CAP_DATA_PATH_OFFLOAD) !== 0 || TCP_ON_CHIP_TRANSPORTS.has(name);
  const offloads: string[] = [];
  if (offloaded) offloads.push('iscsi-data-path');
  if (caps & CAP_LOGIN_OFFLOAD) offloads.push('iscsi-login');
  if (caps & CAP_DIGEST_OFFLOAD) offloads.push('iscsi-digest');
  if (caps & CAP_PADDING_OFFLOAD) offloads.push('iscsi-padding');
  return { name, caps, offloaded, offloads };
}

// scsi_host proc_name is the driver; the transport of the software initiator is called "tcp".
function transportOfHost(procName: string | undefined, transports: Map<string, IscsiTransport>): IscsiTransport | undefined {
  if (!procName) return undefined;
  if (transports.has(procName)) return transports.get(procName);
  if (procName === 'iscsi_tcp') return transports.get('tcp');
  return undefined;
}

function port(text: string | undefined): number | undefined {
  const n = text === undefined ? NaN : Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

export function kernelIscsiConnections(sysfs: NativeIscsiSysfs = offloadNative.offloadIscsiSysfs()): KernelIscsiConnection[] {
  const transports = new Map(sysfs.transports.map((t) => [t.name, describeTransport(t.name, t.caps)]));
  const hosts = new Map(sysfs.hosts.map((h) => [h.name, h]));
  const sessions = new Map(sysfs.sessions.map((s) => [s.name, s]));
  return sysfs.connections.map((c) => {
    const session = sessions.get(c.session);
    const host = session?.host ? hosts.get(session.host) : undefined;
    return {
      connection: c.name,
      session: c.session,
      host: session?.host,
      target: session?.targetName,
      transport: transportOfHost(host?.procName, transports),
      netdev: host?.netdev,
      localAddress: host?.ipaddress,
      localPort: port(c.localPort),
      remoteAddress: c.address ?? c.persistentAddress,
      remotePort: port(c.port) ?? port(c.persistentPort),
      state: c.state,
    };
  });
}

/** Full offload engines present on this host (iSCSI HBAs with a data-path offload transport). */
export function iscsiOffloadEngines(sysfs: NativeIscsiSysfs = offloadNative.offloadIscsiSysfs()): { host: string; transport: IscsiTransport; netdev?: string }[] {
  const transports = new Map(sysfs.transports.map((t) => [t.name, describeTransport(t.name, t.caps)]));
  return sysfs.hosts.flatMap((h) => {
    const transport = transportOfHost(h.procName, transports);
    return transport?.offloaded ? [{ host: h.name, transport, netdev: h.netdev }] : [];
  });
}
