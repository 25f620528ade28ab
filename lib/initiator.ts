// The public Initiator (DESIGN.md "Library"): discovery and one-path sessions. Each path gets its own stable ISID
// (lib/protocol/isid.ts), so several paths to one portal group never collide and a path that reconnects makes
// the target clean up its old session at once.
import os from 'node:os';
import type { ChapAlgorithm, ChapInitiatorOptions } from './protocol/chap';
import type { DiscoveredTarget } from './protocol/discovery-text';
import { deriveIsid } from './protocol/isid';
import type { OperationalValues } from './protocol/negotiation';
import { sendTargets } from './session/discovery';
import { LunDevice } from './session/lun-device';
import { formatPortal, type Portal } from './session/portal-login';
import { Session, type SessionOptions } from './session/session';
import { parsePortal } from './url';

export interface InitiatorOptions {
  /** The iSCSI initiator name; default iqn.2024-01.io.iscsi-mpio:<hostname>. */
  name?: string;
  alias?: string;
}

/** Where a path leaves this host: a source address and/or a network device to bind to. */
export interface PathSpec { sourceAddress?: string; device?: string }

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
  timeoutMs?: number;
}

export interface SessionRequest {
  target: string;
  portal: string | Portal;
  path?: PathSpec;
  /** A label for this path (stats, netstat). */
  pathId?: string | number;
  chap?: ChapOptions;
  digests?: boolean | { header: boolean; data: boolean };
  operational?: Partial<OperationalValues>;
  commandTimeoutMs?: number;
  loginTimeoutMs?: number;
  nopIntervalMs?: number;
  nopTimeoutMs?: number;
  maxRedirects?: number;
  reconnect?: boolean;
}

export interface ConnectRequest extends Omit<SessionRequest, 'path'> {
  lun: number;
  /** One path for now; the multipath device (DESIGN.md layer 5) groups several. */
  paths?: PathSpec[];
}

function chapOptions(chap?: ChapOptions): ChapInitiatorOptions | undefined {
  if (!chap) return undefined;
  return { user: chap.user, secret: chap.secret, mutual: chap.mutual, algorithms: chap.algorithms };
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
  discover(portal: string | Portal, options: DiscoverOptions = {}): Promise<DiscoveredTarget[]> {
    const p = toPortal(portal);
    return sendTargets({
      initiatorName: this.name, portal: p, chap: chapOptions(options.chap), timeoutMs: options.timeoutMs,
      sourceAddress: options.path?.sourceAddress, device: options.path?.device,
      isid: deriveIsid({ initiatorName: this.name, targetName: '(discovery)', portal: formatPortal(p), ...options.path }),
    });
  }

  /** Logs in one path (one session) to `target` through `portal`. */
  openSession(request: SessionRequest): Promise<Session> {
    const portal = toPortal(request.portal);
    const path = request.path ?? {};
    const options: SessionOptions = {
      initiatorName: this.name, initiatorAlias: this.alias, targetName: request.target, portal,
      isid: deriveIsid({ initiatorName: this.name, targetName: request.target, portal: formatPortal(portal), ...path }),
      sourceAddress: path.sourceAddress, device: path.device, pathId: request.pathId, chap: chapOptions(request.chap),
      digests: request.digests, operational: request.operational, commandTimeoutMs: request.commandTimeoutMs,
      loginTimeoutMs: request.loginTimeoutMs, nopIntervalMs: request.nopIntervalMs, nopTimeoutMs: request.nopTimeoutMs,
      maxRedirects: request.maxRedirects, reconnect: request.reconnect,
    };
    return Session.open(options);
  }

  /** Logs in and returns the LU with read/write/flush/inquiry/close. */
  async connect(request: ConnectRequest): Promise<LunDevice> {
    if ((request.paths?.length ?? 0) > 1) {
      throw new RangeError('connect: several paths need the multipath device (not built yet); give one path');
    }
    const session = await this.openSession({ ...request, path: request.paths?.[0] });
    const device = new LunDevice(session, request.lun);
    try {
      await device.capacity();
    } catch (error) {
      await session.close();
      throw error;
    }
    return device;
  }
}
