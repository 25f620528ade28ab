// One initiator connection to a target portal: the login phase, then the Full Feature Phase of its
// single-connection session (MaxConnections=1). This file holds the connection's state, routes each PDU to the
// part that handles its phase (split as libiscsi splits its files, under ./connection/): login, SCSI commands
// with Data-Out/R2T, NOP, task management, logout, text, async messages. It also gates everything the
// connection sends through its member's CommandHold (the stalled-controller fault).
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { type Bhs, type BhsInit, encodeBhs } from '../wire/bhs';
import { PduConnection } from '../wire/connection';
import type { ReceivedPdu } from '../wire/deframer';
import { BHS_LENGTH, Opcode, RESERVED_TAG } from '../wire/opcodes';
import type { NegotiatedParameters } from '../protocol/negotiation';
import type { EstablishedLogin, TargetLogin } from '../protocol/target-login';
import type { BufferBudget, ConnectionBudget } from './buffer-budget';
import type { CommandHold } from './command-hold';
import { CommandWindow } from './command-window';
import { announceDrop, requestLogout } from './connection/async-events';
import { LoginPhase } from './connection/login-phase';
import { logout } from './connection/logout';
import { NopKeeper } from './connection/nop-keeper';
import { ScsiCommands } from './connection/scsi-commands';
import { taskManagement } from './connection/task-management';
import { TaskTable } from './connection/task-table';
import { TextExchange } from './connection/text-exchange';
import type { LinkPacer } from './link-pacer';
import type { LogicalUnit } from './lu/logical-unit';
import type { ScsiResult, PortIdentity } from './lu/types';
import type { TargetCaps } from './target-options';
import { REJECT_PROTOCOL_ERROR } from './write-task';

const REJECT_COMMAND_NOT_SUPPORTED = 0x05;
/** Commands the session may have outstanding: the CmdSN window we advertise. */
export const COMMAND_WINDOW = 128;
/** PDUs a connection may queue in a stalled member before the target stops reading its socket (TCP pushes back). */
const HELD_PDUS_PER_CONNECTION = 1024;
/** Why a connection stopped reading: a stalled member's queue is full, so is the socket's send buffer, or a
 * delayed task management function has yet to run. */
export type ReadingPause = 'hold' | 'send' | 'task-management';

/** How the connection finds the logical unit behind a LUN, and answers for LUNs that do not exist. */
export interface LunResolver {
  lun(lun: number): LogicalUnit | undefined;
  /** Answer for a CDB addressed to a LUN that does not exist (INQUIRY "no device", REPORT LUNS, 25/00). */
  absent(cdb: Buffer): ScsiResult;
}

export interface RefusalCounters {
  /** Commands answered TASK SET FULL or BUSY by a cap. */
  commands: number;
  /** Immediate commands Rejected over maxImmediateTasksPerConnection. */
  immediate: number;
  /** Writes ended with DATA PHASE ERROR (overlapping, gapped or out-of-sequence Data-Out). */
  dataPhaseErrors: number;
}

/** What the portal gives each connection it accepts. */
export interface ConnectionHost {
  readonly portalTag: number;
  readonly port?: PortIdentity;
  readonly pacer?: LinkPacer;
  readonly luns: LunResolver;
  readonly caps: TargetCaps;
  /** Scratch memory for write data, shared by every connection of the target. */
  readonly buffers: BufferBudget;
  /** Counts of what the caps and the Data-Out checks refused (a warning each would let a flood fill the log). */
  readonly refusals: RefusalCounters;
  /** The member's stalled-controller control (never active on the group portal). */
  readonly hold: CommandHold;
  newLogin(connection: TargetConnection): TargetLogin;
  /** The SendTargets answer for this session. */
  sendTargets(value: string, sessionType: 'Normal' | 'Discovery'): Buffer;
  /** Milliseconds to hold every SCSI response back (fault injection; 0 = none). */
  responseDelayMs(): number;
  /** Milliseconds to hold each connection's first Login Response back (fault injection; 0 = none). */
  loginDelayMs(): number;
  /** Milliseconds a task management request waits, its connection reading nothing (fault injection; 0 = none). */
  taskManagementDelayMs(): number;
  /** NOP-In ping interval in ms (0 = never) and how long to wait for the answer. */
  readonly nopInterval: number;
  readonly nopTimeout: number;
  /** Registers the session (reinstating, i.e. dropping, an older one with the same ISID). */
  sessionStarted(connection: TargetConnection): void;
  sessionEnded(connection: TargetConnection): void;
  /**
   * CLEAR TASK SET or LOGICAL UNIT RESET: ends the LU's tasks on every connection and in every hold queue;
   * returns the executions in flight to wait for before answering.
   */
  clearTaskSet(lun: number, kind: 'clear' | 'reset', from: TargetConnection): Array<Promise<unknown>>;
  /** A target reset from task management: every task of every LU ends. */
  targetReset(cold: boolean, from: TargetConnection): Array<Promise<unknown>>;
}

export interface ConnectionInfo {
  initiatorName?: string;
  isid?: string;
  tsih?: number;
  sessionType?: string;
  remote: { address?: string; port?: number };
  local: { address?: string; port?: number };
  phase: 'login' | 'full-feature' | 'closed';
  tasks: number;
  /** Scratch bytes this connection's write commands hold. */
  bufferedBytes: number;
}

/**
 * Events: 'established' (Full Feature Phase reached), 'closed' (once), 'warning' Error, 'login-failed' Error.
 * Everything that goes wrong with the initiator's input ends in a status, a Reject or a login error and at worst
 * closes this connection only.
 */
export class TargetConnection extends EventEmitter {
  readonly pdu: PduConnection;
  phase: 'login' | 'full-feature' | 'closed' = 'login';
  outcome?: EstablishedLogin;
  params?: NegotiatedParameters;
  window?: CommandWindow;
  statSN = 0;
  lastReceived = Date.now();
  logoutRequested = false;
  readonly budget: ConnectionBudget;
  readonly tasks: TaskTable;
  readonly scsi: ScsiCommands;
  private readonly login: LoginPhase;
  private readonly nop: NopKeeper;
  private readonly text: TextExchange;
  /** Why the socket is not read now: the member's hold queue is full, or the initiator does not read our answers. */
  private readonly readingPausedFor = new Set<ReadingPause>();
  /** Timers of the fault injections' delays (later()): cleared when the connection ends. */
  private readonly delayed = new Set<NodeJS.Timeout>();

  constructor(socket: net.Socket, readonly host: ConnectionHost) {
    super();
    this.pdu = PduConnection.accept(socket, { role: 'target' });
    this.budget = host.buffers.account();
    this.tasks = new TaskTable(this.budget, (itt) => this.pdu.unregisterTask(itt));
    this.scsi = new ScsiCommands(this);
    const allocateTtt = () => this.scsi.allocateTtt();
    this.nop = new NopKeeper(this, allocateTtt);
    this.text = new TextExchange(this, host.caps.maxTextBytes, allocateTtt);
    this.login = new LoginPhase(this, (outcome) => this.enterFullFeature(outcome));
    this.pdu.on('pdu', (pdu: ReceivedPdu) => this.receive(pdu));
    this.pdu.on('error', () => { /* framing errors: the wire layer closes the socket; 'close' follows */ });
    this.pdu.on('close', () => this.closed());
  }

  get nexus(): string {
    const o = this.outcome;
    return o ? `${o.initiatorName},i,0x${o.isid.toString('hex')},t,0x${this.host.portalTag.toString(16).padStart(4, '0')}` : '';
  }

  get remoteAddress(): string | undefined { return this.pdu.remoteAddress; }

  /**
   * Takes the bytes Node read before this connection took the socket over (the target waits for a connection's
   * first bytes before building it), as if the pump had read them.
   */
  start(first: Buffer): void {
    this.pdu.deframer.feed(first);
    if (this.pdu.deframer.error) this.drop();
  }

  get sessionKey(): string | undefined {
    const o = this.outcome;
    return o && o.sessionType === 'Normal' ? `${o.initiatorName}|${o.isid.toString('hex')}|${o.targetName}|${this.host.portalTag}` : undefined;
  }

  info(): ConnectionInfo {
    return {
      initiatorName: this.outcome?.initiatorName, isid: this.outcome?.isid.toString('hex'), tsih: this.outcome?.tsih,
      sessionType: this.outcome?.sessionType,
      remote: { address: this.pdu.remoteAddress, port: this.pdu.remotePort },
      local: { address: this.pdu.localAddress, port: this.pdu.localPort },
      phase: this.phase, tasks: this.tasks.size, bufferedBytes: this.budget.bytes,
    };
  }

  /** Drops the TCP connection at once (fault injection, member down, reinstatement, stop, caps). */
  drop(): void {
    this.pdu.destroy();
  }

  /** Graceful close after what was sent (a failed login, logout, a Reject that ends the connection). */
  close(): void {
    this.phase = 'closed';
    this.pdu.close();
  }

  /** AsyncEvent 1: asks the initiator to log out (and log in again after `time2Wait` seconds). */
  requestLogout(time2Wait = 0, logoutWithinSeconds = 10): boolean {
    return requestLogout(this, time2Wait, logoutWithinSeconds);
  }

  /** AsyncEvent 2: announces that the target drops this connection, and drops it. */
  announceDrop(time2Wait = 2, time2Retain = 0): void {
    announceDrop(this, time2Wait, time2Retain);
  }

  /** Ends this connection's tasks for `lun` (all LUNs when undefined); returns executions still in flight. */
  abortTasks(lun?: number): Array<Promise<unknown>> {
    const running: Array<Promise<unknown>> = [];
    for (const task of this.tasks.values()) {
      if (lun !== undefined && task.lun !== lun) continue;
      this.scsi.abort(task);
      if (task.running) running.push(task.running);
    }
    return running;
  }

  // ---- receive ----

  private receive(pdu: ReceivedPdu): void {
    this.lastReceived = Date.now();
    if (this.phase === 'closed') return;
    const opcode = pdu.bhs.opcode;
    // A stalled member still takes in commands and their data (they wait before execution); everything else
    // waits whole, in order, with a copy of its data segment.
    if (this.host.hold.active && !(this.phase === 'full-feature' && (opcode === Opcode.ScsiCommand || opcode === Opcode.DataOut))) {
      return this.deferReceive(pdu);
    }
    this.dispatch(pdu);
  }

  private dispatch(pdu: ReceivedPdu): void {
    try {
      if (this.phase === 'login') return this.login.receive(pdu);
      if (this.phase !== 'full-feature') return;
      const bhs = pdu.bhs;
      switch (bhs.opcode) {
        case Opcode.ScsiCommand: return this.scsi.command(bhs, pdu);
        case Opcode.DataOut: return this.scsi.dataOut(bhs, pdu);
        case Opcode.NopOut: return this.nop.nopOut(bhs, pdu);
        case Opcode.TextRequest: return this.text.request(bhs, pdu);
        case Opcode.TaskManagementRequest: return taskManagement(this, bhs);
        case Opcode.LogoutRequest: return logout(this, bhs);
        case Opcode.SnackRequest: return this.reject(bhs, REJECT_COMMAND_NOT_SUPPORTED, false); // ERL 0: no SNACK
        default: return this.reject(bhs, REJECT_PROTOCOL_ERROR, true);
      }
    } catch (error) {
      // A bug of ours or input we did not foresee: never the process, only this connection.
      this.emit('warning', error);
      this.reject(pdu.bhs, REJECT_PROTOCOL_ERROR, true);
    }
  }

  private deferReceive(pdu: ReceivedPdu): void {
    const copy: ReceivedPdu = { bhs: pdu.bhs, ahs: pdu.ahs, data: pdu.data ? Buffer.from(pdu.data) : null, placed: false };
    const hold = this.host.hold;
    hold.defer({ owner: this, run: () => { if (this.phase !== 'closed') this.dispatch(copy); } });
    if (!this.readingPausedFor.has('hold') && hold.queuedBy(this) >= HELD_PDUS_PER_CONNECTION) {
      // A frozen controller's receive queue is full: TCP pushes back on the initiator.
      this.pauseReading('hold');
      hold.defer({ owner: this, run: () => this.resumeReading('hold') });
    }
  }

  /** Stops reading PDUs for `reason` until resumeReading(reason); reading resumes once no reason is left. */
  pauseReading(reason: ReadingPause): void {
    if (this.readingPausedFor.size === 0) this.pdu.setReading(false);
    this.readingPausedFor.add(reason);
  }

  resumeReading(reason: ReadingPause): void {
    if (!this.readingPausedFor.delete(reason) || this.readingPausedFor.size > 0 || this.phase === 'closed') return;
    this.pdu.setReading(true);
  }

  private enterFullFeature(outcome: EstablishedLogin): void {
    this.outcome = outcome;
    this.params = outcome.parameters;
    this.statSN = outcome.statSN >>> 0;
    this.window = new CommandWindow(outcome.expCmdSN, COMMAND_WINDOW);
    this.phase = 'full-feature';
    const p = outcome.parameters;
    this.pdu.setDigests(p.headerDigest === 'CRC32C', p.dataDigest === 'CRC32C');
    this.pdu.setMaxRecvDataSegmentLength(p.targetMaxRecvDataSegmentLength);
    this.emit('established');
    if (outcome.sessionType === 'Normal') this.host.sessionStarted(this);
    this.nop.arm();
  }

  // ---- sending (the parts under ./connection/ send through these) ----

  windowFields(): { expCmdSN: number; maxCmdSN: number } {
    const w = this.window;
    return w ? { expCmdSN: w.expCmdSN, maxCmdSN: w.maxCmdSN } : { expCmdSN: 0, maxCmdSN: 0 };
  }

  /**
   * Sends a PDU; while the member is stalled it waits in the hold queue (in order) and goes out at release. While
   * the socket does not take what we send (an initiator that does not read), we stop reading its requests: their
   * answers would pile up in memory.
   */
  send(bhs: BhsInit, data?: Buffer | readonly Buffer[]): void {
    if (this.pdu.isClosed) return;
    if (this.host.hold.active) return this.host.hold.defer({ owner: this, run: () => this.send(bhs, data) });
    if (!this.pdu.send(bhs, data) && !this.readingPausedFor.has('send')) {
      this.pauseReading('send');
      this.pdu.once('drain', () => this.resumeReading('send'));
    }
  }

  /**
   * Runs `run` after `ms` (a fault injection's delay), unless the connection ends first: a task may finish after
   * its connection closed, and then there is nothing to answer and no timer to leave behind.
   */
  later(ms: number, run: () => void): void {
    if (this.phase === 'closed') return;
    const timer = setTimeout(() => { this.delayed.delete(timer); run(); }, ms);
    this.delayed.add(timer);
  }

  paced(bytes: number, run: () => void): void {
    const pacer = this.host.pacer;
    if (!pacer || bytes === 0) run(); else pacer.schedule(bytes, run);
  }

  /** Reject (RFC 7143 §11.17): the data segment is the rejected PDU's header; `close` ends the connection. */
  reject(bhs: Bhs, reason: number, close: boolean): void {
    const header = Buffer.alloc(BHS_LENGTH);
    try { encodeBhs({ ...bhs, ahsLength: 0, dataLength: bhs.dataLength } as BhsInit, header); } catch { /* keep zeros */ }
    this.send({ opcode: Opcode.Reject, reason, itt: RESERVED_TAG, statSN: this.statSN++, ...this.windowFields(), dataSN: 0 }, header);
    if (close) this.close();
  }

  private closed(): void {
    const wasFull = this.outcome?.sessionType === 'Normal';
    this.phase = 'closed';
    this.login.stop();
    this.nop.stop();
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    // Commands waiting in a stalled member do not notice the connection going (a frozen controller would not):
    // they stay queued and run at release unless task management or a reinstatement aborts them.
    for (const task of this.tasks.values()) {
      if (task.held) continue;
      task.aborted = true;
      this.tasks.remove(task);
    }
    if (wasFull) this.host.sessionEnded(this);
    this.emit('closed');
  }
}
