// Labels each connection a session opens so `iscsi-mpio netstat --iscsi` can show target, session and path.
import { registerIscsiConnection } from '../offload/iscsi-connections';
import type { PduConnection } from '../wire/connection';

export function registerConnection(connection: PduConnection, label: { target: string; session: string; path?: string | number }): () => void {
  try {
    const { localAddress, localPort, remoteAddress, remotePort } = connection;
    if (localAddress === undefined || localPort === undefined || remoteAddress === undefined || remotePort === undefined) return () => undefined;
    return registerIscsiConnection({ localAddress, localPort, remoteAddress, remotePort, ...label });
  } catch {
    return () => undefined; // labelling is best effort: it must never fail a login
  }
}
