// The offload view: netstat with Offload State, NIC offload features, the iSCSI connection registry.
export { netstat, notOffloadedIscsiConnections, ISCSI_PORT } from './netstat';
export type { NetstatOptions, NetstatRow, Endpoint, IscsiRowLabel } from './netstat';
export { formatNetstatTable, formatEndpoint } from './netstat-table';
export type { TableOptions } from './netstat-table';
export { nics, formatNicsTable } from './nics';
export type { Nic, NicsOptions } from './nics';
export { registerIscsiConnection } from './iscsi-connections';
export type { IscsiConnectionRegistration, IscsiLabel } from './iscsi-connections';
export { OFFLOAD_STATES } from './offload-state';
export type { OffloadState, KtlsState } from './offload-state';
export type { StatelessOffload } from './stateless-offloads';
export type { TcpInfo, KtlsMode, NativeInterface } from './native-offload';
export type { TcpStateName } from './tcp-states';
export { OffloadArgumentError } from './errors';
