// Registry of this process's iSCSI connections, filled by the session layer, so that `netstat --iscsi` can
// label them with their target, session and multipath path.
import type { Socket } from 'node:net';
import { OffloadArgumentError } from './errors';

export interface IscsiLabel {
  target: string;
  session: string;
  path?: string | number;
}

export type IscsiConnectionRegistration = IscsiLabel &
  ({ socket: Socket } | { localAddress: string; localPort: number; remoteAddress: string; remotePort: number });

interface Entry {
  label: IscsiLabel;
  socket?: Socket;
  endpoints?: { localAddress: string; localPort: number; remoteAddress: string; remotePort: number };
}

const entries = new Set<Entry>();

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; sock_diag reports what the socket's family says. */
export function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

export function connectionKey(localAddress: string, localPort: number, remoteAddress: string, remotePort: number): string {
  return `${normalizeAddress(localAddress)}|${localPort}|${normalizeAddress(remoteAddress)}|${remotePort}`;
}

function validPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 65535;
}

/**
 * Labels one connection. Give the socket (its addresses are read whenever netstat runs, so it may register
 * before it connects, and it unregisters itself on close) or the four endpoints. Returns the unregister function.
 */
export function registerIscsiConnection(registration: IscsiConnectionRegistration): () => void {
  if (typeof registration?.target !== 'string' || registration.target === '')
    throw new OffloadArgumentError('registerIscsiConnection: target must be a non-empty string (the target IQN)');
  if (typeof registration.session !== 'string' || registration.session === '')
    throw new OffloadArgumentError('registerIscsiConnection: session must be a non-empty string (e.g. the ISID/TSIH)');
  const label: IscsiLabel = { target: registration.target, session: registration.session };
  if (registration.path !== undefined) label.path = registration.path;

  let entry: Entry;
  let detach = (): void => {};
  if ('socket' in registration && registration.socket) {
    const socket = registration.socket;
    entry = { label, socket };
    const onClose = (): void => { entries.delete(entry); };
    socket.once('close', onClose);
    detach = () => { socket.off('close', onClose); };
  } else {
    const r = registration as { localAddress: unknown; localPort: unknown; remoteAddress: unknown; remotePort: unknown };
    if (typeof r.localAddress !== 'string' || typeof r.remoteAddress !== 'string' || !validPort(r.localPort) || !validPort(r.remotePort))
      throw new OffloadArgumentError('registerIscsiConnection: give {socket} or localAddress/localPort/remoteAddress/remotePort (ports 1..65535)');
    entry = { label, endpoints: { localAddress: r.localAddress, localPort: r.localPort, remoteAddress: r.remoteAddress, remotePort: r.remotePort } };
  }
  entries.add(entry);
  return () => {
    detach();
    entries.delete(entry);
  };
}

/** The labels of the registered connections that are connected now, by connectionKey(). */
export function registeredIscsiConnections(): Map<string, IscsiLabel> {
  const out = new Map<string, IscsiLabel>();
  for (const entry of entries) {
    const e = entry.endpoints ?? (entry.socket && {
      localAddress: entry.socket.localAddress,
      localPort: entry.socket.localPort,
      remoteAddress: entry.socket.remoteAddress,
      remotePort: entry.socket.remotePort,
    });
    if (!e || !e.localAddress || !e.remoteAddress || !e.localPort || !e.remotePort) continue; // not connected yet
    out.set(connectionKey(e.localAddress, e.localPort, e.remoteAddress, e.remotePort), { ...entry.label });
  }
  return out;
}
