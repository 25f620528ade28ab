// One iSCSI session on one connection: a path (DESIGN.md layer 4). This file logs in (following redirects), keeps
// the session's state, hands each PDU of the Full Feature Phase to its phase module, and recovers by logging in
// again with the same ISID; the phases themselves are split out as libiscsi splits them: scsi-command.ts (issuing),
// data-in.ts (Data-In, SCSI Response), data-out.ts (R2T, Data-Out), task-management.ts (ABORT TASK, LUN RESET,
// timeouts), nop.ts and keepalive.ts (liveness), logout.ts, and async events here with the re-login they ask for.
// I/O never hangs: every command ends with a result or a typed error within its timeout, and path failures
// (PathError) are kept apart from SCSI statuses so a multipath layer can re-drive them elsewhere.
import { EventEmitter } from 'node:events';
import type { ChapInitiatorOptions } from '../protocol/chap';
import { formatIsid } from '../protocol/isid';
import { digestOffer, type NegotiatedParameters, type OperationalValues } from '../protocol/negotiation';
import type { ScsiCdb } from '../scsi/commands';
import type { AsyncMessage, TargetPdu } from '../wire/bhs';
import type { PduConnection } from '../wire/connection';
import type { ReceivedPdu } from '../wire/deframer';
import { Opcode, RESERVED_TAG } from '../wire/opcodes';
import { CommandWindow } from './command-window';
import { registerConnection } from './connection-registry';
import { receiveDataIn, receiveFast, receiveScsiResponse } from './data-in';
import { answerR2T, answerR2TFast } from './data-out';
import { PathError, SessionArgumentError, SessionProtocolError } from './errors';
import { DEFAULT_KEEPALIVE, Keepalive } from './keepalive';
import { requestLogout, waitIdle } from './logout';
import { receiveNopIn, sendPing } from './nop';
import { formatPortal, type Portal } from '../portal';
import { loginWithRedirects, type PortalLogin, type Redirect } from './portal-login';
import { sendScsiCommand } from './scsi-command';
import { SessionCore } from './session-core';
import { SessionStats } from './session-stats';
import { type CommandResult, exactly, type Task } from './task';
import { receiveTaskManagementResponse, resetLogicalUnit, sweepTimedOut } from './task-management';

export type { CommandResult } from './task';

export type SessionState = 'loggedIn' | 'draining' | 'recovering' | 'failed' | 'closed';

export interface SessionOptions {
  initiatorName: string;
  initiatorAlias?: string;
  targetName: string;
  portal: Portal;
  /** The path's stable ISID (lib/protocol/isid.ts deriveIsid). */
  isid: Buffer;
  sourceAddress?: string;
  device?: string;
  /** A label for netstat and stats (the multipath path id). */
  pathId?: string | number;
  chap?: ChapInitiatorOptions;
  /** Operational wishes; unset fields take INITIATOR_DEFAULTS. */
  operational?: Partial<OperationalValues>;
  /** CRC32C header and data digests: `true` requires them, `false` refuses them, unset prefers them (digestOffer). */
  digests?: boolean | { header: boolean; data: boolean };
  connectTimeoutMs?: number;
  loginTimeoutMs?: number;
  /** A command not completed within this time fails with PathError ETIMEDOUT and is aborted (ABORT TASK). */
  commandTimeoutMs?: number;
  /** Idle: ping with NOP-Out after this much silence; declare the connection dead after nopTimeoutMs more. */
  nopIntervalMs?: number;
  nopTimeoutMs?: number;
  /** Commands outstanding: the same, much shorter (lib/session/keepalive.ts). Defaults 500 and 500. */
  busyNopIntervalMs?: number;
  busyNopTimeoutMs?: number;
  /** Longest wait between reconnect attempts (the back-off doubles from 1 s up to this). Default 2000. */
  reconnectBackoffMaxMs?: number;
  logoutTimeoutMs?: number;
  maxRedirects?: number;
  /** Log in again after a connection loss (after DefaultTime2Wait, backing off). Default true. */
  reconnect?: boolean;
}

export interface SessionInfo {
  targetName: string;
  isid: string;
  tsih: number;
  state: SessionState;
  /** The portal this path logs in to first (after a permanent redirect, the new one). */
  portal: Portal;
  /** The portal the current connection landed on. */
  landed: Portal;
  redirectedFrom?: Portal;
  redirects: Redirect[];
  local: { address?: string; port?: number; device?: string };
  parameters: NegotiatedParameters;
  authMethod: 'None' | 'CHAP';
  /** The target portal group the current connection belongs to (TargetPortalGroupTag). */
  tpgt?: number;
  /** Counts logins: the connection a command went out on (PathError.indeterminate.generation). */
  generation: number;
}

/** Time2Wait above this is a target bug or hostile: do not stall a path for an hour on its word (RFC max 3600). */
const MAX_TIME2WAIT_S = 10;
const ASYNC_LOGOUT_REQUEST = 1;
const ASYNC_DROP_CONNECTION = 2;
const ASYNC_DROP_ALL = 3;
const REJECT_WAITING_FOR_LOGOUT = 0x0c;

/**
 * Events: 'state' (SessionState), 'asyncEvent' (AsyncMessage), 'reconnected' (SessionInfo), 'warning' (Error),
 * 'unitAttention' (ScsiError: one the device layer retried for its caller, lib/session/scsi-retry.ts).
 */
export class Session extends EventEmitter {
  private login!: PortalLogin;
  private unregister?: () => void;
  private home: Portal;
  private stateValue: SessionState = 'recovering';
  private recovery?: Promise<void>;
  private readonly o: Required<Pick<SessionOptions, 'connectTimeoutMs' | 'loginTimeoutMs' | 'commandTimeoutMs' | 'nopIntervalMs' | 'nopTimeoutMs' | 'busyNopIntervalMs' | 'busyNopTimeoutMs' | 'reconnectBackoffMaxMs' | 'logoutTimeoutMs' | 'maxRedirects' | 'reconnect'>> & SessionOptions;
  readonly stats = new SessionStats();
  /** The Full Feature Phase state the phase modules share (lib/session/session-core.ts). */
  private readonly core: SessionCore;
  private cmdSNSeed = 1;
  /** One timer for every command's timeout instead of one per command: a timer per I/O costs more than the I/O. */
  private sweepTimeouts?: NodeJS.Timeout;
  private get sweepIntervalMs(): number { return Math.max(50, Math.min(1000, this.o.commandTimeoutMs / 8)); }
  /** Generations whose connection died with commands outstanding, and the portal group each was in. */
  private readonly unfenced = new Map<number, number | undefined>();
  /** Aborts a login in progress when the session is closed. */
  private readonly closing = new AbortController();
  private wakeRecovery?: () => void;

  private constructor(options: SessionOptions) {
    super();
    this.o = {
      connectTimeoutMs: 5000, loginTimeoutMs: 10_000, commandTimeoutMs: 30_000, nopIntervalMs: DEFAULT_KEEPALIVE.idleIntervalMs,
      nopTimeoutMs: DEFAULT_KEEPALIVE.idleTimeoutMs, busyNopIntervalMs: DEFAULT_KEEPALIVE.busyIntervalMs,
      busyNopTimeoutMs: DEFAULT_KEEPALIVE.busyTimeoutMs, reconnectBackoffMaxMs: 2000, logoutTimeoutMs: 3000, maxRedirects: 8, reconnect: true,
      // Fields given as undefined keep their defaults.
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SessionOptions,
    };
    for (const key of ['connectTimeoutMs', 'loginTimeoutMs', 'commandTimeoutMs', 'nopIntervalMs', 'nopTimeoutMs', 'busyNopIntervalMs', 'busyNopTimeoutMs', 'reconnectBackoffMaxMs', 'logoutTimeoutMs'] as const) {
      const v = this.o[key];
      // A NaN or 0 would silently disable a timer or fail every command: refuse it here, whoever passed it.
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new SessionArgumentError(`${key} must be a number of milliseconds above 0, not ${String(v)}`);
    }
    // A login timeout under the connect default bounds the connect too (`--login-timeout 2s` means 2 s, not 5).
    if (options.connectTimeoutMs === undefined) this.o.connectTimeoutMs = Math.min(this.o.connectTimeoutMs, this.o.loginTimeoutMs);
    this.home = options.portal;
    this.core = new SessionCore(this.o.targetName, this.o, this.stats, {
      lost: (c, error) => this.connectionLost(c, error),
      open: () => this.stateValue === 'loggedIn' || this.stateValue === 'draining',
      warn: (error) => this.emit('warning', error),
    });
  }

  /** Logs in (following redirects) and returns the session in Full Feature Phase. */
  static async open(options: SessionOptions): Promise<Session> {
    const session = new Session(options);
    await session.establish();
    return session;
  }

  /**
   * Starts logging in and returns at once (a multipath device logs its paths in in parallel and comes up with
   * those that answer: degraded start). `ready` settles with the first login. When it fails, the session keeps
   * trying in the background if `options.reconnect` allows (state 'recovering', a 'warning' per failed attempt,
   * 'reconnected' once in), else it is 'failed'.
   */
  static start(options: SessionOptions): { session: Session; ready: Promise<void> } {
    const session = new Session(options);
    const ready = session.establish().then(() => { session.emit('reconnected', session.info()); }, (error: Error) => {
      if (session.stateValue !== 'closed') {
        session.lastLoginError = error;
        if (session.o.reconnect) session.recover(1000); else session.setState('failed');
      }
      throw error;
    });
    session.starting = ready.then(() => undefined, () => undefined);
    return { session, ready };
  }

  private starting?: Promise<void>;

  /** Why the last login attempt failed (a path that is not logged in). */
  lastLoginError?: Error;

  /**
   * Whether commands that went out on login generation `generation` can no longer execute at the target: that
   * connection ended with nothing outstanding, or a later login reinstated the session (same ISID, TSIH 0) in the
   * same target portal group, which makes the target end the old session's tasks (RFC 7143 §6.3.5).
   */
  isFenced(generation: number): boolean { return !this.unfenced.has(generation); }

  get state(): SessionState { return this.stateValue; }
  get parameters(): NegotiatedParameters { return this.login.login.parameters; }

  /**
   * LOGICAL UNIT RESET (RFC 7143 §11.5.1 function 5). Resolves with the TMF response code (0 = done). The commands
   * the reset aborted on that LUN end at once with PathError EABORTED (a multipath layer may re-drive them).
   */
  lunReset(lun: number): Promise<number> { return resetLogicalUnit(this.core, lun); }
  get inFlight(): number { return this.core.tasks.size; }

  info(): SessionInfo {
    const l = this.login as PortalLogin | undefined;
    if (!l) {
      // Never logged in yet (degraded start): where it is trying to go.
      return {
        targetName: this.o.targetName, isid: formatIsid(this.o.isid), tsih: 0, state: this.stateValue, portal: this.home,
        landed: this.home, redirects: [], local: { address: this.o.sourceAddress, device: this.o.device },
        parameters: {} as NegotiatedParameters, authMethod: this.o.chap ? 'CHAP' : 'None', generation: 0,
      };
    }
    const lastTemporary = l.redirects.length > 0 ? l.redirects[0].from : undefined;
    return {
      targetName: this.o.targetName, isid: formatIsid(this.o.isid), tsih: l.login.tsih, state: this.stateValue,
      portal: this.home, landed: l.landed, redirectedFrom: lastTemporary, redirects: l.redirects,
      local: { address: this.core.connection.localAddress, port: this.core.connection.localPort, device: this.o.device },
      parameters: l.login.parameters, authMethod: l.login.authentication === 'None' ? 'None' : 'CHAP',
      tpgt: l.login.targetPortalGroupTag, generation: this.core.generation,
    };
  }

  /**
   * Runs one SCSI command on `lun`. For reads, Data-In lands in `buffer` (registered with the connection, no copy);
   * for writes, `buffer` is sent as views. Resolves with the status (GOOD or not); rejects with PathError when the
   * path failed, SessionArgumentError on bad input.
   */
  execute(lun: number, command: ScsiCdb, buffer?: Buffer): Promise<CommandResult> {
    return new Promise((resolve, reject) => this.submit(lun, command, buffer, resolve, reject));
  }

  /**
   * execute() with callbacks, for a layer that settles a promise of its own (one promise per I/O, not one per
   * layer). `done` runs inside the receive path: it may submit more commands but must not throw; `failed` runs from
   * a microtask.
   */
  submit(lun: number, command: ScsiCdb, buffer: Buffer | undefined, done: (r: CommandResult) => void, failed: (e: Error) => void): void {
    if (command.direction !== 'none' && (!buffer || buffer.length < command.transferLength)) {
      queueMicrotask(() => failed(new SessionArgumentError(`a ${command.direction} of ${command.transferLength} bytes needs a buffer at least that long`)));
      return;
    }
    if (this.stateValue !== 'loggedIn' && this.stateValue !== 'draining') {
      queueMicrotask(() => failed(new PathError(`session to ${this.o.targetName} is ${this.stateValue}`, 'ESESSIONDOWN')));
      return;
    }
    const task: Task = { itt: 0, lun, command, buffer, expDataSN: 0, received: 0, startedAt: performance.now(), done, failed };
    task.itt = this.core.tasks.add(task);
    if (command.direction === 'read') this.core.connection.registerTask(task.itt, exactly(buffer!, command.transferLength));
    // Referenced: while a command is outstanding the process must not exit as if nothing were pending.
    this.sweepTimeouts ??= setInterval(() => sweepTimedOut(this.core), this.sweepIntervalMs);
    this.stats.started();
    task.issue = (cmdSN) => sendScsiCommand(this.core, task, cmdSN);
    this.core.window.issue(task.issue);
  }


  /**
   * Logs out (bounded wait) and closes. Outstanding commands get the time left to finish; queued ones fail. Close
   * wins every race: a login or reconnect in progress is abandoned, and nothing (socket, timer, pump) is left.
   * A Logout the target does not answer in time is a 'warning' (the connection is closed all the same).
   */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    const wasLoggedIn = this.stateValue === 'loggedIn' || this.stateValue === 'draining';
    this.setState('closed');
    this.closing.abort();
    this.wakeRecovery?.();
    let answered = true;
    if (wasLoggedIn) {
      await waitIdle(this.core, this.o.logoutTimeoutMs);
      answered = await requestLogout(this.core, 0, MAX_TIME2WAIT_S).then((r) => r !== undefined, () => false);
      if (!answered) this.emit('warning', new SessionProtocolError(`the target at ${formatPortal(this.login.landed)} did not answer our Logout Request within ${this.o.logoutTimeoutMs} ms`, 'ELOGOUTUNANSWERED'));
    }
    // Without a Logout Response nothing says the target ended what is outstanding: reset, as for a failure.
    this.teardown(new PathError('session closed', 'ESESSIONDOWN'), !answered);
    await this.starting;
    await this.recovery;
  }

  // --- login and recovery ---

  private async establish(): Promise<void> {
    const digests = this.o.digests;
    const header = digestOffer(typeof digests === 'object' ? digests.header : digests);
    const data = digestOffer(typeof digests === 'object' ? digests.data : digests);
    const login = await loginWithRedirects({
      initiatorName: this.o.initiatorName, initiatorAlias: this.o.initiatorAlias, targetName: this.o.targetName,
      sessionType: 'Normal', isid: this.o.isid, tsih: 0, cmdSN: this.cmdSNSeed, chap: this.o.chap,
      operational: this.o.operational, digests: { header, data },
      timeoutMs: this.o.loginTimeoutMs, portal: this.home, sourceAddress: this.o.sourceAddress, device: this.o.device,
      connectTimeoutMs: this.o.connectTimeoutMs, maxRedirects: this.o.maxRedirects, signal: this.closing.signal,
    });
    if (this.stateValue === 'closed') {
      // Closed while the login ran: this connection must not outlive the session.
      login.connection.destroy();
      throw new PathError('session closed during login', 'ESESSIONDOWN');
    }
    if (login.movedTo) this.home = login.movedTo;
    this.login = login;
    this.core.generation++;
    this.lastLoginError = undefined;
    // Same ISID, TSIH 0, same portal group: the target ended every task of the session's earlier connections.
    for (const [g, tpgt] of this.unfenced) if (tpgt === login.login.targetPortalGroupTag) this.unfenced.delete(g);
    this.stats.redirects += login.redirects.length;
    const c = login.connection;
    this.core.connection = c;
    this.core.parameters = login.login.parameters;
    this.core.expStatSN = login.login.expStatSN;
    if (this.core.window) this.core.window.restart(this.cmdSNSeed, login.login.expCmdSN, login.login.maxCmdSN);
    else this.core.window = new CommandWindow(this.cmdSNSeed, login.login.expCmdSN, login.login.maxCmdSN);
    const core = this.core;
    c.setFastPath((opcode, itt, header, at, placed, dataLength) => c === core.connection && (opcode === Opcode.R2T
      ? answerR2TFast(core, itt, header, at, dataLength)
      : receiveFast(core, opcode, itt, header, at, placed, dataLength)));
    c.setAwaitingStatus(() => core.tasks.size);
    c.on('pdu', (pdu: ReceivedPdu) => this.receive(c, pdu));
    c.on('error', (error: Error) => this.connectionLost(c, error));
    c.on('close', () => this.connectionLost(c, new Error('the connection closed')));
    this.core.keepalive = new Keepalive({
      idleIntervalMs: this.o.nopIntervalMs, idleTimeoutMs: this.o.nopTimeoutMs, busyIntervalMs: this.o.busyNopIntervalMs, busyTimeoutMs: this.o.busyNopTimeoutMs,
    }, {
      busy: () => this.core.hasLiveTasks(),
      mayBeSilent: () => this.core.hasTaskManagementOutstanding(),
      ping: () => sendPing(this.core),
      dead: (ms) => this.connectionLost(c, new Error(`no PDU for ${ms} ms, NOP-Out ping unanswered`)),
    });
    this.unregister = registerConnection(c, {
      target: this.o.targetName, session: `${formatIsid(this.o.isid)}:${login.login.tsih}`, path: this.o.pathId,
    });
    this.setState('loggedIn');
  }

  private connectionLost(c: PduConnection, error: Error): void {
    if (c !== this.core.connection) return;
    if (this.stateValue === 'closed' || this.stateValue === 'failed' || this.stateValue === 'recovering') return;
    this.teardown(new PathError(`connection to ${formatPortal(this.login.landed)} lost: ${error.message}`, 'ECONNLOST', error), true);
    if (this.o.reconnect) this.recover(Math.min(this.parameters.defaultTime2Wait, MAX_TIME2WAIT_S) * 1000);
    else this.setState('failed');
  }

  /**
   * Fails every task, stops timers, drops the connection. The session object stays for recovery or close.
   * `abortive`: the connection failed; it is reset (RST) so nothing still queued can reach the target later, and
   * the commands it carried fail as indeterminate (PathError.indeterminate) until the session is fenced.
   */
  private teardown(error: PathError, abortive = false): void {
    clearInterval(this.sweepTimeouts);
    this.sweepTimeouts = undefined;
    this.core.keepalive?.stop();
    this.core.keepalive = undefined;
    this.unregister?.();
    this.unregister = undefined;
    for (const issue of this.core.window?.takeWaiting() ?? []) {
      const task = [...this.core.tasks.values()].find((t) => t.issue === issue);
      if (task) this.core.fail(task, error);
    }
    this.core.connection?.setFastPath(undefined);
    this.core.connection?.removeAllListeners('pdu');
    // Reset first: what TCP had sent unacknowledged may still arrive, and each command's error says until when.
    let flightMs = 0;
    if (abortive) flightMs = this.core.connection?.abort() ?? 0; else this.core.connection?.destroy();
    const inFlightUntil = performance.now() + flightMs;
    let outstanding = false;
    for (const task of this.core.tasks.takeAll()) {
      const sent = task.cmdSN !== undefined && !task.tmf;
      outstanding ||= sent;
      // Each command gets its own error: whether it may still execute is a fact about that command.
      const own = sent ? Object.assign(new PathError(error.message, error.code, error.cause), { indeterminate: { generation: task.generation ?? this.core.generation, inFlightUntil } }) : error;
      this.core.fail(task, own);
    }
    if (outstanding) this.unfenced.set(this.core.generation, this.login?.login.targetPortalGroupTag);
  }

  /** Logs in again from the home portal (original, or where a permanent redirect moved it), backing off. */
  private recover(delayMs: number): void {
    if (this.recovery) return;
    this.setState('recovering');
    this.stats.reconnects++;
    this.recovery = (async () => {
      let wait = delayMs;
      while (this.stateValue === 'recovering') {
        await this.pause(wait);
        if (this.stateValue !== 'recovering') break;
        try {
          // Same ISID, TSIH 0: the target reinstates (cleans up) the old session at once (protocol.md §0 item 1).
          if (this.core.window) this.cmdSNSeed = this.core.window.current;
          await this.establish();
          this.emit('reconnected', this.info());
          break;
        } catch (error) {
          if (this.stateValue !== 'recovering') break;
          this.lastLoginError = error as Error;
          this.emit('warning', error);
          // Short and capped: a path that comes back is in use again within seconds (open-iscsi retries at once).
          wait = Math.min(Math.max(1000, wait * 2), this.o.reconnectBackoffMaxMs);
        }
      }
    })().finally(() => { this.recovery = undefined; });
  }

  /** A wait that close() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void { clearTimeout(timer); resolve(); }
      this.wakeRecovery = done;
    });
  }

  // --- Full Feature Phase: each PDU to its phase ---

  private receive(c: PduConnection, pdu: ReceivedPdu): void {
    if (c !== this.core.connection) return;
    this.core.keepalive?.heard();
    const bhs = pdu.bhs as TargetPdu;
    if ('expCmdSN' in bhs) this.core.window.update(bhs.expCmdSN, bhs.maxCmdSN);
    switch (bhs.opcode) {
      case Opcode.DataIn: return receiveDataIn(this.core, bhs, pdu);
      case Opcode.ScsiResponse: return receiveScsiResponse(this.core, bhs, pdu);
      case Opcode.R2T: return answerR2T(this.core, bhs);
      case Opcode.NopIn: return receiveNopIn(this.core, bhs);
      case Opcode.TaskManagementResponse: return receiveTaskManagementResponse(this.core, bhs);
      case Opcode.AsyncMessage: return this.asyncMessage(bhs);
      case Opcode.Reject: {
        this.core.advanceStatSN(bhs.statSN);
        const rejectedItt = pdu.data && pdu.data.length >= 20 ? pdu.data.readUInt32BE(16) : RESERVED_TAG;
        const task = this.core.tasks.get(rejectedItt);
        if (task && !task.tmf && !task.aborted && bhs.reason === REJECT_WAITING_FOR_LOGOUT && this.stateValue === 'draining') {
          // The command crossed the target's logout request on the wire: path-retryable (protocol.md §0 item 4).
          this.core.connection.unregisterTask(task.itt);
          task.cmdSN = undefined;
          task.expDataSN = 0;
          return;
        }
        const error = new PathError(`the target rejected a PDU (reason 0x${bhs.reason.toString(16)})`, 'EREJECTED');
        // release(): a rejected read's buffer must be detached before anyone re-drives it.
        if (task) { this.core.release(task); this.core.fail(task, error); } else this.emit('warning', error);
        return;
      }
      case Opcode.LogoutResponse:
      case Opcode.TextResponse:
        this.core.advanceStatSN(bhs.statSN);
        return;
      default:
        this.emit('warning', new PathError(`unexpected opcode 0x${bhs.opcode.toString(16)} in Full Feature Phase`, 'EREJECTED'));
    }
  }






  private asyncMessage(bhs: AsyncMessage): void {
    this.core.advanceStatSN(bhs.statSN);
    this.emit('asyncEvent', bhs);
    if (bhs.asyncEvent === ASYNC_LOGOUT_REQUEST) this.drainAndRelogin(bhs.parameter3, bhs.parameter2);
    else if (bhs.asyncEvent === ASYNC_DROP_CONNECTION || bhs.asyncEvent === ASYNC_DROP_ALL) {
      if (this.stateValue !== 'loggedIn' && this.stateValue !== 'draining') return;
      // The target will drop us; wait Time2Wait (Parameter2, capped) before logging in again (protocol.md §0 item 15).
      this.teardown(new PathError('the target is dropping the connection', 'ECONNLOST'), true);
      if (this.o.reconnect) this.recover(Math.min(bhs.parameter2, MAX_TIME2WAIT_S) * 1000);
      else this.setState('failed');
    }
  }

  /** AsyncEvent 1: hold new commands, let in-flight ones finish, log out within Parameter3 s, log in again. */
  private drainAndRelogin(parameter3: number, parameter2: number): void {
    if (this.stateValue !== 'loggedIn') return;
    this.setState('draining');
    this.core.window.pause();
    const budget = Math.max(500, Math.min(parameter3 * 1000 - 500, 5000));
    void (async () => {
      await waitIdle(this.core, budget);
      if (this.stateValue !== 'draining') return;
      const time2Wait = await requestLogout(this.core, 0, MAX_TIME2WAIT_S);
      if (this.state !== 'draining') return; // closed meanwhile: close() tears down
      this.core.window.takeWaiting();
      // Commands never sent, and those still unanswered when the target answered the Logout (it ended them with the
      // connection), survive the re-login: they are sent again instead of failing the application. Without a
      // Logout Response nothing says they ended: they fail as indeterminate (teardown), to be fenced first.
      const answered = time2Wait !== undefined;
      const carried = [...this.core.tasks.values()].filter((t) => !t.tmf && !t.aborted && t.issue && (answered || t.cmdSN === undefined));
      for (const t of carried) {
        this.core.tasks.delete(t.itt);
        t.cmdSN = undefined;
        t.expDataSN = 0;
      }
      this.teardown(new PathError('the target asked for a logout while this command was outstanding', 'ELOGOUT'), !answered);
      this.setState('recovering');
      this.cmdSNSeed = this.core.window.current;
      try {
        // The Logout Response's Time2Wait, else the Async Message's Parameter2 (open-iscsi reads it there too).
        const waitS = Math.min(time2Wait || parameter2, MAX_TIME2WAIT_S);
        if (waitS > 0) await this.pause(waitS * 1000);
        if ((this.state as SessionState) !== 'recovering') throw new PathError('session closed during re-login', 'ESESSIONDOWN');
        await this.establish();
        for (const t of carried) {
          t.itt = this.core.tasks.add(t);
          if (t.command.direction === 'read') this.core.connection.registerTask(t.itt, exactly(t.buffer!, t.command.transferLength));
          this.core.window.issue(t.issue!);
        }
        this.emit('reconnected', this.info());
      } catch (error) {
        for (const t of carried) this.core.fail(t, new PathError(`re-login after logout request failed: ${(error as Error).message}`, 'ESESSIONDOWN'));
        if ((this.state as SessionState) === 'closed') return;
        this.setState('failed');
        if (this.o.reconnect) this.recover(Math.min(this.parameters.defaultTime2Wait, MAX_TIME2WAIT_S) * 1000);
      }
    })();
  }

  // --- completion ---







  private setState(state: SessionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }
}
