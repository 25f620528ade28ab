// The public Initiator (DESIGN.md "Library"): discovery and one-path sessions. Each path gets its own stable ISID
// (lib/protocol/isid.ts), claimed host-wide for the session's life (lib/protocol/isid-registry.ts), so no two
// sessions of this host collide (paths, devices or processes) and a path that reconnects makes the target clean up
// its old session at once.
import os from 'node:os';
import type { ChapAlgorithm, ChapInitiatorOptions } from './protocol/chap';
import type { DiscoveredTarget } from './protocol/discovery-text';
import type { IsidPathKey } from './protocol/isid';
import { claimIsid, type IsidClaim } from './protocol/isid-registry';
import type { OperationalValues } from './protocol/negotiation';
import { sendTargets } from './session/discovery';
import { NoPathError } from './mpio/errors';
import { MultipathDevice } from './mpio/multipath-device';
import { Path } from './mpio/path';
import type { PolicyName } from './mpio/path-selector';
import { formatPortal, type Portal } from './portal';
import { Session, type SessionOptions } from './session/session';
import { IscsiUrlError, parseIscsiUrl, parsePortal, redactUrl, type IscsiUrl } from './url';
import { localSides, planPaths, targetPortals, type PortalLayout } from './path-plan';

export interface InitiatorOptions {
  /** The iSCSI initiator name; default iqn.2024-01.io.iscsi-mpio:<hostname>. */
  name?: string;
  alias?: string;
}

/**
 * One path: where it leaves this host (a source address and/or a network device to bind to) and, optionally, the
 * portal it logs in to when that is not the request's (each array port a path of its own, no redirect needed).
 */
export interface PathSpec { sourceAddress?: string; device?: string; portal?: string | Portal }

export interface ChapOptions {
  user: string;
  secret: string;
  /** Mutual CHAP: the target must answer as this user with this secret. */
  mutual?: { user: string; secret: string };
  algorithms?: ChapAlgorithm[];
}

export interface DiscoverOptions {
  chap?: ChapOptions;
  path?: PathSpec;
  /** Each Text Response (default 10 s); also the login's unless loginTimeoutMs is given. */
  timeoutMs?: number;
  /** The TCP connect (at most 5 s of it) and each Login Response. */
  loginTimeoutMs?: number;
  /** Told of trouble that did not spoil the answer (an unanswered Logout Request). */
  onWarning?: (warning: Error) => void;
  /** As SessionRequest.digests. */
  digests?: boolean;
}

export interface SessionRequest {
  target: string;
  portal: string | Portal;
  path?: PathSpec;
  /** A label for this path (stats, netstat). */
  pathId?: string | number;
  chap?: ChapOptions;
  /** CRC32C header and data digests: `true` requires them, `false` refuses them, unset prefers them. */
  digests?: boolean | { header: boolean; data: boolean };
  operational?: Partial<OperationalValues>;
  commandTimeoutMs?: number;
  loginTimeoutMs?: number;
  nopIntervalMs?: number;
  nopTimeoutMs?: number;
  /** With commands outstanding: ping after this much silence, dead after this long unanswered (default 500 + 500). */
  busyNopIntervalMs?: number;
  busyNopTimeoutMs?: number;
  /** How long close() waits for the Logout Response (default 3000). */
  logoutTimeoutMs?: number;
  maxRedirects?: number;
  reconnect?: boolean;
  /** Mixed into every path's ISID (IsidPathKey.seed): a persistent node's own, so its ISIDs survive restarts. */
  isidSeed?: string;
}

export interface ConnectRequest extends Omit<SessionRequest, 'path' | 'pathId'> {
  lun: number;
  /** netstat/stats label: the path's label with one path, "<label>.<index>" with several; default the index. */
  pathId?: string | number;
  /** One session per path, each with its own stable ISID; default one path from wherever routing sends it. */
  paths?: PathSpec[];
  /** Shorthand for `paths: [path]`. */
  path?: PathSpec;
  /**
   * Discover the target's portals (SendTargets through `portal`, from the first path's local side) and log in
   * `mesh`: every path spec into every portal, or `pair`: path spec i into portal i (the portals in the order the
   * target lists them; more portals than specs leaves the rest unused). The specs then give only the local side.
   */
  portalLayout?: PortalLayout;
  /**
   * With `portalLayout`: more portals to run SendTargets through, the answers merged (tgtd lists only the portal it
   * is asked on, so its other portals must be named).
   */
  discoveryPortals?: Array<string | Portal>;
  /** Default `failover`. */
  policy?: PolicyName;
  policyOptions?: object;
  /** All paths down: how long I/O waits for one to come back before failing with NoPathError. Default 5000. */
  noPathRetryMs?: number;
  /** Path checker (TEST UNIT READY on failed paths) interval. Default 2000. */
  checkIntervalMs?: number;
  /** Once one path is logged in, how long connect() waits for the others before coming up without them. Default 1000. */
  startupGraceMs?: number;
}

/** What connect() takes beside a URL: everything a ConnectRequest holds but what the URL says. */
export type ConnectUrlOptions = Omit<ConnectRequest, 'target' | 'portal' | 'lun'>;

/**
 * The request a URL and its options make. The URL's `user%secret@` is the CHAP login; with `user@` alone the secret
 * comes from `options.chap` (as the CLI's file or environment gives it), and a URL naming a user with no secret
 * anywhere is refused before anything connects.
 */
function requestFromUrl(url: string | IscsiUrl, options: ConnectUrlOptions): ConnectRequest {
  const parsed = typeof url === 'string' ? parseIscsiUrl(url) : url;
  const where = typeof url === 'string' ? redactUrl(url) : `iscsi://${formatPortal(parsed.portal)}/${parsed.target}/${parsed.lun}`;
  const request: ConnectRequest = { ...options, target: parsed.target, portal: parsed.portal, lun: parsed.lun };
  if (parsed.user !== undefined) {
    if (options.chap && options.chap.user !== parsed.user) {
      throw new IscsiUrlError(where, `CHAP user "${parsed.user}" differs from options.chap.user "${options.chap.user}"`);
    }
    const secret = parsed.secret ?? options.chap?.secret;
    if (!secret) throw new IscsiUrlError(where, `no CHAP secret for user "${parsed.user}" (user%secret@ in the URL, or options.chap.secret)`);
    request.chap = { ...options.chap, user: parsed.user, secret };
  }
  return request;
}

function chapOptions(chap?: ChapOptions): ChapInitiatorOptions | undefined {
  if (!chap) return undefined;
  return { user: chap.user, secret: chap.secret, mutual: chap.mutual, algorithms: chap.algorithms };
}

/**
 * Waits for the paths' first logins: all of them, or, once one is up, at most `graceMs` more for the rest (a path
 * that is down must not hold the device back; it joins when it logs in). 'up', the login error, or 'pending'.
 */
async function firstLogins(logins: Array<Promise<void>>, graceMs: number): Promise<Array<'up' | 'pending' | Error>> {
  const outcomes: Array<'up' | 'pending' | Error> = logins.map(() => 'pending');
  let graceTimer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    let settled = 0;
    logins.forEach((login, i) => login.then(() => { outcomes[i] = 'up'; }, (error: Error) => { outcomes[i] = error; }).finally(() => {
      if (++settled === logins.length) resolve();
      else if (outcomes[i] === 'up' && graceTimer === undefined) graceTimer = setTimeout(resolve, graceMs);
    }));
  });
  clearTimeout(graceTimer);
  return [...outcomes];
}

function describeSpec(spec: PathSpec): string {
  const portal = spec.portal && formatPortal(toPortal(spec.portal));
  const where = [spec.sourceAddress && `from ${spec.sourceAddress}`, spec.device && `on ${spec.device}`, portal && `to ${portal}`].filter(Boolean).join(' ');
  return where ? ` (${where})` : '';
}

/** Keeps the session's ISID claimed until the session closes (its reconnects reuse the ISID). */
function holdWhileOpen(session: Session, claim: IsidClaim): Session {
  session.on('state', (state) => { if (state === 'closed') claim.release(); });
  return session;
}

function toPortal(portal: string | Portal): Portal {
  return typeof portal === 'string' ? parsePortal(portal) : portal;
}

export class Initiator {
  readonly name: string;
  readonly alias?: string;

  constructor(options: InitiatorOptions = {}) {
    this.name = options.name ?? `iqn.2024-01.io.iscsi-mpio:${os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-')}`;
    this.alias = options.alias;
  }

  /** SendTargets discovery on a portal: `[{name, portals: [{address, port, tpgt}]}]`. */
  async discover(portal: string | Portal, options: DiscoverOptions = {}): Promise<DiscoveredTarget[]> {
    const p = toPortal(options.path?.portal ?? portal);
    const { sourceAddress, device } = options.path ?? {};
    const claim = await claimIsid({ initiatorName: this.name, targetName: '(discovery)', portal: formatPortal(p), sourceAddress, device });
    try {
      return await sendTargets({
        initiatorName: this.name, portal: p, chap: chapOptions(options.chap), timeoutMs: options.timeoutMs, loginTimeoutMs: options.loginTimeoutMs, onWarning: options.onWarning,
        sourceAddress: options.path?.sourceAddress, device: options.path?.device, isid: claim.isid, digests: options.digests,
      });
    } finally {
      claim.release();
    }
  }

  /** Logs in one path (one session) to `target` through `portal`. */
  async openSession(request: SessionRequest): Promise<Session> {
    const claim = await claimIsid(this.isidKey(request));
    try {
      return holdWhileOpen(await Session.open(this.sessionOptions(request, claim.isid)), claim);
    } catch (error) {
      claim.release();
      throw error;
    }
  }

  private isidKey(request: SessionRequest): IsidPathKey {
    const { sourceAddress, device } = request.path ?? {};
    return {
      initiatorName: this.name, targetName: request.target, portal: formatPortal(toPortal(request.path?.portal ?? request.portal)), sourceAddress, device,
      seed: request.isidSeed,
    };
  }

  private sessionOptions(request: SessionRequest, isid: Buffer): SessionOptions {
    const portal = toPortal(request.path?.portal ?? request.portal);
    const path = request.path ?? {};
    const options: SessionOptions = {
      initiatorName: this.name, initiatorAlias: this.alias, targetName: request.target, portal, isid,
      sourceAddress: path.sourceAddress, device: path.device, pathId: request.pathId, chap: chapOptions(request.chap),
      digests: request.digests, operational: request.operational, commandTimeoutMs: request.commandTimeoutMs,
      loginTimeoutMs: request.loginTimeoutMs, nopIntervalMs: request.nopIntervalMs, nopTimeoutMs: request.nopTimeoutMs,
      logoutTimeoutMs: request.logoutTimeoutMs, maxRedirects: request.maxRedirects, reconnect: request.reconnect,
      busyNopIntervalMs: request.busyNopIntervalMs, busyNopTimeoutMs: request.busyNopTimeoutMs,
    };
    return options;
  }

  /**
   * Logs in on every path at once (one session each, distinct stable ISIDs; through a group portal each login may
   * be redirected to another array port) and returns the multipath device over them. The device comes up with the
   * paths that logged in (degraded start, as multipath-tools and MSDSM do): the others start `failed`, with their
   * reason in `path.lastError`, keep logging in in the background (unless `reconnect: false`) and join once they
   * do. Rejects with NoPathError naming every path's reason when none logs in, with PathIdentityError when the
   * paths reach different LUs; on any failure the sessions opened so far are logged out.
   *
   * Takes `iscsi://[user[%secret]@]host[:port]/<target-iqn>/<lun>` (a string or parseIscsiUrl's result) and the rest
   * as options, or one ConnectRequest with `target`, `portal` and `lun`.
   */
  connect(url: string | IscsiUrl, options?: ConnectUrlOptions): Promise<MultipathDevice>;
  connect(request: ConnectRequest): Promise<MultipathDevice>;
  async connect(from: string | IscsiUrl | ConnectRequest, options: ConnectUrlOptions = {}): Promise<MultipathDevice> {
    // A parsed URL is a request but for its CHAP login (user/secret, not chap), which requestFromUrl() turns into one.
    const request = typeof from === 'string' || 'user' in from || 'secret' in from ? requestFromUrl(from as string | IscsiUrl, options) : { ...from, ...options };
    const specs = await this.planPaths(request);
    const requests = specs.map((spec, id) => {
      const label = request.pathId === undefined ? id : specs.length === 1 ? request.pathId : `${request.pathId}.${id}`;
      return { ...request, path: spec, pathId: label };
    });
    // One after another, so two paths with the same spec take the path's qualifiers in spec order (stable).
    const claims: IsidClaim[] = [];
    for (const r of requests) claims.push(await claimIsid(this.isidKey(r)));
    const recover = request.reconnect ?? true;
    const started = requests.map((r, id) => {
      const s = Session.start({ ...this.sessionOptions(r, claims[id].isid), reconnect: recover });
      holdWhileOpen(s.session, claims[id]);
      return s;
    });
    const outcomes = await firstLogins(started.map((s) => s.ready), request.startupGraceMs ?? 1000);
    const paths = started.map((s, id) => new Path(id, s.session, request.lun));
    if (!outcomes.some((o) => o === 'up')) {
      await Promise.all(paths.map((p) => p.session.close().catch(() => undefined)));
      // One path: its own typed error (AuthenticationError, ConnectError...) says it best.
      if (outcomes.length === 1) throw outcomes[0];
      const reasons = outcomes.map((o, id) => `path ${id}${describeSpec(specs[id])}: ${(o as Error).message}`);
      const error = new NoPathError(`no path logged in to ${request.target} (${reasons.join('; ')})`, 0, outcomes[0] as Error);
      throw Object.assign(error, { reasons: outcomes });
    }
    try {
      return await MultipathDevice.open(paths, request.lun, {
        policy: request.policy, policyOptions: request.policyOptions, noPathRetryMs: request.noPathRetryMs,
        checkIntervalMs: request.checkIntervalMs, recover,
      });
    } catch (error) {
      await Promise.all(paths.map((p) => p.session.close().catch(() => undefined)));
      throw error;
    }
  }

  /**
   * The path specs connect() logs in on: the request's, or with `portalLayout` its local sides laid over the
   * portals the target's SendTargets answer lists (one discovery; bench resolves it once for all its runs).
   */
  async planPaths(request: ConnectRequest): Promise<PathSpec[]> {
    const specs = request.paths?.length ? request.paths : [request.path ?? {}];
    const layout = request.portalLayout;
    if (!layout) return specs;
    const { sourceAddress, device } = localSides(specs)[0];
    const vias = [request.portal, ...(request.discoveryPortals ?? [])].map(toPortal);
    const options: DiscoverOptions = {
      chap: request.chap, digests: typeof request.digests === 'object' ? request.digests.header : request.digests,
      path: { sourceAddress, device }, loginTimeoutMs: request.loginTimeoutMs, timeoutMs: request.commandTimeoutMs,
    };
    const answers = await Promise.all(vias.map(async (via) => ({ via: formatPortal(via), targets: await this.discover(via, options) })));
    return planPaths(specs, targetPortals(answers, request.target), layout);
  }
}
