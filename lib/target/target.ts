// The embedded array: a group portal that redirects logins to member portals (round-robin, skipping members that
// are down, as an EqualLogic group does), member portals serving the same LUs with one identity, ALUA per member
// port group, and the controls tests and the demo need (pacing, member down/up, drops, async logout requests,
// response and login delays).
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { Portal } from '../portal';
import { AluaStateCode } from '../scsi/alua';
import { formatSendTargets, selectSendTargets, type DiscoveredTarget } from '../protocol/discovery-text';
import { LoginError } from '../protocol/login-status';
import { TargetLogin, type TargetAuthPolicy, type TargetLoginConfig } from '../protocol/target-login';
import { BufferBudget } from './buffer-budget';
import { CommandHold } from './command-hold';
import { ConnectionAdmission } from './connection-admission';
import { LogicalUnit } from './lu/logical-unit';
import { executeWithoutLogicalUnit } from './lu/absent-lu';
import type { TargetPortGroupConfig } from './lu/types';
import { parseLinkRate } from './link-rate';
import { MemberPortal, type MemberPortalInfo } from './member-portal';
import { PortalBalancer } from './portal-balancer';
import { PortalListener } from './portal-listener';
import { COMMAND_WINDOW, TargetConnection, type ConnectionHost, type ConnectionInfo, type LunResolver, type RefusalCounters } from './target-connection';
import {
  DEFAULT_IQN, DEFAULT_LUN_SIZE, DEFAULT_TARGET_LIMITS, parsePortal, parseSize, resolveCaps,
  type AluaAccessState, type ChapAccount, type LunOptions, type MemberPortalOptions, type TargetCaps, type TargetOptions,
} from './target-options';

export * from './target-options';
export type { MemberPortalInfo } from './member-portal';
export type { ConnectionInfo } from './target-connection';

const ALUA_CODES: Record<AluaAccessState, number> = {
  'active-optimized': AluaStateCode.ACTIVE_OPTIMIZED, 'active-non-optimized': AluaStateCode.ACTIVE_NON_OPTIMIZED,
  standby: AluaStateCode.STANDBY, unavailable: AluaStateCode.UNAVAILABLE,
};

export interface PortalInfo { role: 'group' | 'member'; address: string; port: number; tpgt: number; up: boolean }

export interface LunInfo { lun: number; blockSize: number; blocks: number; bytes: number; serial: string; naa: string; file?: string }

/** The target's own accounting of what initiators make it hold (tests check the caps against it). */
export interface TargetResources {
  /** Scratch bytes write commands hold now, and the most they ever held at once. */
  bufferedBytes: number;
  peakBufferedBytes: number;
  /** Open connections on every portal, and those still in the login phase. */
  connections: number;
  loginConnections: number;
  /** SCSI tasks in the connections' task tables. */
  tasks: number;
  /** Commands waiting in stalled members. */
  heldCommands: number;
  /** Connections taken since the start, those closed at accept by a cap, and logins evicted (maxLoginConnections). */
  acceptedConnections: number;
  refusedConnections: number;
  evictedLogins: number;
  /** Commands answered TASK SET FULL or BUSY by a cap, immediate commands Rejected over their cap. */
  refusedCommands: number;
  rejectedImmediateCommands: number;
  /** Writes ended with DATA PHASE ERROR (their Data-Out overlapped, left a gap or broke DataSN order). */
  dataPhaseErrors: number;
}

export interface SessionFilter {
  /** Only connections on this member (index into `members`). */
  member?: number;
  initiatorName?: string;
}

/**
 * Events: 'login' {member, initiatorName, isid, tsih}, 'redirect' {initiatorName, member}, 'login-failed' Error,
 * 'session-closed' {member, initiatorName, isid}, 'reinstated' {member, initiatorName, isid, tasks} (a login took
 * over an open session; its connection and `tasks` commands ended), 'tasks-cleared' {lun, kind, tasks} (task
 * management ended `tasks` commands: kind 'clear', 'reset', 'warm' or 'cold'; lun null for a target reset),
 * 'warning' Error (a fault inside one connection, which is closed).
 */
export class Target extends EventEmitter {
  readonly iqn: string;
  private readonly memberPortals: MemberPortal[] = [];
  private groupListener?: PortalListener;
  private readonly groupConnections = new Set<TargetConnection>();
  private readonly balancer: PortalBalancer<MemberPortal>;
  private readonly lus = new Map<number, LogicalUnit>();
  private readonly lunFiles = new Map<number, string>();
  private readonly sessionsByKey = new Map<string, TargetConnection>();
  private nextTsih = 1;
  private readonly auth?: TargetAuthPolicy;
  private readonly discoveryAuth?: TargetAuthPolicy;
  private stopped = false;
  private readonly caps: TargetCaps;
  private readonly buffers: BufferBudget;
  /** The connection caps; each portal's new connections go through it (the group portal's as `undefined`). */
  private readonly admission: ConnectionAdmission<MemberPortal | undefined>;
  private readonly groupHold = new CommandHold();
  private readonly refusals: RefusalCounters = { commands: 0, immediate: 0, dataPhaseErrors: 0 };

  private constructor(private readonly options: TargetOptions) {
    super();
    this.iqn = options.iqn ?? DEFAULT_IQN;
    this.balancer = new PortalBalancer(this.memberPortals);
    this.caps = resolveCaps(options.caps);
    this.buffers = new BufferBudget(this.caps.maxBufferedBytes, this.caps.maxBufferedBytesPerConnection);
    this.admission = new ConnectionAdmission(this.caps, () => this.allConnections().length);
    const accounts: readonly ChapAccount[] = options.chap === undefined ? [] : Array.isArray(options.chap) ? options.chap : [options.chap as ChapAccount];
    if (accounts.length > 0 || options.discoveryChap) {
      const secrets = new Map(accounts.map((a) => [a.user, a.secret]));
      const policy: TargetAuthPolicy = { chap: { lookup: (user) => secrets.get(user), outgoing: options.mutualChap } };
      if (accounts.length > 0) this.auth = policy;
      if (options.discoveryChap) this.discoveryAuth = policy;
    }
  }

  /** Starts listening on every portal; rejects (and closes what it opened) when a portal or LU cannot be set up. */
  static async start(options: TargetOptions): Promise<Target> {
    if (!options.portals || options.portals.length === 0) throw new RangeError('a target needs at least one member portal');
    const target = new Target(options);
    try {
      await target.open();
    } catch (error) {
      await target.stop();
      throw error;
    }
    return target;
  }

  private async open(): Promise<void> {
    const o = this.options;
    const defaultRate = o.rate === undefined ? undefined : parseLinkRate(o.rate);
    o.portals.forEach((spec, index) => {
      const m: MemberPortalOptions = typeof spec === 'string' ? { ...parsePortal(spec, 0) } : spec;
      const rate = m.rate === undefined ? defaultRate : parseLinkRate(m.rate);
      this.memberPortals.push(new MemberPortal(index, m.address, m.port ?? 0, index + 1, this.iqn, rate, m.alua ?? 'active-optimized',
        (socket, member) => this.accept(socket, member)));
    });
    await this.openLogicalUnits(o.luns ?? [DEFAULT_LUN_SIZE]);
    for (const member of this.memberPortals) await member.start();
    if (o.group !== undefined) {
      const g: Portal = typeof o.group === 'string' ? parsePortal(o.group, 0) : o.group;
      this.groupListener = new PortalListener(g.address, g.port, (socket) => this.acceptOnGroup(socket));
      await this.groupListener.listen();
    }
  }

  private async openLogicalUnits(specs: ReadonlyArray<number | string | LunOptions>): Promise<void> {
    const luns = specs.map((s) => (typeof s === 'object' ? s : { size: s } as LunOptions)).map((s, i) => ({ ...s, lun: s.lun ?? i + 1 }));
    const numbers = luns.map((l) => l.lun);
    if (new Set(numbers).size !== numbers.length) throw new RangeError(`LUN numbers repeat: ${numbers.join(', ')}`);
    for (const spec of luns) {
      const common = {
        blockSize: spec.blockSize, serial: spec.serial, readOnly: spec.readOnly, listLuns: () => numbers,
        portGroups: this.options.alua ? this.portGroups() : undefined,
      };
      const lu = spec.file
        ? await LogicalUnit.file(spec.file, { ...common, size: spec.size === undefined ? undefined : parseSize(spec.size) })
        : LogicalUnit.memory(parseSize(spec.size ?? DEFAULT_LUN_SIZE), common);
      this.lus.set(spec.lun, lu);
      if (spec.file) this.lunFiles.set(spec.lun, spec.file);
    }
  }

  private portGroups(): TargetPortGroupConfig[] {
    return this.memberPortals.map((m) => ({ id: m.tpgt, state: ALUA_CODES[m.alua], preferred: m.alua === 'active-optimized', relativeTargetPorts: [m.tpgt] }));
  }

  // ---- what the target serves ----

  /** The group portal, when configured. */
  get group(): Portal | undefined {
    return this.groupListener ? { address: this.groupListener.address, port: this.groupListener.port } : undefined;
  }

  get members(): MemberPortalInfo[] { return this.memberPortals.map((m) => m.info()); }

  /** Every portal: the group portal first (TPGT 0, it only redirects), then the members. */
  get portals(): PortalInfo[] {
    const list: PortalInfo[] = [];
    const g = this.group;
    if (g) list.push({ role: 'group', ...g, tpgt: 0, up: true });
    for (const m of this.memberPortals) list.push({ role: 'member', address: m.address, port: m.port, tpgt: m.tpgt, up: m.up });
    return list;
  }

  get luns(): LunInfo[] {
    return [...this.lus].map(([lun, lu]) => ({
      lun, blockSize: lu.blockSize, blocks: lu.blocks, bytes: lu.blocks * lu.blockSize, serial: lu.identity.serial,
      naa: lu.identity.naa.toString('hex'), file: this.lunFiles.get(lun),
    }));
  }

  /** @internal The LU behind a LUN, for tests that look at its blocks directly. */
  logicalUnit(lun: number): LogicalUnit | undefined { return this.lus.get(lun); }

  /** `iscsi://host:port/iqn/lun` for a member (or the group portal with member = 'group'). */
  url(member: number | 'group' = 'group', lun = this.lus.keys().next().value ?? 1): string {
    const p = member === 'group' ? this.group : this.memberPortals[member];
    if (!p) throw new RangeError(member === 'group' ? 'the target has no group portal' : `no member ${member}`);
    return `iscsi://${p.address}:${p.port}/${this.iqn}/${lun}`;
  }

  sessions(): Array<ConnectionInfo & { member: number }> {
    return this.memberPortals.flatMap((m) => [...m.connections].filter((c) => c.outcome).map((c) => ({ ...c.info(), member: m.index })));
  }

  // ---- controls ----

  /** Member down: its connections drop and new ones are refused; the group portal stops redirecting to it. */
  async memberDown(index: number): Promise<void> {
    const member = this.member(index);
    this.admission.dropSilent(member);
    await member.down();
  }
  async memberUp(index: number): Promise<void> { await this.member(index).start(); }

  /** Paces a member (or every member) to an emulated link rate such as "1gbit"; undefined removes pacing. */
  setRate(rate: string | number | undefined, member?: number): void {
    const bits = rate === undefined ? undefined : parseLinkRate(rate);
    for (const m of this.select(member)) m.pacer.setRate(bits);
  }

  /** Holds every SCSI response back by `ms` (fault injection for timeouts and latency-aware policies). */
  setResponseDelay(ms: number, member?: number): void {
    if (!(ms >= 0)) throw new RangeError(`response delay ${ms} must be zero or more milliseconds`);
    for (const m of this.select(member)) m.responseDelayMs = ms;
  }

  /**
   * Starts each task management function only after `ms`, reading nothing on its connection meanwhile, so nothing
   * is answered there, pings included: istgt is silent for about 1 s while it runs a LOGICAL UNIT RESET. 0 = at once.
   */
  setTaskManagementDelay(ms: number, member?: number): void {
    if (!(ms >= 0)) throw new RangeError(`task management delay ${ms} must be zero or more milliseconds`);
    for (const m of this.select(member)) m.taskManagementDelayMs = ms;
  }

  /** Answers each new connection's first Login Request only after `ms` (a slow controller; 0 = at once). */
  setLoginDelay(ms: number, member?: number): void {
    if (!(ms >= 0)) throw new RangeError(`login delay ${ms} must be zero or more milliseconds`);
    for (const m of this.select(member)) m.loginDelayMs = ms;
  }

  /** Changes a member's ALUA state; every initiator gets UNIT ATTENTION 2A/06 (state changed). */
  setAluaState(member: number, state: AluaAccessState): void {
    if (!(state in ALUA_CODES)) throw new RangeError(`unknown ALUA state "${state}"`);
    this.member(member).alua = state;
    if (this.options.alua) for (const lu of this.lus.values()) lu.setPortGroups(this.portGroups());
  }

  /** Drops matching connections at the TCP level (no logout); returns how many. */
  dropConnections(filter: SessionFilter = {}): number {
    const victims = this.matching(filter);
    for (const c of victims) c.drop();
    return victims.length;
  }

  /**
   * Sends AsyncEvent 1 (logout request) to matching sessions: each should log out within `within` seconds and
   * log in again through the group portal after `time2Wait` seconds, which may redirect it elsewhere.
   */
  requestLogout(filter: SessionFilter & { time2Wait?: number; within?: number } = {}): number {
    let n = 0;
    for (const c of this.matching(filter)) if (c.requestLogout(filter.time2Wait ?? 0, filter.within ?? 10)) n++;
    return n;
  }

  /**
   * Stalls a member like a frozen array controller: SCSI commands arriving on its connections wait before
   * execution, and it answers nothing at all (no SCSI responses, R2Ts, NOP-Ins, task management or login
   * responses) until releaseCommands(). Its TCP connections stay up. Held commands survive their connection
   * closing; they are aborted only by a LOGICAL UNIT RESET or CLEAR TASK SET of their LU from any connection of
   * the target, or by a login with the same initiator name and ISID on any member (session reinstatement,
   * RFC 7143 §6.3.5; the stalled member itself cannot answer that login).
   */
  holdCommands(member: number): void { this.member(member).hold.hold(); }

  /** Unstalls a member: what it queued runs in arrival order, except the commands aborted meanwhile. */
  releaseCommands(member: number): void { this.member(member).hold.release(); }

  /** Commands waiting in a stalled member (not counting aborted ones). */
  heldCommands(member: number): number { return this.member(member).hold.heldCommands; }

  resources(): TargetResources {
    const connections = this.allConnections();
    return {
      bufferedBytes: this.buffers.bytes, peakBufferedBytes: this.buffers.peakBytes,
      connections: connections.length + this.admission.silentConnections, loginConnections: this.admission.loginConnections,
      tasks: connections.reduce((n, c) => n + c.tasks.size, 0),
      heldCommands: this.memberPortals.reduce((n, m) => n + m.hold.heldCommands, 0),
      ...this.admission.counters,
      refusedCommands: this.refusals.commands, rejectedImmediateCommands: this.refusals.immediate,
      dataPhaseErrors: this.refusals.dataPhaseErrors,
    };
  }

  /** Stops every portal and closes every connection and LU. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const m of this.memberPortals) m.hold.discard();
    this.admission.dropSilent();
    for (const c of this.groupConnections) c.drop();
    await this.groupListener?.close();
    for (const m of this.memberPortals) await m.down();
    for (const lu of this.lus.values()) await lu.close();
  }

  private member(index: number): MemberPortal {
    const m = this.memberPortals[index];
    if (!m) throw new RangeError(`no member portal ${index} (the target has ${this.memberPortals.length})`);
    return m;
  }

  private select(member?: number): MemberPortal[] {
    return member === undefined ? this.memberPortals : [this.member(member)];
  }

  private matching(filter: SessionFilter): TargetConnection[] {
    return this.select(filter.member).flatMap((m) => [...m.connections])
      .filter((c) => filter.initiatorName === undefined || c.outcome?.initiatorName === filter.initiatorName);
  }

  // ---- connections ----

  private accept(socket: net.Socket, member: MemberPortal): void {
    if (!member.up) return void socket.destroy();
    this.admission.take(socket, member, (first) => {
      if (!member.up) return void socket.destroy();
      const connection = new TargetConnection(socket, this.memberHost(member));
      member.connections.add(connection);
      this.watch(connection);
      connection.once('closed', () => member.connections.delete(connection));
      connection.start(first);
    });
  }

  private acceptOnGroup(socket: net.Socket): void {
    this.admission.take(socket, undefined, (first) => {
      const connection = new TargetConnection(socket, this.groupHost());
      this.groupConnections.add(connection);
      this.watch(connection);
      connection.once('closed', () => this.groupConnections.delete(connection));
      connection.start(first);
    });
  }

  private allConnections(): TargetConnection[] {
    return [...this.groupConnections, ...this.memberPortals.flatMap((m) => [...m.connections])];
  }

  private watch(connection: TargetConnection): void {
    this.admission.loggingIn(connection);
    connection.on('warning', (error: Error) => this.emit('warning', error));
    connection.on('login-failed', (error: Error) => this.emit('login-failed', error));
  }

  private readonly lunResolver: LunResolver = {
    lun: (lun) => this.lus.get(lun),
    absent: (cdb) => executeWithoutLogicalUnit(cdb, [...this.lus.keys()]),
  };

  private loginConfig(portalGroupTag: number): TargetLoginConfig {
    return {
      findTarget: (name) => (name === this.iqn ? { alias: this.options.alias, auth: this.auth } : undefined),
      portalGroupTag,
      discovery: { auth: this.discoveryAuth },
      limits: { ...DEFAULT_TARGET_LIMITS, ...this.options.limits },
      maxTextBytes: this.caps.maxTextBytes,
      allocateTsih: () => this.allocateTsih(),
      commandWindow: COMMAND_WINDOW,
    };
  }

  private allocateTsih(): number {
    const live = new Set([...this.sessionsByKey.values()].map((c) => c.outcome?.tsih));
    for (let i = 0; i < 0xffff; i++) {
      const tsih = this.nextTsih;
      this.nextTsih = this.nextTsih >= 0xffff ? 1 : this.nextTsih + 1;
      if (!live.has(tsih)) return tsih;
    }
    throw new LoginError(3, 2, 'no free session handle');
  }

  private sendTargets(value: string, sessionType: 'Normal' | 'Discovery'): Buffer {
    const targets: DiscoveredTarget[] = [{
      name: this.iqn, portals: this.memberPortals.map((m) => ({ address: m.address, port: m.port, tpgt: m.tpgt })),
    }];
    return formatSendTargets(selectSendTargets(value, { sessionType, targets, currentTarget: this.iqn }));
  }

  private commonHost(portalTag: number) {
    return {
      portalTag,
      luns: this.lunResolver,
      caps: this.caps,
      buffers: this.buffers,
      refusals: this.refusals,
      sendTargets: (value: string, type: 'Normal' | 'Discovery') => this.sendTargets(value, type),
      nopInterval: this.options.nopInterval ?? 5000,
      nopTimeout: this.options.nopTimeout ?? 5000,
      sessionStarted: (c: TargetConnection) => this.sessionStarted(c),
      sessionEnded: (c: TargetConnection) => this.sessionEnded(c),
      targetReset: (cold: boolean, from: TargetConnection) => this.targetReset(cold, from),
      clearTaskSet: (lun: number, kind: 'clear' | 'reset', from: TargetConnection) => this.clearTaskSet(lun, kind, from),
    };
  }

  private memberHost(member: MemberPortal): ConnectionHost {
    return {
      ...this.commonHost(member.tpgt),
      hold: member.hold,
      port: member.portIdentity,
      pacer: member.pacer,
      responseDelayMs: () => member.responseDelayMs,
      loginDelayMs: () => member.loginDelayMs,
      taskManagementDelayMs: () => member.taskManagementDelayMs,
      newLogin: () => new TargetLogin(this.loginConfig(member.tpgt)),
    };
  }

  private groupHost(): ConnectionHost {
    return {
      ...this.commonHost(0),
      hold: this.groupHold,
      responseDelayMs: () => 0,
      loginDelayMs: () => 0,
      taskManagementDelayMs: () => 0,
      newLogin: () => new TargetLogin({
        ...this.loginConfig(0),
        // Normal logins never stay on the group portal: each is sent to a member before authentication.
        redirect: (context) => {
          if (context.sessionType !== 'Normal') return undefined;
          const member = this.balancer.pick();
          if (!member) throw new LoginError(3, 1, 'no member portal of the group is up');
          this.emit('redirect', { initiatorName: context.initiatorName, member: member.index });
          return { address: member.address, port: member.port, permanent: false };
        },
      }),
    };
  }

  private sessionStarted(connection: TargetConnection): void {
    const key = connection.sessionKey;
    if (key === undefined) return;
    // Session reinstatement (RFC 7143 §6.3.5): a new login with the same ISID replaces the old session.
    const old = this.sessionsByKey.get(key);
    this.sessionsByKey.set(key, connection);
    if (old && old !== connection) {
      const o = old.outcome!;
      this.emit('reinstated', { member: this.memberOf(old), initiatorName: o.initiatorName, isid: o.isid.toString('hex'), tasks: old.tasks.size });
      old.drop();
    }
    // Commands of this initiator and ISID still waiting in a stalled member (whose connection may be gone) belong
    // to the session this login reinstates: they must never run now.
    const o = connection.outcome!;
    const sameSession = (owner: object) => owner !== connection && owner instanceof TargetConnection
      && owner.outcome?.initiatorName === o.initiatorName && owner.outcome.isid.equals(o.isid) && owner.outcome.targetName === o.targetName;
    for (const m of this.memberPortals) m.hold.abortCommands((owner) => sameSession(owner));
    this.emit('login', { member: this.memberOf(connection), initiatorName: o.initiatorName, isid: o.isid.toString('hex'), tsih: o.tsih });
  }

  private sessionEnded(connection: TargetConnection): void {
    const key = connection.sessionKey;
    if (key !== undefined && this.sessionsByKey.get(key) === connection) this.sessionsByKey.delete(key);
    const o = connection.outcome!;
    this.emit('session-closed', { member: this.memberOf(connection), initiatorName: o.initiatorName, isid: o.isid.toString('hex') });
  }

  private memberOf(connection: TargetConnection): number {
    return this.memberPortals.findIndex((m) => m.connections.has(connection));
  }

  /**
   * CLEAR TASK SET / LOGICAL UNIT RESET of one LU: its tasks end on every connection and in every hold queue.
   * A reset leaves its unit attention (29/03) for every nexus; a clear leaves COMMANDS CLEARED BY ANOTHER
   * INITIATOR (2F/00) for the other nexuses that lost tasks (SAM-5 §5.6, TAS=0).
   */
  private clearTaskSet(lun: number, kind: 'clear' | 'reset', from: TargetConnection): Array<Promise<unknown>> {
    const lu = this.lus.get(lun);
    const running: Array<Promise<unknown>> = [];
    const losers = new Set<string>();
    let ended = 0;
    for (const c of this.allConnections()) {
      const before = c.tasks.size;
      running.push(...c.abortTasks(lun));
      ended += before - c.tasks.size;
      if (c.tasks.size < before) losers.add(c.nexus);
    }
    for (const m of this.memberPortals) {
      m.hold.abortCommands((owner, l) => {
        if (l !== lun) return false;
        if (owner instanceof TargetConnection) losers.add(owner.nexus);
        return true;
      });
    }
    if (kind === 'reset') lu?.reset('logical-unit');
    else for (const nexus of losers) if (nexus !== from.nexus) lu?.queueUnitAttention(nexus, 0x2f, 0x00);
    this.emit('tasks-cleared', { lun, kind, tasks: ended });
    return running;
  }

  private targetReset(cold: boolean, from: TargetConnection): Array<Promise<unknown>> {
    const running: Array<Promise<unknown>> = [];
    let ended = 0;
    for (const c of this.allConnections()) {
      const before = c.tasks.size;
      running.push(...c.abortTasks());
      ended += before - c.tasks.size;
    }
    this.emit('tasks-cleared', { lun: null, kind: cold ? 'cold' : 'warm', tasks: ended });
    for (const m of this.memberPortals) m.hold.abortCommands(() => true);
    for (const lu of this.lus.values()) lu.reset(cold ? 'power-on' : 'target');
    if (cold) for (const m of this.memberPortals) for (const c of m.connections) if (c !== from) c.drop();
    return running;
  }
}
