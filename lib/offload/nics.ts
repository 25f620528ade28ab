// `nics`: every interface with its addresses, link facts and offload features (ethtool), and whether an iSCSI
// offload HBA sits on it.
import { offloadNative, type NativeInterface } from './native-offload';
import { statelessOffloads, type StatelessOffload } from './stateless-offloads';
import { iscsiOffloadEngines } from './kernel-iscsi';

export interface Nic extends NativeInterface {
  driver?: string;
  firmware?: string;
  busInfo?: string;
  /** Link speed in Mbit/s, when the driver reports one. */
  speedMbps?: number;
  duplex?: 'full' | 'half';
  link?: boolean;
  /** Stateless offloads active for either address family. */
  offloads: StatelessOffload[];
  /** Every active kernel feature, as `ethtool -k` names them ("tx-tcp-segmentation"…). */
  features: string[];
  /** Features the driver does not let the user change ("[fixed]" in `ethtool -k`). */
  fixedFeatures: string[];
  /** Full offload engines (iSCSI HBAs) bound to this interface. */
  offloadEngines: string[];
}

export interface NicsOptions {
  sysfsRoot?: string;
}

export function nics(options: NicsOptions = {}): Nic[] {
  const engines = iscsiOffloadEngines(offloadNative.offloadIscsiSysfs(options.sysfsRoot));
  return offloadNative.offloadInterfaces().map((iface) => {
    let features: string[] = [];
    let fixedFeatures: string[] = [];
    try {
      const f = offloadNative.offloadNetdevFeatures(iface.name);
      features = f.active;
      fixedFeatures = f.fixed;
    } catch {
      // removed since getifaddrs, or a device without ethtool support: no features to report
    }
    let info = {};
    try {
      info = offloadNative.offloadNetdevInfo(iface.name);
    } catch {
      // as above
    }
    return {
      ...iface,
      ...info,
      offloads: statelessOffloads(features),
      features,
      fixedFeatures,
      offloadEngines: engines.filter((e) => e.netdev === iface.name).map((e) => `iscsi-hba:${e.transport.name} (${e.host})`),
    };
  });
}

export function formatNicsTable(list: Nic[]): string {
  const rows = list.map((n) => [
    n.name,
    n.up ? (n.running ? 'up' : 'no-carrier') : 'down',
    n.speedMbps ? `${n.speedMbps}Mb/s` : '-',
    n.addresses.map((a) => `${a.address}/${a.prefixLength}`).join(',') || '-',
    [...n.offloads, ...n.offloadEngines].join(',') || '-',
  ]);
  const header = ['Interface', 'State', 'Speed', 'Addresses', 'Offloads'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('');
  return [line(header), ...rows.map(line)].join('\n');
}
