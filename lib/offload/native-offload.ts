// Typed view of the addon's offload functions (native/offload_*.cc).
import { native } from '../native';

/** tcp_info subset; fields the running kernel does not report are absent. Bytes are counts, rates bytes/s. */
export interface TcpInfo {
  rttUs: number;
  rttVarUs: number;
  minRttUs?: number;
  cwnd: number;
  sndMss: number;
  rcvMss: number;
  retransmits: number;
  totalRetrans: number;
  unacked: number;
  lost: number;
  bytesAcked?: number;
  bytesReceived?: number;
  bytesSent?: number;
  bytesRetrans?: number;
  segsOut?: number;
  segsIn?: number;
  deliveryRate?: number;
  pacingRate?: number;
  notsentBytes?: number;
  sndWnd?: number;
}

export type KtlsMode = 'none' | 'sw' | 'hw' | 'hw-record' | 'unknown';

export interface NativeTcpConnection {
  family: 4 | 6;
  state: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  boundIfindex: number;
  inode: number;
  uid: number;
  rqueue: number;
  wqueue: number;
  tcpInfo?: TcpInfo;
  congestion?: string;
  ulp?: { name?: string; tls?: { version?: number; cipher?: number; tx?: KtlsMode; rx?: KtlsMode } };
}

export interface NativeRouteAnswer {
  type?: string;
  ifindex?: number;
  ifname?: string;
  preferredSource?: string;
  gateway?: string;
  errno?: number;
  error?: string;
}

export interface NativeNetdevFeatures {
  available: string[];
  requested: string[];
  active: string[];
  fixed: string[];
}

export interface NativeNetdevInfo {
  driver?: string;
  version?: string;
  firmware?: string;
  busInfo?: string;
  speedMbps?: number;
  duplex?: 'full' | 'half';
  link?: boolean;
}

export interface NativeInterface {
  name: string;
  ifindex: number;
  up: boolean;
  running: boolean;
  loopback: boolean;
  mtu?: number;
  mac?: string;
  addresses: { family: 4 | 6; address: string; prefixLength: number }[];
}

export interface NativeIscsiSysfs {
  transports: { name: string; caps: number }[];
  hosts: { name: string; procName?: string; netdev?: string; ipaddress?: string; hwaddress?: string; initiatorName?: string; portState?: string; portSpeed?: string }[];
  sessions: { name: string; host?: string; targetName?: string; ifaceName?: string; state?: string }[];
  connections: { name: string; session: string; address?: string; port?: string; persistentAddress?: string; persistentPort?: string; localPort?: string; state?: string }[];
}

interface OffloadBinding {
  offloadTcpConnections(options?: { ipv4?: boolean; ipv6?: boolean; states?: number; tcpInfo?: boolean }): NativeTcpConnection[];
  offloadRouteEgress(queries: { remoteAddress: string; localAddress?: string; boundIfindex?: number }[]): NativeRouteAnswer[];
  offloadNetdevFeatures(name: string): NativeNetdevFeatures;
  offloadNetdevInfo(name: string): NativeNetdevInfo;
  offloadInterfaces(): NativeInterface[];
  offloadIscsiSysfs(root?: string): NativeIscsiSysfs;
}

export const offloadNative = native as OffloadBinding;
