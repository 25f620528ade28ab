// Connect to a portal and log in, following login redirects (RFC 7143 §11.13.5, protocol.md §0 items 2-3): a
// bounded number of hops, a loop is an error naming every address seen, and the result says where the login
// landed and whether a permanent redirect moved the path's home portal.
import { formatTargetAddress } from '../protocol/discovery-text';
import { PduConnection } from '../wire/connection';
import { RedirectLoopError } from './errors';
import { ChapAlgorithmsRefused, MANDATORY_CHAP, runLogin, type LoginOptions, type LoginResult } from './login-driver';

export interface Portal { host: string; port: number }

export interface PortalLoginOptions extends LoginOptions {
  portal: Portal;
  sourceAddress?: string;
  device?: string;
  connectTimeoutMs: number;
  maxRedirects: number;
}

export interface Redirect { from: Portal; to: Portal; permanent: boolean }

export interface PortalLogin {
  connection: PduConnection;
  login: Extract<LoginResult, { kind: 'loggedIn' }>;
  /** The portal the login completed on. */
  landed: Portal;
  redirects: Redirect[];
  /** Set when a permanent redirect moved the path: later reconnects go there instead of `portal`. */
  movedTo?: Portal;
}

export const formatPortal = (p: Portal): string => formatTargetAddress({ address: p.host, port: p.port });

export async function loginWithRedirects(options: PortalLoginOptions): Promise<PortalLogin> {
  let portal = options.portal;
  const seen = [formatPortal(portal)];
  const redirects: Redirect[] = [];
  let movedTo: Portal | undefined;
  let chap = options.chap;
  for (;;) {
    const connection = await PduConnection.connect({
      host: portal.host, port: portal.port, sourceAddress: options.sourceAddress, device: options.device,
      timeoutMs: options.connectTimeoutMs, role: 'initiator',
    });
    connection.setMaxRecvDataSegmentLength(8192);
    let result: LoginResult;
    try {
      result = await runLogin(connection, { ...options, chap });
    } catch (error) {
      connection.destroy();
      if (!(error instanceof ChapAlgorithmsRefused) || !chap) throw error;
      chap = { ...chap, algorithms: MANDATORY_CHAP }; // one retry, same portal
      if (options.chap?.algorithms?.length === 1) throw error.loginError;
      continue;
    }
    if (result.kind === 'loggedIn') return { connection, login: result, landed: portal, redirects, movedTo };
    // Close the connection after any non-zero status class before going on (protocol.md §0 item 3).
    connection.destroy();
    const next: Portal = { host: result.address.address, port: result.address.port };
    const key = formatPortal(next);
    if (seen.includes(key) || redirects.length >= options.maxRedirects) throw new RedirectLoopError([...seen, key], options.maxRedirects);
    seen.push(key);
    redirects.push({ from: portal, to: next, permanent: result.permanent });
    if (result.permanent) movedTo = next;
    portal = next;
  }
}
