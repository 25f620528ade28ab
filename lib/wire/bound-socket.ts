// A TCP connection from a chosen adapter: the addon creates and binds the socket (source address and/or device),
// Node performs the non-blocking connect on that fd (native.md §2.1 option C); an iSCSI connection then hands it to
// the addon's socket pump (lib/wire/native-socket.ts).
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import { native } from '../native';
import { ConnectError } from './errors';

export interface AdapterBinding {
  /** Source address of the connection (IP_BIND_ADDRESS_NO_PORT: the port is picked at connect time). */
  sourceAddress?: string;
  /** Interface to bind to (SO_BINDTODEVICE), e.g. `eth1`: keeps the path on that NIC whatever the routing table says. */
  device?: string;
}

export interface ConnectOptions extends AdapterBinding {
  host: string;
  port: number;
  timeoutMs?: number;
  /** Gives up at once (the session was closed while it connected). */
  signal?: AbortSignal;
}

export async function connectBound(options: ConnectOptions): Promise<net.Socket> {
  const { host, port, sourceAddress, device, timeoutMs = 10_000, signal } = options;
  if (signal?.aborted) throw new ConnectError('connect aborted: the session was closed', 'EABORTED');
  const family = net.isIP(host) || (sourceAddress ? net.isIP(sourceAddress) : 0) || 4;
  const address = net.isIP(host) ? host : await resolve(host, family);
  if (sourceAddress && net.isIP(sourceAddress) !== net.isIP(address)) {
    throw new ConnectError(`source address ${sourceAddress} and portal ${address} are of different IP families`, 'EAFNOSUPPORT');
  }
  let fd: number;
  try {
    fd = native.createBoundSocket({ family: net.isIP(address), sourceAddress, device });
  } catch (error) {
    const e = error as { message: string; code: string; errno?: number };
    throw new ConnectError(e.message, e.code, e.errno);
  }
  const socket = new net.Socket({ fd, readable: true, writable: true });
  const portal = `${address.includes(':') ? `[${address}]` : address}:${port}`;
  const via = [sourceAddress && `from ${sourceAddress}`, device && `on ${device}`].filter(Boolean).join(' ');
  return new Promise<net.Socket>((resolvePromise, reject) => {
    const settle = (error?: ConnectError): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      if (!error) {
        socket.removeAllListeners('error');
        resolvePromise(socket);
        return;
      }
      socket.destroy();
      reject(error);
    };
    const aborted = (): void => settle(new ConnectError(`connect to ${portal} aborted: the session was closed`, 'EABORTED'));
    const timer = setTimeout(() => settle(new ConnectError(`portal ${portal} did not answer within ${timeoutMs} ms${via ? ` (${via})` : ''}`, 'ETIMEDOUT')), timeoutMs);
    signal?.addEventListener('abort', aborted, { once: true });
    socket.once('error', (error: NodeJS.ErrnoException) => settle(new ConnectError(describeConnectFailure(error, portal, via), error.code ?? 'ECONNECT', error.errno)));
    socket.connect(port, address, () => settle());
  });
}

async function resolve(host: string, family: number): Promise<string> {
  try {
    return (await dns.lookup(host, { family })).address;
  } catch (error) {
    throw new ConnectError(`cannot resolve portal host '${host}': ${(error as Error).message}`, (error as NodeJS.ErrnoException).code ?? 'ENOTFOUND');
  }
}

function describeConnectFailure(error: NodeJS.ErrnoException, portal: string, via: string): string {
  const suffix = via ? ` (${via})` : '';
  switch (error.code) {
    case 'ECONNREFUSED': return `portal ${portal} refused the connection${suffix}: is the target listening there?`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return `portal ${portal} is unreachable${suffix}: no route from that adapter`;
    case 'EINVAL': return `portal ${portal} cannot be reached${suffix}: the bound interface has no route to it`;
    default: return `cannot connect to portal ${portal}${suffix}: ${error.message}`;
  }
}
