// One iSCSI session on one connection: a path (DESIGN.md layer 3). Logs in (following redirects), runs the Full
// Feature Phase (command window, task table, immediate/unsolicited/solicited data, Data-In placed straight into
// the caller's buffer, NOP keepalive, async events, task management, logout) and recovers by logging in again with
// the same ISID. I/O never hangs: every command ends with a result or a typed error within its timeout, and path
// failures (PathError) are kept apart from SCSI statuses so a multipath layer can re-drive them elsewhere.
import { EventEmitter } from 'node:events';
import type { ChapInitiatorOptions } from '../protocol/chap';
import { formatIsid } from '../protocol/isid';
import type { Digest, NegotiatedParameters, OperationalValues } from '../protocol/negotiation';
import type { ScsiCdb } from '../scsi/commands';
import { type AsyncMessage, type DataIn, encodeScsiCommand, type R2T, ScsiCommandFlags, type ScsiResponse, type TargetPdu } from '../wire/bhs';
import type { PduConnection } from '../wire/connection';
import type { ReceivedPdu } from '../wire/deframer';
import { Opcode, RESERVED_TAG } from '../wire/opcodes';
import { CommandWindow } from './command-window';
import { planUnsolicited, sendDataOutSequence, UNSOLICITED_TTT } from './data-out';
import { PathError, SessionArgumentError, SessionProtocolError } from './errors';
import { Keepalive } from './keepalive';
import { formatPortal, loginWithRedirects, type Portal, type PortalLogin, type Redirect } from './portal-login';
import { registerConnection } from './connection-registry';
import { serialLt } from '../wire/serial';
import { SessionStats } from './session-stats';
import { TaskTable } from './task-table';

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
  /** Ask for CRC32C header and data digests. */
  digests?: boolean | { header: boolean; data: boolean };
  connectTimeoutMs?: number;
  loginTimeoutMs?: number;
  /** A command not completed within this time fails with PathError ETIMEDOUT and is aborted (ABORT TASK). */
  commandTimeoutMs?: number;
  /** Ping with NOP-Out after this much silence; declare the connection dead after nopTimeoutMs more. */
  nopIntervalMs?: number;
  nopTimeoutMs?: number;
  logoutTimeoutMs?: number;
  maxRedirects?: number;
  /** Log in again after a connection loss (after DefaultTime2Wait, backing off). Default true. */
  reconnect?: boolean;
}

/** The outcome of a SCSI command that reached the target. A non-GOOD status is data here, not an exception. */
export interface CommandResult {
  status: number;
  /** Sense data without the iSCSI SenseLength prefix (CHECK CONDITION). */
  sense?: Buffer;
  /** Bytes expected but not transferred (underflow), or not transferable (overflow). */
  residual: number;
  underflow: boolean;
  overflow: boolean;
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
}

interface Task {
  itt: number;
  lun: number;
  command: ScsiCdb;
  buffer?: Buffer;
  cmdSN?: number;
  issue?: (cmdSN: number) => void;
  expDataSN: number;
  /** Data-In bytes received so far: the Buffer Offset the next Data-In must carry (DataPDUInOrder=Yes). */
  received: number;
  startedAt: number;
  timer?: NodeJS.Timeout;
  /** Called from the receive path itself (Session.submit). */
  done: (r: CommandResult) => void;
  /** Called from a microtask: never inside the session's own loops. */
  failed: (e: Error) => void;
  /** Timed out and aborted: its tag stays reserved until the target confirms, its late PDUs are dropped. */
  aborted?: boolean;
  /** A task management function rather than a SCSI command. */
  tmf?: boolean;
}

/** Time2Wait above this is a target bug or hostile: do not stall a path for an hour on its word (RFC max 3600). */
const MAX_TIME2WAIT_S = 60;
const TMF_ABORT_TASK = 1;
const TMF_LUN_RESET = 5;
const ASYNC_LOGOUT_REQUEST = 1;
const ASYNC_DROP_CONNECTION = 2;
const ASYNC_DROP_ALL = 3;
const REJECT_WAITING_FOR_LOGOUT = 0x0c;
// Flag bits of Data-In (S) and of Data-In / SCSI Response (U, O), RFC 7143 §11.7.1, §11.4.
const DATA_IN_STATUS = 0x01;
const RESIDUAL_UNDERFLOW = 0x02;
const RESIDUAL_OVERFLOW = 0x04;
/** Most commands end GOOD without residual: one shared result for them instead of an object per I/O. */
const GOOD_RESULT: CommandResult = Object.freeze({ status: 0, residual: 0, underflow: false, overflow: false });
const resultOf = (status: number, residual: number, underflow: boolean, overflow: boolean): CommandResult =>
  (status === 0 && residual === 0 && !underflow && !overflow ? GOOD_RESULT : { status, residual, underflow, overflow });

/** What is wrong with a Data-In for `task`, named; undefined when it is the next one the read expects. */
function dataInViolation(bhs: DataIn, task: Task): SessionProtocolError | undefined {
  const itt = `ITT 0x${bhs.itt.toString(16)}`;
  if (task.command.direction !== 'read') {
    return new SessionProtocolError(`Data-In for ${itt}, a command that reads nothing (${task.command.direction}): refused, nothing copied`, 'EDATAINDIRECTION');
  }
  if (bhs.dataSN !== task.expDataSN) {
    return new SessionProtocolError(`Data-In for ${itt} with DataSN ${bhs.dataSN} where ${task.expDataSN} was due (duplicated, missing or out of order)`, 'EDATASN');
  }
  if (bhs.bufferOffset !== task.received || bhs.bufferOffset + bhs.dataLength > task.command.transferLength) {
    return new SessionProtocolError(`Data-In for ${itt} at Buffer Offset ${bhs.bufferOffset} + ${bhs.dataLength} bytes, where offset ${task.received} of a ${task.command.transferLength}-byte read was due`, 'EBUFFEROFFSET');
  }
  return undefined;
}

/** The first `length` bytes of `buffer`: the buffer itself when that is all of it (no view to allocate per I/O). */
const exactly = (buffer: Buffer, length: number): Buffer => (buffer.length === length ? buffer : buffer.subarray(0, length));

/**
 * Events: 'state' (SessionState), 'asyncEvent' (AsyncMessage), 'reconnected' (SessionInfo), 'warning' (Error),
 * 'unitAttention' (ScsiError: one the device layer retried for its caller, lib/session/scsi-retry.ts).
 */
export class Session extends EventEmitter {
  private connection!: PduConnection;
  private login!: PortalLogin;
  private window!: CommandWindow;
  private readonly tasks = new TaskTable<Task>();
  private expStatSN = 0;
  private keepalive?: Keepalive;
  private unregister?: () => void;
  private home: Portal;
  private stateValue: SessionState = 'recovering';
  private recovery?: Promise<void>;
  private readonly o: Required<Pick<SessionOptions, 'connectTimeoutMs' | 'loginTimeoutMs' | 'commandTimeoutMs' | 'nopIntervalMs' | 'nopTimeoutMs' | 'logoutTimeoutMs' | 'maxRedirects' | 'reconnect'>> & SessionOptions;
  readonly stats = new SessionStats();
  private cmdSNSeed = 1;
  /** One timer for every command's timeout instead of one per command: a timer per I/O costs more than the I/O. */
  private sweepTimeouts?: NodeJS.Timeout;
  private get sweepIntervalMs(): number { return Math.max(50, Math.min(1000, this.o.commandTimeoutMs / 8)); }

  private constructor(options: SessionOptions) {
    super();
    this.o = {
      connectTimeoutMs: 5000, loginTimeoutMs: 10_000, commandTimeoutMs: 30_000, nopIntervalMs: 5000, nopTimeoutMs: 5000,
      logoutTimeoutMs: 3000, maxRedirects: 8, reconnect: true,
      // Fields given as undefined keep their defaults.
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SessionOptions,
    };
    this.home = options.portal;
  }

  /** Logs in (following redirects) and returns the session in Full Feature Phase. */
  static async open(options: SessionOptions): Promise<Session> {
    const session = new Session(options);
    await session.establish();
    return session;
  }

  get state(): SessionState { return this.stateValue; }
  get parameters(): NegotiatedParameters { return this.login.login.parameters; }
  get inFlight(): number { return this.tasks.size; }

  info(): SessionInfo {
    const l = this.login;
    const lastTemporary = l.redirects.length > 0 ? l.redirects[0].from : undefined;
    return {
      targetName: this.o.targetName, isid: formatIsid(this.o.isid), tsih: l.login.tsih, state: this.stateValue,
      portal: this.home, landed: l.landed, redirectedFrom: lastTemporary, redirects: l.redirects,
      local: { address: this.connection.localAddress, port: this.connection.localPort, device: this.o.device },
      parameters: l.login.parameters, authMethod: l.login.authentication === 'None' ? 'None' : 'CHAP',
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
    task.itt = this.tasks.add(task);
    if (command.direction === 'read') this.connection.registerTask(task.itt, exactly(buffer!, command.transferLength));
    // Not unref()'d: a command outstanding is work this process is waiting for; if every other handle were gone (a
    // connection the session missed losing), its timeout must still end it rather than the process exit with it.
    this.sweepTimeouts ??= setInterval(() => this.sweep(), this.sweepIntervalMs);
    this.stats.started();
    task.issue = (cmdSN) => this.sendCommand(task, cmdSN);
    this.window.issue(task.issue);
  }

  /**
   * LOGICAL UNIT RESET (RFC 7143 §11.5.1 function 5). Resolves with the TMF response code (0 = done). The commands
   * the reset aborted on that LUN end at once with PathError EABORTED (a multipath layer may re-drive them).
   */
  async lunReset(lun: number): Promise<number> {
    const outstanding = [...this.tasks.values()].filter((t) => !t.tmf && !t.aborted && t.lun === lun && t.cmdSN !== undefined);
    const response = await this.taskManagement(TMF_LUN_RESET, lun, RESERVED_TAG, 0);
    if (response === 0) {
      for (const task of outstanding) {
        if (this.tasks.get(task.itt) !== task) continue; // it completed before the reset took effect
        this.release(task);
        this.fail(task, new PathError(`command 0x${task.command.cdb[0]?.toString(16)} was aborted by a LOGICAL UNIT RESET`, 'EABORTED'));
      }
    }
    return response;
  }

  /** Logs out (bounded wait) and closes. Outstanding commands get the time left to finish; queued ones fail. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    const wasLoggedIn = this.stateValue === 'loggedIn' || this.stateValue === 'draining';
    this.setState('closed');
    if (wasLoggedIn) {
      await this.waitIdle(this.o.logoutTimeoutMs);
      await this.logout(0).catch(() => undefined);
    }
    this.teardown(new PathError('session closed', 'ESESSIONDOWN'));
  }

  // --- login and recovery ---

  private async establish(): Promise<void> {
    const digests = this.o.digests;
    const header = digests === true || (typeof digests === 'object' && digests.header);
    const data = digests === true || (typeof digests === 'object' && digests.data);
    const crc32c: Digest[] = ['CRC32C', 'None']; // preferred, but the target may decline
    const login = await loginWithRedirects({
      initiatorName: this.o.initiatorName, initiatorAlias: this.o.initiatorAlias, targetName: this.o.targetName,
      sessionType: 'Normal', isid: this.o.isid, tsih: 0, cmdSN: this.cmdSNSeed, chap: this.o.chap,
      operational: this.o.operational, digests: { header: header ? crc32c : undefined, data: data ? crc32c : undefined },
      timeoutMs: this.o.loginTimeoutMs, portal: this.home, sourceAddress: this.o.sourceAddress, device: this.o.device,
      connectTimeoutMs: this.o.connectTimeoutMs, maxRedirects: this.o.maxRedirects,
    });
    if (login.movedTo) this.home = login.movedTo;
    this.login = login;
    this.stats.redirects += login.redirects.length;
    const c = login.connection;
    this.connection = c;
    this.expStatSN = login.login.expStatSN;
    if (this.window) this.window.restart(this.cmdSNSeed, login.login.expCmdSN, login.login.maxCmdSN);
    else this.window = new CommandWindow(this.cmdSNSeed, login.login.expCmdSN, login.login.maxCmdSN);
    c.setFastPath((opcode, itt, header, at, placed, dataLength) => c === this.connection && this.fastPdu(opcode, itt, header, at, placed, dataLength));
    c.on('pdu', (pdu: ReceivedPdu) => this.receive(c, pdu));
    c.on('error', (error: Error) => this.connectionLost(c, error));
    c.on('close', () => this.connectionLost(c, new Error('the connection closed')));
    this.keepalive = new Keepalive(this.o.nopIntervalMs, this.o.nopTimeoutMs, () => this.ping(), (ms) => {
      this.connectionLost(c, new Error(`no PDU for ${ms} ms, NOP-Out ping unanswered`));
    });
    this.unregister = registerConnection(c, {
      target: this.o.targetName, session: `${formatIsid(this.o.isid)}:${login.login.tsih}`, path: this.o.pathId,
    });
    this.setState('loggedIn');
  }

  private connectionLost(c: PduConnection, error: Error): void {
    if (c !== this.connection) return;
    if (this.stateValue === 'closed' || this.stateValue === 'failed' || this.stateValue === 'recovering') return;
    this.teardown(new PathError(`connection to ${formatPortal(this.login.landed)} lost: ${error.message}`, 'ECONNLOST', error));
    if (this.o.reconnect) this.recover(this.parameters.defaultTime2Wait * 1000);
    else this.setState('failed');
  }

  /** Fails every task, stops timers, drops the connection. The session object stays for recovery or close. */
  private teardown(error: PathError): void {
    clearInterval(this.sweepTimeouts);
    this.sweepTimeouts = undefined;
    this.keepalive?.stop();
    this.keepalive = undefined;
    this.unregister?.();
    this.unregister = undefined;
    for (const issue of this.window?.takeWaiting() ?? []) {
      const task = [...this.tasks.values()].find((t) => t.issue === issue);
      if (task) this.fail(task, error);
    }
    for (const task of this.tasks.takeAll()) this.fail(task, error);
    this.connection?.setFastPath(undefined);
    this.connection?.removeAllListeners('pdu');
    this.connection?.destroy();
  }

  /** Logs in again from the home portal (original, or where a permanent redirect moved it), backing off. */
  private recover(delayMs: number): void {
    if (this.recovery) return;
    this.setState('recovering');
    this.stats.reconnects++;
    this.recovery = (async () => {
      let wait = delayMs;
      while (this.stateValue === 'recovering') {
        await new Promise((r) => setTimeout(r, wait).unref());
        if (this.stateValue !== 'recovering') break;
        try {
          // Same ISID, TSIH 0: the target reinstates (cleans up) the old session at once (protocol.md §0 item 1).
          this.cmdSNSeed = this.window.current;
          await this.establish();
          this.emit('reconnected', this.info());
          break;
        } catch (error) {
          this.emit('warning', error);
          wait = Math.min(Math.max(1000, wait * 2), 30_000);
        }
      }
    })().finally(() => { this.recovery = undefined; });
  }

  // --- Full Feature Phase: sending ---

  private sendCommand(task: Task, cmdSN: number): void {
    task.cmdSN = cmdSN;
    const { command, buffer } = task;
    const connection = this.connection;
    const header = connection.allocHeader();
    if (command.direction !== 'write') {
      const flags = ScsiCommandFlags.FINAL | ScsiCommandFlags.SIMPLE | (command.direction === 'read' ? ScsiCommandFlags.READ : 0);
      encodeScsiCommand(header, flags, task.lun, task.itt, command.transferLength, cmdSN, this.expStatSN, command.cdb);
      connection.sendEncoded(header);
      return;
    }
    const p = this.parameters;
    const plan = planUnsolicited(command.transferLength, p);
    const flags = (plan.unsolicitedEnd === plan.immediate ? ScsiCommandFlags.FINAL : 0) | ScsiCommandFlags.WRITE | ScsiCommandFlags.SIMPLE;
    encodeScsiCommand(header, flags, task.lun, task.itt, command.transferLength, cmdSN, this.expStatSN, command.cdb);
    connection.sendEncoded(header, plan.immediate > 0 ? buffer!.subarray(0, plan.immediate) : undefined);
    if (plan.unsolicitedEnd > plan.immediate) {
      sendDataOutSequence(connection, {
        itt: task.itt, lun: task.lun, ttt: UNSOLICITED_TTT, buffer: buffer!, offset: plan.immediate,
        length: plan.unsolicitedEnd - plan.immediate, maxSegment: p.targetMaxRecvDataSegmentLength, expStatSN: this.expStatSN,
      });
    }
  }

  private ping(): void {
    if (this.stateValue !== 'loggedIn' && this.stateValue !== 'draining') return;
    // An immediate NOP-Out: it takes no CmdSN and needs no free window slot.
    this.connection.send({
      opcode: Opcode.NopOut, immediate: true, lun: 0, itt: 0x7fffffff, ttt: RESERVED_TAG, cmdSN: this.window.current, expStatSN: this.expStatSN,
    });
  }

  private taskManagement(func: number, lun: number, referencedTaskTag: number, refCmdSN: number): Promise<number> {
    if (this.stateValue !== 'loggedIn' && this.stateValue !== 'draining') {
      return Promise.reject(new PathError(`session to ${this.o.targetName} is ${this.stateValue}`, 'ESESSIONDOWN'));
    }
    return new Promise<number>((resolve, reject) => {
      const task: Task = {
        itt: 0, lun, command: { cdb: Buffer.alloc(0), direction: 'none', transferLength: 0 }, expDataSN: 0, received: 0, tmf: true,
        startedAt: performance.now(), done: (r) => resolve(r.status), failed: reject,
      };
      task.itt = this.tasks.add(task);
      task.timer = setTimeout(() => {
        // An unanswered task management request means the connection is not usable.
        this.connectionLost(this.connection, new Error('task management request unanswered'));
      }, this.o.commandTimeoutMs);
      this.connection.send({
        opcode: Opcode.TaskManagementRequest, immediate: true, func, lun, itt: task.itt, referencedTaskTag,
        cmdSN: this.window.current, expStatSN: this.expStatSN, refCmdSN, expDataSN: 0,
      });
    });
  }

  /** Sends a Logout Request and waits (bounded, protocol.md §0 item 5) for its response. */
  /** Resolves with the Time2Wait (s) of the Logout Response, 0 when none came in time. */
  private logout(reason: number): Promise<number> {
    const c = this.connection;
    return new Promise<number>((resolve) => {
      const itt = 0x7ffffffe;
      let finished = false;
      // Unanswered, the logout still ends (bounded), but it is said: the target may not have cleaned up the session.
      const done = (time2Wait = 0, unanswered?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        c.off('pdu', onPdu);
        c.off('close', onClose);
        if (unanswered) this.emit('warning', new SessionProtocolError(unanswered, 'ELOGOUTUNANSWERED'));
        resolve(time2Wait);
      };
      const onPdu = (pdu: ReceivedPdu) => {
        if (pdu.bhs.opcode === Opcode.LogoutResponse) done(Math.min(pdu.bhs.time2Wait, MAX_TIME2WAIT_S));
      };
      const onClose = () => done(0, `the target closed the connection to ${formatPortal(this.login.landed)} without answering our Logout Request`);
      const timer = setTimeout(() => done(0, `the target at ${formatPortal(this.login.landed)} did not answer our Logout Request within ${this.o.logoutTimeoutMs} ms`), this.o.logoutTimeoutMs);
      c.on('pdu', onPdu);
      c.once('close', onClose);
      c.send({ opcode: Opcode.LogoutRequest, immediate: true, reason, cid: 0, itt, cmdSN: this.window.current, expStatSN: this.expStatSN });
    });
  }

  private waitIdle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    return new Promise((resolve) => {
      const check = () => {
        const busy = [...this.tasks.values()].some((t) => !t.aborted && !t.tmf && t.cmdSN !== undefined);
        if (!busy || Date.now() >= until) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
  }

  // --- Full Feature Phase: receiving ---

  private receive(c: PduConnection, pdu: ReceivedPdu): void {
    if (c !== this.connection) return;
    this.keepalive?.heard();
    const bhs = pdu.bhs as TargetPdu;
    if ('expCmdSN' in bhs) this.window.update(bhs.expCmdSN, bhs.maxCmdSN);
    switch (bhs.opcode) {
      case Opcode.DataIn: return this.dataIn(bhs, pdu);
      case Opcode.ScsiResponse: return this.scsiResponse(bhs, pdu);
      case Opcode.R2T: return this.r2t(bhs);
      case Opcode.NopIn:
        if (bhs.itt !== RESERVED_TAG) this.advanceStatSN(bhs.statSN);
        // A target ping (TTT set) needs an answer carrying its TTT and LUN; an answer to our ping needs none.
        if (bhs.ttt !== RESERVED_TAG) {
          c.send({ opcode: Opcode.NopOut, immediate: true, lun: bhs.lun, itt: RESERVED_TAG, ttt: bhs.ttt, cmdSN: this.window.current, expStatSN: this.expStatSN });
        }
        return;
      case Opcode.TaskManagementResponse: {
        this.advanceStatSN(bhs.statSN);
        const task = this.tasks.get(bhs.itt);
        if (task) this.finish(task, { status: bhs.response, residual: 0, underflow: false, overflow: false });
        return;
      }
      case Opcode.AsyncMessage: return this.asyncMessage(bhs);
      case Opcode.Reject: {
        this.advanceStatSN(bhs.statSN);
        const rejectedItt = pdu.data && pdu.data.length >= 20 ? pdu.data.readUInt32BE(16) : RESERVED_TAG;
        const task = this.tasks.get(rejectedItt);
        if (task && !task.tmf && !task.aborted && bhs.reason === REJECT_WAITING_FOR_LOGOUT && this.stateValue === 'draining') {
          // The command crossed the target's logout request on the wire: path-retryable (protocol.md §0 item 4).
          this.connection.unregisterTask(task.itt);
          task.cmdSN = undefined;
          task.expDataSN = 0;
          task.received = 0;
          return;
        }
        const error = new PathError(`the target rejected a PDU (reason 0x${bhs.reason.toString(16)})`, 'EREJECTED');
        if (task) { this.tasks.delete(task.itt); this.fail(task, error); } else this.emit('warning', error);
        return;
      }
      case Opcode.LogoutResponse:
      case Opcode.TextResponse:
        this.advanceStatSN(bhs.statSN);
        return;
      default:
        this.emit('warning', new PathError(`unexpected opcode 0x${bhs.opcode.toString(16)} in Full Feature Phase`, 'EREJECTED'));
    }
  }

  /**
   * The hot path of receive(): a Data-In already placed in its task's buffer, or a SCSI Response without sense, for
   * a command running normally, read straight from the header with no decoded BHS. Anything else (an error to
   * report, sense to copy, a late PDU) returns false and takes the full path.
   */
  private fastPdu(opcode: number, itt: number, h: Buffer, o: number, placed: boolean, dataLength: number): boolean {
    const isDataIn = opcode === Opcode.DataIn;
    if (!isDataIn && (opcode !== Opcode.ScsiResponse || dataLength > 0 || h[o + 2] !== 0)) return false;
    const task = this.tasks.get(itt);
    if (task === undefined || task.aborted || task.tmf) return false;
    const flags = h[o + 1];
    if (isDataIn) {
      if ((dataLength > 0 && !placed) || task.command.direction !== 'read') return false;
      if (h.readUInt32BE(o + 36) !== task.expDataSN || h.readUInt32BE(o + 40) !== task.received || task.received + dataLength > task.command.transferLength) return false;
      task.expDataSN++;
      task.received += dataLength;
    }
    this.keepalive?.heard();
    this.window.update(h.readUInt32BE(o + 28), h.readUInt32BE(o + 32));
    if (isDataIn && (flags & DATA_IN_STATUS) === 0) return true;
    this.advanceStatSN(h.readUInt32BE(o + 24));
    this.finish(task, resultOf(h[o + 3], h.readUInt32BE(o + 44), (flags & RESIDUAL_UNDERFLOW) !== 0, (flags & RESIDUAL_OVERFLOW) !== 0));
    return true;
  }

  private dataIn(bhs: DataIn, pdu: ReceivedPdu): void {
    const task = this.tasks.get(bhs.itt);
    if (bhs.hasStatus) this.advanceStatSN(bhs.statSN);
    if (!task) return this.unknownItt('Data-In', bhs.itt);
    if (task.aborted) return;
    const violation = dataInViolation(bhs, task);
    if (violation) {
      // ERL 0 has no way to recover a lost or misplaced Data-In: the connection goes (RFC 7143 §7.1.4). Bytes the
      // deframer placed for it are in a buffer whose command now fails: never claimed as data.
      this.connectionLost(this.connection, violation);
      return;
    }
    task.expDataSN++;
    task.received += bhs.dataLength;
    if (!pdu.placed && pdu.data && pdu.data.length > 0) pdu.data.copy(task.buffer!, bhs.bufferOffset);
    if (bhs.hasStatus) {
      this.finish(task, resultOf(bhs.status, bhs.residualCount, bhs.underflow, bhs.overflow));
    }
  }

  private scsiResponse(bhs: ScsiResponse, pdu: ReceivedPdu): void {
    this.advanceStatSN(bhs.statSN);
    const task = this.tasks.get(bhs.itt);
    const data = pdu.data ?? Buffer.alloc(0);
    if (data.length > 0 && (data.length < 2 || 2 + data.readUInt16BE(0) > data.length)) {
      const declared = data.length < 2 ? 'a SenseLength field' : `${data.readUInt16BE(0)} bytes of sense`;
      this.connectionLost(this.connection, new SessionProtocolError(
        `SCSI Response for ITT 0x${bhs.itt.toString(16)} declares ${declared} in a ${data.length}-byte data segment`, 'ESENSELENGTH'));
      return;
    }
    if (!task) return this.unknownItt('SCSI Response', bhs.itt);
    if (task.aborted) {
      this.release(task);
      return;
    }
    if (bhs.response !== 0) {
      this.release(task);
      this.fail(task, new PathError(`the target failed the command (iSCSI response 0x${bhs.response.toString(16)})`, 'EREJECTED'));
      return;
    }
    const senseLength = data.length >= 2 ? data.readUInt16BE(0) : 0;
    const sense = senseLength > 0 ? Buffer.from(data.subarray(2, 2 + senseLength)) : undefined;
    this.finish(task, { status: bhs.status, sense, residual: bhs.residualCount, underflow: bhs.underflow, overflow: bhs.overflow });
  }

  private r2t(bhs: R2T): void {
    const task = this.tasks.get(bhs.itt);
    if (!task) return this.unknownItt('R2T', bhs.itt);
    if (task.aborted) return;
    const p = this.parameters;
    const end = bhs.bufferOffset + bhs.desiredDataTransferLength;
    if (task.command.direction !== 'write' || end > task.command.transferLength || bhs.desiredDataTransferLength > p.maxBurstLength) {
      this.connectionLost(this.connection, new SessionProtocolError(`R2T for ITT 0x${bhs.itt.toString(16)} asks for bytes ${bhs.bufferOffset}..${end} outside the ${task.command.transferLength}-byte ${task.command.direction} or its burst limit`, 'ER2T'));
      return;
    }
    sendDataOutSequence(this.connection, {
      itt: task.itt, lun: task.lun, ttt: bhs.ttt, buffer: task.buffer!, offset: bhs.bufferOffset,
      length: bhs.desiredDataTransferLength, maxSegment: p.targetMaxRecvDataSegmentLength, expStatSN: this.expStatSN,
    });
  }

  private asyncMessage(bhs: AsyncMessage): void {
    this.advanceStatSN(bhs.statSN);
    this.emit('asyncEvent', bhs);
    if (bhs.asyncEvent === ASYNC_LOGOUT_REQUEST) this.drainAndRelogin(bhs.parameter3, bhs.parameter2);
    else if (bhs.asyncEvent === ASYNC_DROP_CONNECTION || bhs.asyncEvent === ASYNC_DROP_ALL) {
      // The target will drop us; wait Time2Wait (Parameter2) before logging in again (protocol.md §0 item 15).
      this.teardown(new PathError('the target is dropping the connection', 'ECONNLOST'));
      if (this.o.reconnect && this.stateValue !== 'closed') this.recover(bhs.parameter2 * 1000);
      else this.setState('failed');
    }
  }

  /** AsyncEvent 1: hold new commands, let in-flight ones finish, log out within Parameter3 s, log in again. */
  private drainAndRelogin(parameter3: number, parameter2: number): void {
    if (this.stateValue !== 'loggedIn') return;
    this.setState('draining');
    this.window.pause();
    const budget = Math.max(500, Math.min(parameter3 * 1000 - 500, 5000));
    void (async () => {
      await this.waitIdle(budget);
      if (this.stateValue !== 'draining') return;
      const time2Wait = await this.logout(0).catch(() => 0);
      this.window.takeWaiting();
      // Commands never sent, and those still unanswered (at ERL 0 the target ends them with the connection), survive
      // the re-login: they are sent again on the new connection instead of failing the application.
      const carried = [...this.tasks.values()].filter((t) => !t.tmf && !t.aborted && t.issue);
      for (const t of carried) {
        this.tasks.delete(t.itt);
        t.cmdSN = undefined;
        t.expDataSN = 0;
        t.received = 0;
      }
      this.teardown(new PathError('the target asked for a logout while this command was outstanding', 'ELOGOUT'));
      this.setState('recovering');
      this.cmdSNSeed = this.window.current;
      try {
        // The Logout Response's Time2Wait, else the Async Message's Parameter2 (open-iscsi reads it there too).
        const waitS = time2Wait || Math.min(parameter2, MAX_TIME2WAIT_S);
        if (waitS > 0) await new Promise((r) => setTimeout(r, waitS * 1000).unref());
        await this.establish();
        for (const t of carried) {
          t.itt = this.tasks.add(t);
          if (t.command.direction === 'read') this.connection.registerTask(t.itt, exactly(t.buffer!, t.command.transferLength));
          this.window.issue(t.issue!);
        }
        this.emit('reconnected', this.info());
      } catch (error) {
        for (const t of carried) this.fail(t, new PathError(`re-login after logout request failed: ${(error as Error).message}`, 'ESESSIONDOWN'));
        this.setState('failed');
        if (this.o.reconnect) this.recover(this.parameters.defaultTime2Wait * 1000);
      }
    })();
  }

  /** A PDU for a tag no command of ours holds (never issued, or long finished): dropped, and said. */
  private unknownItt(what: string, itt: number): void {
    this.emit('warning', new SessionProtocolError(`${what} for ITT 0x${itt.toString(16)}, which no command of this session holds: dropped`, 'EUNKNOWNITT'));
  }

  // --- completion ---

  private advanceStatSN(statSN: number): void {
    if (!serialLt(statSN, this.expStatSN)) this.expStatSN = (statSN + 1) >>> 0;
  }

  private finish(task: Task, result: CommandResult): void {
    this.release(task);
    if (task.tmf) { task.done(result); return; }
    const bytes = task.command.transferLength - (result.underflow ? result.residual : 0);
    this.stats.completed(task.command.direction, bytes, performance.now() - task.startedAt);
    task.done(result);
  }

  private fail(task: Task, error: Error): void {
    if (task.timer) clearTimeout(task.timer);
    task.timer = undefined;
    if (task.aborted) return; // its caller already got ETIMEDOUT
    task.aborted = true;
    if (!task.tmf) this.stats.failed();
    // Later: a caller that re-submits must not land in a loop that is failing this session's tasks.
    queueMicrotask(() => task.failed(error));
  }

  private release(task: Task): void {
    if (task.timer) clearTimeout(task.timer);
    task.timer = undefined;
    this.tasks.delete(task.itt);
    this.connection.unregisterTask(task.itt);
  }

  /** Times out the SCSI commands older than commandTimeoutMs (within one sweep interval of it). */
  private sweep(): void {
    const expired = performance.now() - this.o.commandTimeoutMs;
    for (const task of this.tasks.values()) {
      if (!task.tmf && !task.aborted && task.startedAt <= expired) this.timeout(task);
    }
  }

  /** The caller gets ETIMEDOUT now; the target is told to abort so the tag and buffer can be reused safely. */
  private timeout(task: Task): void {
    task.timer = undefined;
    const error = new PathError(`command 0x${task.command.cdb[0]?.toString(16)} timed out after ${this.o.commandTimeoutMs} ms`, 'ETIMEDOUT');
    if (task.cmdSN === undefined) {
      if (task.issue) this.window.cancel(task.issue);
      this.release(task);
      this.fail(task, error);
      return;
    }
    this.connection.unregisterTask(task.itt);
    this.fail(task, error);
    this.taskManagement(TMF_ABORT_TASK, task.lun, task.itt, task.cmdSN)
      .then(() => this.tasks.delete(task.itt), () => undefined);
  }

  private setState(state: SessionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }
}
