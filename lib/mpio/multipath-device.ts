// A multipath device (DESIGN.md layer 5): the paths that reach one LU, a policy choosing one per I/O, failover of
// I/Os that hit a path error onto another path (the same buffer: reads land in it directly, writes are resent from
// it), a path checker that reinstates failed paths, and bounded queueing while no path is usable (protocol.md §0
// item 16). It is a LunDevice, so code written for one path keeps working.
import { EventEmitter } from 'node:events';
import type { UnmapRange, UnmapSupport } from '../scsi/unmap';
import { targetPortOf } from '../scsi/designators';
import { ScsiError } from '../scsi/scsi-error';
import { PathError, SessionArgumentError, ShortReadError } from '../session/errors';
import { LunDevice, type DeviceCapacity, type DeviceIdentity } from '../session/lun-device';
import type { LunEntry } from '../scsi/report-luns';
import type { ReportTargetPortGroups } from '../scsi/alua';
import type { SessionState } from '../session/session';
import { NoPathError } from './errors';
import { requireSameLu } from './lu-identity';
import { Path, type PathInfo, type PathState } from './path';
import { PathChecker } from './path-checker';
import type { PathSelector, PolicyName } from './path-selector';
import { createPolicy } from './policies';
import { needsFence, WriteFence, type FenceStats, type IoKind } from './write-fence';
import type { NbdListen, NbdServer } from '../nbd/server';
import type { Registry } from 'prom-client';

export interface MultipathOptions {
  /** Default `failover` (one active path, the others standby), as the classic MSDSM setup starts. */
  policy?: PolicyName;
  policyOptions?: object;
  /** How long I/O waits for a usable path when every path is down before failing with NoPathError. Default 5000. */
  noPathRetryMs?: number;
  /** Path checker interval. Default 2000. */
  checkIntervalMs?: number;
  /**
   * Reinstate failed paths (checker, session reconnects). Default true. When false a failed path stays failed, and
   * once no path is usable an I/O fails at once with the error of its last path: nothing would come back.
   */
  recover?: boolean;
  /**
   * How long a write whose path died may wait to be fenced (lib/mpio/write-fence.ts) before it fails as
   * indeterminate instead of being re-driven. Default 15000.
   */
  fenceTimeoutMs?: number;
}

export interface PathStateEvent { path: PathInfo; from: PathState; to: PathState }
export interface PathFailedEvent { path: PathInfo; error: Error }
export interface PolicyEvent { policy: PolicyName; options: Readonly<Record<string, unknown>>; previous: PolicyName }

export interface MultipathEvents {
  'path-state': PathStateEvent;
  'path-failed': PathFailedEvent;
  'path-reinstated': { path: PathInfo };
  'policy': PolicyEvent;
  /** A background check (ALUA refresh, identity re-check) went wrong; I/O is unaffected. */
  'warning': Error;
}

/** One attempt of an I/O on one path, settled through callbacks (LunDevice.submitRead's contract). */
type Submit<T> = (lu: LunDevice, resolve: (value: T) => void, reject: (error: Error) => void) => void;

const GONE: ReadonlySet<SessionState> = new Set(['recovering', 'failed', 'closed']);

/** A path error says nothing about the LU: the I/O can go down another path. */
function isPathFailure(error: unknown): error is Error {
  return error instanceof PathError || (error instanceof ScsiError && error.kind === 'pathError') || error instanceof ShortReadError;
}

/**
 * Re-driven without failing the path: a command a task management function aborted (a LUN RESET from any
 * initiator, our own fence included), and a read the target ended GOOD without all its data (seen from tgtd around
 * a LUN RESET): re-reading is harmless, and a path that keeps doing it runs out of re-drive attempts.
 */
function leavesPathUp(error: unknown): boolean {
  return (error instanceof PathError && error.code === 'EABORTED') || error instanceof ShortReadError;
}

export class MultipathDevice extends LunDevice {
  private readonly events = new EventEmitter();
  private selector: PathSelector<Path>;
  /** Usable paths of the best ALUA tier, in id order; replaced (never mutated) on every change, per-I/O reads only. */
  private candidates: readonly Path[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly checker: PathChecker;
  private readonly o: Required<Omit<MultipathOptions, 'policy' | 'policyOptions'>>;
  private closed = false;
  private aluaRefreshing = false;
  private aluaStale = false;
  private readonly fence: WriteFence;

  private constructor(
    readonly pathList: readonly Path[], lun: number, private readonly identityValue: DeviceIdentity,
    private readonly capacityValue: DeviceCapacity, private readonly alua: boolean, options: MultipathOptions,
  ) {
    super((pathList.find((p) => !p.failed) ?? pathList[0]).session, lun);
    this.o = {
      noPathRetryMs: options.noPathRetryMs ?? 5000, checkIntervalMs: options.checkIntervalMs ?? 2000, recover: options.recover ?? true,
      fenceTimeoutMs: options.fenceTimeoutMs ?? 15_000,
    };
    this.fence = new WriteFence({
      lun, workingPaths: () => this.pathList.filter((p) => p.usable), canRecover: () => this.canRecover(),
      warn: (e) => this.events.emit('warning', e),
    }, this.o.fenceTimeoutMs);
    this.selector = createPolicy<Path>(options.policy ?? 'failover', options.policyOptions);
    for (const p of pathList) {
      this.selector.add(p);
      p.lu.knowCapacity(capacityValue); // one LU: no READ CAPACITY per path before its first I/O
    }
    this.checker = new PathChecker(pathList, this.o.checkIntervalMs, {
      healthy: (p) => this.verifyAndReinstate(p),
      tick: () => (this.alua ? this.refreshAlua() : Promise.resolve()),
    });
    for (const p of pathList) {
      p.session.on('state', (s: SessionState) => this.sessionState(p, s));
      p.session.on('reconnected', () => {
        this.fence.changed(); // a reinstatement in the same portal group fences the old connection's writes
        void this.checker.check(p);
      });
      // ASYMMETRIC ACCESS STATE CHANGED (2A/06) and friends: read the port groups now, not at the next check.
      p.session.on('unitAttention', (ua: ScsiError) => { if (this.alua && ua.asc === 0x2a) void this.refreshAlua(); });
    }
    this.refresh();
    if (this.o.recover) this.checker.start();
  }

  /**
   * Builds the device over logged-in paths: checks that every path reaches the same LU (PathIdentityError
   * otherwise), reads the capacity and, where the LU reports ALUA, each path's access state.
   */
  static async open(paths: readonly Path[], lun: number, options: MultipathOptions = {}): Promise<MultipathDevice> {
    if (paths.length === 0) throw new SessionArgumentError('a multipath device needs at least one path');
    // Degraded start: paths whose session is not logged in yet join as failed and are verified when they log in.
    const up = paths.filter((p) => p.session.state === 'loggedIn');
    for (const p of paths) {
      if (up.includes(p)) continue;
      p.failed = true;
      p.lastError = p.session.lastLoginError ?? new PathError('the path has not logged in yet', 'ESESSIONDOWN');
    }
    if (up.length === 0) throw new SessionArgumentError('a multipath device needs at least one logged-in path');
    const identities = await Promise.all(up.map(async (p) => ({ pathId: p.id, identity: await p.lu.inquiry() })));
    requireSameLu(identities);
    const first = identities[0].identity;
    const alua = first.inquiry.tpgs !== 'none';
    identities.forEach(({ identity }, i) => { up[i].targetPortGroup = targetPortOf(identity.designators).targetPortGroup; });
    const capacity = await up[0].lu.capacity();
    const device = new MultipathDevice(paths, lun, first, capacity, alua, options);
    if (alua) await device.refreshAlua();
    return device;
  }

  // ---- what applications use ----

  /** The paths, in id order. Each has `state`, `stats` (live counters) and `info()`. */
  get paths(): readonly Path[] { return this.pathList; }

  get policy(): { name: PolicyName; options: Readonly<Record<string, unknown>> } {
    return { name: this.selector.name, options: this.selector.options };
  }

  /** Writes held until fenced, and how they were released (lib/mpio/write-fence.ts). */
  get fenceStats(): Readonly<FenceStats> { return this.fence.stats; }

  /** The LU identity (VPD 0x83 designator, else serial) the paths were grouped by. */
  get id(): string | undefined { return this.identityValue.identity?.id; }

  /** The INQUIRY data and capacity read when the device opened (no I/O: a status view can read them freely). */
  get knownIdentity(): DeviceIdentity { return this.identityValue; }
  get knownCapacity(): DeviceCapacity { return this.capacityValue; }

  override capacity(): Promise<DeviceCapacity> { return Promise.resolve(this.capacityValue); }
  override inquiry(): Promise<DeviceIdentity> { return Promise.resolve(this.identityValue); }

  /** Reads `blocks` blocks at `lba` into `into` (or a new buffer); a path failure re-drives into the same buffer. */
  override submitRead(lba: number, blocks: number, into: Buffer | undefined, resolve: (b: Buffer) => void, reject: (e: Error) => void): void {
    const bytes = blocks * this.capacityValue.blockSize;
    if (into && into.length < bytes) {
      reject(new SessionArgumentError(`read of ${blocks} blocks needs ${bytes} bytes, the buffer has ${into.length}`));
      return;
    }
    const buffer = into ?? Buffer.allocUnsafe(bytes);
    this.dispatch('read', bytes, (lu, res, rej) => lu.submitRead(lba, blocks, buffer, res, rej), resolve, reject);
  }

  override submitWrite(lba: number, data: Buffer, resolve: () => void, reject: (e: Error) => void): void {
    this.dispatch<void>('write', data.length, (lu, res, rej) => lu.submitWrite(lba, data, res, rej), resolve, reject);
  }

  override flush(): Promise<void> { return this.run('none', 0, (lu) => lu.flush()); }
  protected override readUnmapSupport(): Promise<UnmapSupport> {
    return this.run('none', 0, (lu) => lu.unmapSupport(this.identityValue.vpdPages));
  }
  /** One UNMAP, placed and re-driven as a write: it changes the LU, so a path that died with it in flight is fenced. */
  override unmapRanges(ranges: readonly UnmapRange[]): Promise<void> { return this.run('unmap', 0, (lu) => lu.unmapRanges(ranges)); }
  override testUnitReady(): Promise<void> { return this.run('none', 0, (lu) => lu.testUnitReady()); }
  override reportLuns(): Promise<LunEntry[]> { return this.run('none', 0, (lu) => lu.reportLuns()); }
  override reportTargetPortGroups(): Promise<ReportTargetPortGroups> { return this.run('none', 0, (lu) => lu.reportTargetPortGroups()); }

  /** Switches the policy now. In-flight I/Os finish where they are; the next I/O is placed by the new policy. */
  setPolicy(name: PolicyName, options: object = {}): void {
    const next = createPolicy<Path>(name, options);
    for (const p of this.pathList) {
      next.add(p);
      if (p.failed) next.fail(p);
    }
    const previous = this.selector.name;
    this.selector = next;
    this.events.emit('policy', { policy: next.name, options: next.options, previous } satisfies PolicyEvent);
    this.refresh();
  }

  /**
   * Exports this device over NBD on a Unix socket or a TCP address, so another process (qemu, fio, nbdcopy, the
   * kernel's nbd client) can use it. Close the server before the device. Required on first use: the NBD server sits
   * above this layer, which must not load it for every device.
   */
  async serveNbd(where: NbdListen, options: { name?: string } = {}): Promise<NbdServer> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { serveDeviceNbd } = require('../nbd/serve-device') as typeof import('../nbd/serve-device');
    return serveDeviceNbd(this, where, options);
  }

  /**
   * This device's Prometheus series (the ones `serve --metrics` publishes, labelled device=`name`, default the LU
   * id) in `registry` (default a new one). Required on first use, like serveNbd().
   */
  async metrics(options: { registry?: Registry; name?: string } = {}): Promise<Registry> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MpioMetrics } = require('../service/metrics') as typeof import('../service/metrics');
    const m = new MpioMetrics(options.registry);
    await m.add(options.name ?? this.id ?? 'lu', this);
    return m.registry;
  }

  /** Stops the checker and logs every path out (bounded); waiting I/O fails with NoPathError. */
  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.checker.stop();
    this.fence.close();
    this.wake();
    await Promise.all(this.pathList.map((p) => p.session.close().catch(() => undefined)));
  }

  on<K extends keyof MultipathEvents>(event: K, listener: (e: MultipathEvents[K]) => void): this {
    this.events.on(event, listener as (e: unknown) => void);
    return this;
  }

  once<K extends keyof MultipathEvents>(event: K, listener: (e: MultipathEvents[K]) => void): this {
    this.events.once(event, listener as (e: unknown) => void);
    return this;
  }

  off<K extends keyof MultipathEvents>(event: K, listener: (e: MultipathEvents[K]) => void): this {
    this.events.off(event, listener as (e: unknown) => void);
    return this;
  }

  // ---- the I/O path ----

  /** dispatch() for the commands off the hot path, written as promises. */
  private run<T>(kind: IoKind, bytes: number, op: (lu: LunDevice) => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      this.dispatch(kind, bytes, (lu, res, rej) => { op(lu).then(res, rej); }, resolve, reject);
    });
  }

  /**
   * Runs `submit` on a path the policy picks. A path failure marks the path failed and re-drives the I/O on another
   * usable path; with none, waits up to noPathRetryMs for one (NoPathError after that). The first attempt needs no
   * promise of its own: that is every I/O while the paths work.
   */
  private dispatch<T>(kind: IoKind, bytes: number, submit: Submit<T>, resolve: (v: T) => void, reject: (e: Error) => void): void {
    const candidates = this.candidates;
    if (this.closed || candidates.length === 0) {
      this.redrive(kind, bytes, submit).then(resolve, reject);
      return;
    }
    const selector = this.selector;
    const path = selector.select(candidates, bytes);
    path.stats.start(bytes);
    selector.startIo(path, bytes);
    const started = performance.now();
    submit(path.lu, (value) => {
      this.succeeded(selector, path, kind, bytes, started);
      resolve(value);
    }, (error) => {
      if (this.failed(selector, path, bytes, started, error)) this.redrive(kind, bytes, submit, error, 1, path).then(resolve, reject);
      else reject(error);
    });
  }

  /**
   * The retry loop of dispatch(): `attempts` made so far, the last of them failing with `lastError` on `lastPath`.
   * A write that may still execute where it failed waits for the fence first (lib/mpio/write-fence.ts).
   */
  private async redrive<T>(kind: IoKind, bytes: number, submit: Submit<T>, lastError?: Error, attempts = 0, lastPath?: Path): Promise<T> {
    let waitingSince: number | undefined;
    // Bounds re-drives on paths that flap (reinstated, failing again) even while some path looks usable.
    const maxAttempts = 3 * this.pathList.length + 3;
    for (;;) {
      if (lastPath && needsFence(kind, lastError)) {
        await this.fence.wait(lastPath, lastError);
        lastPath = undefined;
      }
      if (this.closed) throw new NoPathError('the multipath device is closed', 0, lastError);
      const candidates = this.candidates;
      if (candidates.length === 0) {
        if (!this.canRecover()) {
          throw lastError ?? new PathError(`no usable path to LU ${this.id ?? ''}: every path failed and none can come back`, 'ESESSIONDOWN');
        }
        const now = performance.now();
        waitingSince ??= now;
        const left = waitingSince + this.o.noPathRetryMs - now;
        if (left <= 0) {
          throw new NoPathError(`no usable path to LU ${this.id ?? ''} for ${this.o.noPathRetryMs} ms (${this.pathList.length} paths, all failed)`,
            Math.round(now - waitingSince), lastError);
        }
        await this.waitForPath(left);
        continue;
      }
      if (++attempts > maxAttempts) {
        throw new NoPathError(`I/O failed on ${attempts - 1} path attempts; the paths keep failing`, Math.round(performance.now() - (waitingSince ?? performance.now())), lastError);
      }
      const selector = this.selector;
      const path = selector.select(candidates, bytes);
      path.stats.start(bytes);
      selector.startIo(path, bytes);
      const started = performance.now();
      try {
        const result = await new Promise<T>((resolve, reject) => submit(path.lu, resolve, reject));
        this.succeeded(selector, path, kind, bytes, started);
        return result;
      } catch (error) {
        if (!this.failed(selector, path, bytes, started, error)) throw error;
        lastError = error as Error;
        lastPath = path;
      }
    }
  }

  private succeeded(selector: PathSelector<Path>, path: Path, kind: IoKind, bytes: number, started: number): void {
    const us = (performance.now() - started) * 1000;
    // An UNMAP moves no data: it counts with the other commands, not as a write of 0 bytes.
    path.stats.end(kind === 'unmap' ? 'none' : kind, bytes, us);
    selector.endIo(path, bytes, us);
  }

  /** Books an attempt that failed; true when it was the path's fault, and the I/O may go down another path. */
  private failed(selector: PathSelector<Path>, path: Path, bytes: number, started: number, error: unknown): boolean {
    const pathFailure = isPathFailure(error);
    path.stats.abort(bytes, pathFailure);
    selector.endIo(path, bytes, (performance.now() - started) * 1000);
    if (!pathFailure) return false;
    // A command aborted by a task management function (a LUN RESET from any initiator) says nothing about
    // the path: re-drive it without failing the path.
    if (!leavesPathUp(error)) this.failPath(path, error);
    return true;
  }

  private waitForPath(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Whether waiting can help: some path is on its way back (or may be reinstated by the checker). */
  private canRecover(): boolean {
    return this.pathList.some((p) => {
      const s = p.session.state;
      if (s === 'closed' || s === 'failed') return false;
      return !p.failed || this.o.recover;
    });
  }

  // ---- path state ----

  private failPath(path: Path, error: Error): void {
    if (error instanceof ScsiError && this.alua) void this.refreshAlua();
    if (path.failed) return;
    path.failed = true;
    path.lastError = error;
    path.stats.failovers++;
    this.selector.fail(path);
    this.events.emit('path-failed', { path: path.info(), error } satisfies PathFailedEvent);
    this.refresh();
    // A path whose session is still logged in (a timeout, a standby port) is checked at the next interval; one
    // whose session reconnects is checked on 'reconnected'.
  }

  private reinstate(path: Path): void {
    if (!path.failed || this.closed) return;
    path.failed = false;
    path.lastError = undefined;
    path.stats.reinstatements++;
    this.selector.reinstate(path);
    this.events.emit('path-reinstated', { path: path.info() });
    this.refresh();
  }

  private sessionState(path: Path, state: SessionState): void {
    if (this.closed) return;
    if (GONE.has(state)) this.failPath(path, new PathError(`the path's session is ${state}`, 'ESESSIONDOWN'));
    else this.refresh(); // draining paths leave the candidates, logged-in ones return
  }

  /** After a good TEST UNIT READY: re-check the LU identity and port (the re-login may have landed elsewhere). */
  private async verifyAndReinstate(path: Path): Promise<void> {
    const identity = await path.lu.inquiry();
    try {
      requireSameLu([{ pathId: this.pathList[0].id, identity: this.identityValue }, { pathId: path.id, identity }]);
    } catch (error) {
      this.events.emit('warning', error);
      return;
    }
    path.targetPortGroup = targetPortOf(identity.designators).targetPortGroup;
    if (this.alua) await this.refreshAlua(path);
    this.reinstate(path);
  }

  /**
   * REPORT TARGET PORT GROUPS through each logged-in path (or just `only`), taking that path's own port group
   * state: some targets describe only the group of the port asked. A group missing from the answer = no ALUA
   * information for the path (treated as active/optimized, like a target without ALUA).
   */
  private async refreshAlua(only?: Path): Promise<void> {
    if (this.closed) return;
    if (this.aluaRefreshing) {
      this.aluaStale = true; // a change may have come after the running refresh asked: ask again when it ends
      return;
    }
    this.aluaRefreshing = true;
    this.aluaStale = false;
    try {
      let changed = false;
      for (const p of only ? [only] : this.pathList) {
        if (p.session.state !== 'loggedIn' || p.targetPortGroup === undefined) continue;
        try {
          const rtpg = await p.lu.reportTargetPortGroups();
          const state = rtpg.groups.find((g) => g.id === p.targetPortGroup)?.state;
          if (state !== p.alua) { p.alua = state; changed = true; }
        } catch (error) {
          if (this.events.listenerCount('warning') > 0) this.events.emit('warning', error);
        }
      }
      if (changed) this.refresh();
    } finally {
      this.aluaRefreshing = false;
    }
    if (this.aluaStale) await this.refreshAlua();
  }

  /** Recomputes the candidates (usable paths of the best ALUA tier) and each path's shown state. */
  private refresh(): void {
    const usable = this.pathList.filter((p) => p.usable);
    const best = Math.min(...usable.map((p) => p.tier));
    this.candidates = usable.filter((p) => p.tier === best);
    const active = new Set(this.candidates.length > 0 ? this.selector.activeSet(this.candidates) : []);
    for (const p of this.pathList) {
      const to: PathState = p.failed ? 'failed' : active.has(p) ? 'active' : 'standby';
      if (to !== p.state) {
        const from = p.state;
        p.state = to;
        this.events.emit('path-state', { path: p.info(), from, to } satisfies PathStateEvent);
      }
    }
    if (this.candidates.length > 0) this.wake();
    this.fence?.changed();
  }
}
