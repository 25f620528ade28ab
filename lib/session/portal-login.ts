// Connect to a portal and log in, following login redirects (RFC 7143 §11.13.5, protocol.md §0 items 2-3). The
// login itself is the protocol layer's machine (lib/protocol/initiator-login.ts); this file only moves its PDUs:
// a bounded number of hops, a loop is an error naming every address seen, and the result says where the login
// landed and whether a permanent redirect moved the path's home portal.
import { formatPortal, type Portal } from '../portal';
import { AuthenticationError, ChapAlgorithm, DEFAULT_CHAP_ALGORITHMS, type ChapInitiatorOptions } from '../protocol/chap';
import { InitiatorLogin, type InitiatorLoginOptions, type InitiatorLoginStep, type LoginResult } from '../protocol/initiator-login';
import { LoginError } from '../protocol/login-status';
import { LOGIN_MAX_DATA_LENGTH, type Pdu } from '../protocol/pdu';
import type { LoginResponse } from '../wire/bhs';
import { PduConnection } from '../wire/connection';
import { PathError, RedirectLoopError } from './errors';
import { PduReceiver } from './pdu-receiver';

export interface PortalLoginOptions extends InitiatorLoginOptions {
  portal: Portal;
  sourceAddress?: string;
  device?: string;
  connectTimeoutMs: number;
  /** How long to wait for each Login Response. */
  timeoutMs: number;
  maxRedirects: number;
  /** Abandons the login (the session was closed): the connection in hand is destroyed, the promise rejects. */
  signal?: AbortSignal;
}

export interface Redirect { from: Portal; to: Portal; permanent: boolean }

export interface PortalLogin {
  /** In Full Feature Phase: negotiated digests and our MaxRecvDataSegmentLength already applied. */
  connection: PduConnection;
  login: LoginResult;
  /** The portal the login completed on. */
  landed: Portal;
  redirects: Redirect[];
  /** Set when a permanent redirect moved the path: later reconnects go there instead of `portal`. */
  movedTo?: Portal;
}

export async function loginWithRedirects(options: PortalLoginOptions): Promise<PortalLogin> {
  let portal = options.portal;
  const seen = [formatPortal(portal)];
  const redirects: Redirect[] = [];
  let movedTo: Portal | undefined;
  let chap = options.chap;
  for (;;) {
    const connection = await PduConnection.connect({
      host: portal.address, port: portal.port, sourceAddress: options.sourceAddress, device: options.device,
      timeoutMs: options.connectTimeoutMs, role: 'initiator', signal: options.signal,
    });
    const abandon = (): void => connection.destroy();
    options.signal?.addEventListener('abort', abandon, { once: true });
    // Until the login completes the default MaxRecvDataSegmentLength holds (RFC 7143 §13.12).
    connection.setMaxRecvDataSegmentLength(LOGIN_MAX_DATA_LENGTH);
    const login = new InitiatorLogin({ ...options, chap });
    let step: Exclude<InitiatorLoginStep, { kind: 'send' }>;
    try {
      step = await drive(connection, login, options.timeoutMs);
      if (options.signal?.aborted) throw new PathError('login abandoned: the session was closed', 'ESESSIONDOWN');
    } catch (error) {
      connection.destroy();
      if (options.signal?.aborted) throw error;
      const md5 = md5Retry(error, login, chap);
      if (!md5) throw error;
      chap = md5; // once: MD5 alone cannot qualify again
      continue;
    }
    options.signal?.removeEventListener('abort', abandon);
    if (step.kind === 'done') {
      // Bytes that came with the final Login Response may already have broken the connection (garbage after the
      // login): its 'error' and 'close' went by while only the login listened, so say it here or nobody will.
      if (connection.ended) {
        const why = connection.failure?.message ?? 'the target closed it';
        throw new PathError(`connection to ${formatPortal(portal)} lost right after the login: ${why}`, 'ECONNLOST', connection.failure);
      }
      const p = step.result.parameters;
      // Digests start with the first PDU after the final Login Response; each direction has its own segment limit.
      connection.setDigests(p.headerDigest === 'CRC32C', p.dataDigest === 'CRC32C');
      connection.setMaxRecvDataSegmentLength(p.initiatorMaxRecvDataSegmentLength);
      return { connection, login: step.result, landed: portal, redirects, movedTo };
    }
    // Close the connection after any non-zero status class before going on (protocol.md §0 item 3).
    connection.destroy();
    const next: Portal = { address: step.redirect.address, port: step.redirect.port };
    const key = formatPortal(next);
    if (seen.includes(key) || redirects.length >= options.maxRedirects) throw new RedirectLoopError([...seen, key], options.maxRedirects);
    seen.push(key);
    redirects.push({ from: portal, to: next, permanent: step.redirect.permanent });
    if (step.redirect.permanent) movedTo = next;
    portal = next;
  }
}

/** Sends the machine's Login Requests and feeds it each Login Response until it is done or redirected. */
async function drive(connection: PduConnection, login: InitiatorLogin, timeoutMs: number): Promise<Exclude<InitiatorLoginStep, { kind: 'send' }>> {
  const receiver = new PduReceiver(connection);
  try {
    let step = login.start();
    while (step.kind === 'send') {
      connection.send(step.pdu.bhs, step.pdu.data);
      // The machine checks the opcode and throws ProtocolError for anything but a Login Response.
      step = login.receive((await receiver.next(timeoutMs, 'Login Response')) as Pdu<LoginResponse>);
    }
    return step;
  } finally {
    receiver.detach();
  }
}

/**
 * tgt numbers CHAP_A=7 as SHA-1 where IANA (and we) say SHA-256: offered "7,5" it picks 7 and then refuses our
 * SHA-256 response. So when the target refuses a login after choosing an algorithm stronger than MD5, log in once
 * more offering MD5 alone (the one every target must support, RFC 7143 §12.1.3), if the caller's list has MD5.
 */
function md5Retry(error: unknown, login: InitiatorLogin, chap: ChapInitiatorOptions | undefined): ChapInitiatorOptions | undefined {
  const refusal = error instanceof AuthenticationError ? error.cause : error;
  if (!chap || !(refusal instanceof LoginError) || refusal.statusClass !== 2) return undefined;
  const chosen = login.chapAlgorithm;
  if (chosen === undefined || chosen === ChapAlgorithm.MD5) return undefined;
  if (!(chap.algorithms ?? DEFAULT_CHAP_ALGORITHMS).includes(ChapAlgorithm.MD5)) return undefined;
  return { ...chap, algorithms: [ChapAlgorithm.MD5] };
}
