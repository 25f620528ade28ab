// Windows' TCP_CONNECTION_OFFLOAD_STATE names, and the honest Linux classification behind them
// (reference/native.md §4g): "Offloaded" only when a full offload engine owns the protocol state.
import type { KtlsMode, NativeTcpConnection } from './native-offload';

/** Windows' four states. Linux never shows a handover in progress, so it only emits InHost and Offloaded. */
export type OffloadState = 'InHost' | 'Offloading' | 'Offloaded' | 'Uploading';
export const OFFLOAD_STATES: readonly OffloadState[] = ['InHost', 'Offloading', 'Offloaded', 'Uploading'];

export interface KtlsState {
  tx: KtlsMode;
  rx: KtlsMode;
}

export interface SocketClassification {
  offloadState: OffloadState;
  /** The engine that owns the connection when Offloaded: "tls-toe" or "iscsi-hba:<transport>". */
  engine?: string;
  ktls?: KtlsState;
}

/** A host socket is InHost unless its kTLS ULP runs in TOE record mode (the NIC owns TCP and TLS state). */
export function classifySocket(connection: Pick<NativeTcpConnection, 'ulp'>): SocketClassification {
  const tls = connection.ulp?.name === 'tls' ? connection.ulp.tls : undefined;
  if (!tls) return { offloadState: 'InHost' };
  const ktls: KtlsState = { tx: tls.tx ?? 'none', rx: tls.rx ?? 'none' };
  if (ktls.tx === 'hw-record' || ktls.rx === 'hw-record') return { offloadState: 'Offloaded', engine: 'tls-toe', ktls };
  return { offloadState: 'InHost', ktls };
}
