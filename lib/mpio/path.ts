// A path: one session to the LU plus what multipath needs to know about it (state, ALUA access state, live
// counters, where it leaves this host and which array port it landed on).
import type { AluaState } from '../scsi/alua';
import { LunDevice } from '../session/lun-device';
import { formatPortal, type Portal } from '../portal';
import type { Session } from '../session/session';
import { PathStats, type PathStatsSnapshot } from './path-stats';

/** `failed`: not usable until the checker reinstates it; `standby`: usable, but the policy sends it nothing now. */
export type PathState = 'active' | 'standby' | 'failed';

/** What a policy looks at: path selectors never touch sessions. */
export interface SelectablePath {
  readonly id: number;
  readonly stats: PathStats;
}

export interface PathInfo {
  id: number;
  local: { address: string | null; port: number | null; device: string | null };
  /** The array port the login landed on. */
  remote: Portal;
  /** The portal this path was told to log in to ("host:port": its path spec's, or the request's). */
  portal: string;
  /** The portal this path logged in through before the array redirected it ("host:port"), if it was redirected. */
  redirectedFrom: string | null;
  state: PathState;
  /** The ALUA access state of the path's target port group, where the target reports ALUA. */
  alua?: AluaState;
  targetPortGroup?: number;
  isid: string;
  stats: PathStatsSnapshot;
}

// Lower is better; Infinity = never send I/O there (protocol.md §7: standby/unavailable/offline/transitioning).
const ALUA_TIER: Partial<Record<AluaState, number>> = { 'active/optimized': 0, 'active/non-optimized': 1, 'lba-dependent': 2 };

export class Path implements SelectablePath {
  state: PathState = 'standby';
  /** Set when an I/O or the session failed; cleared by reinstatement. */
  failed = false;
  lastError?: Error;
  alua?: AluaState;
  targetPortGroup?: number;
  relativeTargetPort?: number;
  readonly stats = new PathStats();
  /** The LU through this path alone: SCSI retries (UA, BUSY) happen here, path errors come up to the device. */
  readonly lu: LunDevice;

  constructor(readonly id: number, readonly session: Session, lun: number) {
    this.lu = new LunDevice(session, lun);
  }

  /** ALUA preference tier (0 best); Infinity when the port must not get I/O. Paths without ALUA are tier 0. */
  get tier(): number {
    return this.alua === undefined ? 0 : ALUA_TIER[this.alua] ?? Infinity;
  }

  /** Can carry I/O now: not failed, logged in (not draining for a logout), and an ALUA state that takes I/O. */
  get usable(): boolean {
    return !this.failed && this.session.state === 'loggedIn' && this.tier !== Infinity;
  }

  info(): PathInfo {
    const s = this.session.info();
    const out: PathInfo = {
      id: this.id,
      local: { address: s.local.address ?? null, port: s.local.port ?? null, device: s.local.device ?? null },
      remote: { address: s.landed.address, port: s.landed.port }, portal: formatPortal(s.portal),
      redirectedFrom: s.redirectedFrom ? formatPortal(s.redirectedFrom) : null,
      state: this.state, isid: s.isid, stats: this.stats.snapshot(),
    };
    if (this.alua !== undefined) out.alua = this.alua;
    if (this.targetPortGroup !== undefined) out.targetPortGroup = this.targetPortGroup;
    return out;
  }
}
