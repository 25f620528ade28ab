// One initiator connection to a target portal: the login phase, then the Full Feature Phase of its
// single-connection session (MaxConnections=1): SCSI commands with Data-In / R2T / Data-Out, NOP-In pings,
// SendTargets, task management, logout, async messages. Data never passes through JS byte by byte: read data
// goes out as views of LU memory, write data is placed by the deframer straight into LU memory when the LU
// offers its region, else into one scratch buffer per command.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { type Bhs, type BhsInit, type DataOut, type LoginRequest, type NopOut, type ScsiCommand, type TaskManagementRequest, type TextRequest, type LogoutRequest, encodeBhs } from '../wire/bhs';
import { PduConnection } from '../wire/connection';
import type { ReceivedPdu } from '../wire/deframer';
import { BHS_LENGTH, Opcode, RESERVED_TAG } from '../wire/opcodes';
import type { NegotiatedParameters } from '../protocol/negotiation';
import { decodeTextPairs, encodeText, type TextPair } from '../protocol/text';
import { CommandWindow } from './command-window';
import { DataOutError, REJECT_INVALID_PDU_FIELD, REJECT_PROTOCOL_ERROR, WriteTask } from './write-task';
import type { LinkPacer } from './link-pacer';
import type { EstablishedLogin, TargetLogin } from '../protocol/target-login';
import type { LogicalUnit } from './lu/logical-unit';
import type { ScsiRequest, ScsiResult, PortIdentity } from './lu/types';

const SCSI_GOOD = 0x00;
const SCSI_CHECK_CONDITION = 0x02;
const REJECT_COMMAND_NOT_SUPPORTED = 0x05;
const REJECT_WAITING_FOR_LOGOUT = 0x0c;
/** Commands the session may have outstanding: the CmdSN window we advertise. */
export const COMMAND_WINDOW = 128;

/** How the connection finds the logical unit behind a LUN, and answers for LUNs that do not exist. */
export interface LunResolver {
  lun(lun: number): LogicalUnit | undefined;
  /** Answer for a CDB addressed to a LUN that does not exist (INQUIRY "no device", REPORT LUNS, 25/00). */
  absent(cdb: Buffer): ScsiResult;
}

/** What the portal gives each connection it accepts. */
export interface ConnectionHost {
  readonly portalTag: number;
  readonly port?: PortIdentity;
  readonly pacer?: LinkPacer;
  readonly luns: LunResolver;
  newLogin(connection: TargetConnection): TargetLogin;
  /** The SendTargets answer for this session. */
  sendTargets(value: string, sessionType: 'Normal' | 'Discovery'): Buffer;
  /** Milliseconds to hold every SCSI response back (fault injection; 0 = none). */
  responseDelayMs(): number;
  /** NOP-In ping interval in ms (0 = never) and how long to wait for the answer. */
  readonly nopInterval: number;
  readonly nopTimeout: number;
  /** Registers the session (reinstating, i.e. dropping, an older one with the same ISID). */
  sessionStarted(connection: TargetConnection): void;
  sessionEnded(connection: TargetConnection): void;
  /** A target reset from task management. */
  targetReset(cold: boolean, from: TargetConnection): void;
}

interface Task {
  itt: number;
  lun: number;
  cmdSN: number;
  cdb: Buffer;
  /** Bytes the CDB asks to write (before any clamping to EDTL), for the residual. */
  wanted?: number;
  expectedLength: number;
  read: boolean;
  isWrite: boolean;
  lu: LogicalUnit | undefined;
  write?: WriteTask;
  buffer?: Buffer;
  placed: boolean;
  aborted: boolean;
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
}

/**
 * Events: 'closed' (once). Everything that goes wrong with the initiator's input ends in a Reject or a login error
 * and closes this connection only.
 */
export class TargetConnection extends EventEmitter {
  readonly pdu: PduConnection;
  private phase: 'login' | 'full-feature' | 'closed' = 'login';
  private login: TargetLogin;
  outcome?: EstablishedLogin;
  private statSN = 0;
  private window?: CommandWindow;
  private readonly tasks = new Map<number, Task>();
  private nextTtt = 1;
  private nopTimer?: NodeJS.Timeout;
  private nopDeadline?: NodeJS.Timeout;
  private nopPendingTtt?: number;
  private lastReceived = Date.now();
  private logoutRequested = false;
  private params?: NegotiatedParameters;

  constructor(socket: net.Socket, readonly host: ConnectionHost) {
    super();
    this.pdu = PduConnection.accept(socket, { role: 'target' });
    this.login = host.newLogin(this);
    this.pdu.on('pdu', (pdu: ReceivedPdu) => this.receive(pdu));
    this.pdu.on('error', () => { /* framing errors: the wire layer closes the socket; 'close' follows */ });
    this.pdu.on('close', () => this.closed());
  }

  get nexus(): string {
    const o = this.outcome;
    return o ? `${o.initiatorName},i,0x${o.isid.toString('hex')},t,0x${this.host.portalTag.toString(16).padStart(4, '0')}` : '';
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
      phase: this.phase, tasks: this.tasks.size,
    };
  }

  /** Drops the TCP connection at once (fault injection, member down, reinstatement, stop). */
  drop(): void {
    this.pdu.destroy();
  }

  /**
   * Asks the initiator to log out (AsyncEvent 1): it should log out within `logoutWithinSeconds` and log in
   * again after `time2Wait` seconds, through the group portal, which may send it elsewhere (rebalancing).
   */
  requestLogout(time2Wait = 0, logoutWithinSeconds = 10): boolean {
    if (this.phase !== 'full-feature') return false;
    this.logoutRequested = true;
    // RFC 7143 §11.9.1: for event 1 only Parameter3 is defined; Time2Wait rides in Parameter2 as for events 2/3,
    // which initiators that honour it (open-iscsi) read from there.
    this.sendAsync(1, 0, time2Wait, logoutWithinSeconds);
    return true;
  }

  /** Announces that the target will drop this connection (AsyncEvent 2) and drops it. */
  announceDrop(time2Wait = 2, time2Retain = 0): void {
    if (this.phase !== 'full-feature') return this.drop();
    this.sendAsync(2, 0, time2Wait, time2Retain);
    this.pdu.close();
  }

  private sendAsync(event: number, p1: number, p2: number, p3: number): void {
    this.send({
      opcode: Opcode.AsyncMessage, lun: 0, itt: RESERVED_TAG, statSN: this.statSN++, ...this.windowFields(),
      asyncEvent: event, asyncVCode: 0, parameter1: p1, parameter2: p2, parameter3: p3,
    });
  }

  // ---- receive ----

  private receive(pdu: ReceivedPdu): void {
    this.lastReceived = Date.now();
    try {
      if (this.phase === 'login') return this.receiveLogin(pdu);
      if (this.phase !== 'full-feature') return;
      const bhs = pdu.bhs;
      switch (bhs.opcode) {
        case Opcode.ScsiCommand: return this.scsiCommand(bhs, pdu);
        case Opcode.DataOut: return this.dataOut(bhs, pdu);
        case Opcode.NopOut: return this.nopOut(bhs, pdu);
        case Opcode.TextRequest: return this.textRequest(bhs, pdu);
        case Opcode.TaskManagementRequest: return this.taskManagement(bhs);
        case Opcode.LogoutRequest: return this.logout(bhs);
        case Opcode.SnackRequest: return this.reject(bhs, REJECT_COMMAND_NOT_SUPPORTED, false); // ERL 0: no SNACK
        default: return this.reject(bhs, REJECT_PROTOCOL_ERROR, true);
      }
    } catch (error) {
      // A bug of ours or input we did not foresee: never the process, only this connection.
      this.emit('warning', error);
      this.reject(pdu.bhs, REJECT_PROTOCOL_ERROR, true);
    }
  }

  private receiveLogin(pdu: ReceivedPdu): void {
    if (pdu.bhs.opcode !== Opcode.LoginRequest) {
      // Anything but a Login Request before login completes is a protocol error (RFC 7143 §6.3): close.
      return this.reject(pdu.bhs, REJECT_PROTOCOL_ERROR, true);
    }
    const data = pdu.data ? Buffer.from(pdu.data) : Buffer.alloc(0);
    const reply = this.login.receive({ bhs: pdu.bhs as LoginRequest, data });
    this.pdu.send(reply.pdu.bhs, reply.pdu.data);
    if (reply.outcome === 'failed' || reply.outcome === 'redirected') {
      if (reply.error) this.emit('login-failed', reply.error);
      // Any Status-Class other than 0 ends the login; the connection closes (RFC 7143 §6.3).
      this.phase = 'closed';
      this.pdu.close();
      return;
    }
    if (reply.outcome === 'established') this.enterFullFeature(reply.session!);
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
    if (outcome.sessionType === 'Normal') this.host.sessionStarted(this);
    this.armNop();
  }

  // ---- SCSI commands ----

  private scsiCommand(bhs: ScsiCommand, pdu: ReceivedPdu): void {
    const window = this.window!;
    if (!bhs.immediate && !window.accept(bhs.cmdSN)) return; // outside the window: dropped (RFC 7143 §4.2.2.1)
    if (this.outcome!.sessionType !== 'Normal') return this.reject(bhs, REJECT_PROTOCOL_ERROR, true);
    if (this.logoutRequested) {
      // The command crossed our logout request: its unsolicited Data-Out may already be on the way; discard it.
      this.rememberAborted(bhs.itt);
      return this.reject(bhs, REJECT_WAITING_FOR_LOGOUT, false);
    }
    if (this.tasks.has(bhs.itt) || bhs.itt === RESERVED_TAG) return this.reject(bhs, REJECT_INVALID_PDU_FIELD, true);
    const params = this.params!;
    let cdb = bhs.cdb;
    if (pdu.ahs && pdu.ahs.length >= 4 && pdu.ahs[2] === 1) {
      // Extended CDB AHS (type 1): bytes 16.. of the CDB follow the AHS header and a reserved byte.
      const ahsLength = pdu.ahs.readUInt16BE(0);
      cdb = Buffer.concat([cdb, pdu.ahs.subarray(4, 3 + ahsLength)]);
    }
    const lu = this.host.luns.lun(bhs.lun);
    // A write with EDTL short of its CDB: the LU writes the whole blocks received, finishTask reports the overflow.
    const wanted = bhs.write ? writeTransferLength(cdb, lu?.blockSize) : undefined;
    const task: Task = {
      itt: bhs.itt, lun: bhs.lun, cmdSN: bhs.cmdSN, cdb, expectedLength: bhs.expectedDataTransferLength,
      read: bhs.read, isWrite: bhs.write, lu, placed: false, aborted: false, wanted,
    };
    const immediate = pdu.data?.length ?? 0;
    if (immediate > 0 && (!bhs.write || !params.immediateData || immediate > Math.min(params.firstBurstLength, bhs.expectedDataTransferLength))) {
      return this.reject(bhs, REJECT_PROTOCOL_ERROR, true);
    }
    this.tasks.set(task.itt, task);
    this.recentlyAborted.delete(task.itt);
    if (!bhs.write || task.expectedLength === 0) return this.execute(task, 0);

    if (!bhs.final && params.initialR2T) return this.abortConnection(bhs, REJECT_PROTOCOL_ERROR);
    const placement = lu?.dataOutPlacement({ cdb, nexus: this.nexus, port: this.host.port });
    const region = placement && placement.length === task.expectedLength ? lu!.writableRegion(placement.byteOffset, placement.length) : undefined;
    task.placed = region !== undefined;
    task.buffer = task.placed ? region! : Buffer.allocUnsafe(task.expectedLength);
    if (immediate > 0) pdu.data!.copy(task.buffer, 0);
    task.write = new WriteTask(task.expectedLength, immediate, !bhs.final, params);
    if (task.write.complete) return this.execute(task, immediate);
    this.pdu.registerTask(task.itt, task.buffer);
    this.sendR2Ts(task);
  }

  private sendR2Ts(task: Task): void {
    for (const r2t of task.write!.nextR2Ts(() => this.allocateTtt())) {
      const send = () => {
        if (task.aborted || this.phase !== 'full-feature') return;
        this.send({
          opcode: Opcode.R2T, lun: task.lun, itt: task.itt, ttt: r2t.ttt, statSN: this.statSN, ...this.windowFields(),
          r2tSN: r2t.r2tSN, bufferOffset: r2t.bufferOffset, desiredDataTransferLength: r2t.length,
        });
      };
      // Pacing writes: the R2T goes out when the emulated link has room for the data it asks for.
      this.paced(r2t.length, send);
    }
  }

  private allocateTtt(): number {
    const ttt = this.nextTtt;
    this.nextTtt = this.nextTtt >= 0x7fffffff ? 1 : this.nextTtt + 1;
    return ttt;
  }

  private dataOut(bhs: DataOut, pdu: ReceivedPdu): void {
    const task = this.tasks.get(bhs.itt);
    if (!task || !task.write) {
      // Data for a task we aborted is discarded silently (RFC 7143 §11.6.2); for one we never had, it is an error.
      if (this.recentlyAborted.has(bhs.itt)) return;
      return this.abortConnection(bhs, REJECT_INVALID_PDU_FIELD);
    }
    const length = pdu.data?.length ?? bhs.dataLength;
    try {
      task.write.dataOut(bhs.ttt, bhs.dataSN, bhs.bufferOffset, length, bhs.final);
    } catch (error) {
      if (!(error instanceof DataOutError)) throw error;
      if (!error.taskOnly) return this.abortConnection(bhs, error.rejectReason);
      // The rest of this command's Data-Out is discarded; the command ends with ABORTED COMMAND, DATA PHASE ERROR.
      this.emit('warning', error);
      this.abortTask(task);
      task.aborted = false;
      return this.finishTask(task, { status: SCSI_CHECK_CONDITION, sense: DATA_PHASE_ERROR_SENSE });
    }
    if (!pdu.placed && pdu.data && length > 0) pdu.data.copy(task.buffer!, bhs.bufferOffset);
    if (task.write.complete) {
      this.pdu.unregisterTask(task.itt);
      // Immediate and unsolicited bytes were not paced by R2Ts: charge them to the link before answering.
      return this.execute(task, 0);
    }
    if (bhs.final) this.sendR2Ts(task);
  }

  private execute(task: Task, unpacedBytes: number): void {
    const request: ScsiRequest = {
      cdb: task.cdb, expectedLength: task.expectedLength, nexus: this.nexus, port: this.host.port,
      ...(task.buffer ? (task.placed ? { dataOutPlaced: true } : { dataOut: [task.buffer] }) : {}),
    };
    let result: ScsiResult | Promise<ScsiResult>;
    try {
      result = task.lu ? task.lu.execute(request) : this.host.luns.absent(task.cdb);
    } catch (error) {
      this.emit('warning', error);
      result = { status: SCSI_CHECK_CONDITION, sense: HARDWARE_ERROR_SENSE };
    }
    const finish = (r: ScsiResult) => {
      const delay = this.host.responseDelayMs();
      const respond = () => this.paced((r.data ? Math.min(r.data.length, task.expectedLength) : 0) + unpacedBytes, () => this.respond(task, r));
      if (delay > 0) setTimeout(respond, delay); else respond();
    };
    if (result instanceof Promise) {
      result.then(finish, (error) => {
        this.emit('warning', error);
        finish({ status: SCSI_CHECK_CONDITION, sense: HARDWARE_ERROR_SENSE });
      });
    } else finish(result);
  }

  private respond(task: Task, result: ScsiResult): void {
    if (task.aborted || this.phase !== 'full-feature' || this.tasks.get(task.itt) !== task) return;
    this.tasks.delete(task.itt);
    this.finishTask(task, result);
  }

  private finishTask(task: Task, result: ScsiResult): void {
    const edtl = task.expectedLength;
    const params = this.params!;
    const produced = result.data?.length ?? 0;
    // Residuals (RFC 7143 §11.4.5): reads compare the data the command produced, writes the data the CDB wanted.
    // A write whose CDB length we cannot tell (WRITE SAME, UNMAP lists...) took what the initiator sent.
    const wanted = task.wanted ?? (task.isWrite ? edtl : produced);
    const overflow = wanted > edtl;
    const underflow = wanted < edtl;
    const residualCount = overflow ? wanted - edtl : underflow ? edtl - wanted : 0;
    let dataSN = 0;
    if (task.read && result.data && produced > 0 && edtl > 0) {
      const total = Math.min(produced, edtl);
      const data = result.data;
      const segment = params.initiatorMaxRecvDataSegmentLength;
      const burst = params.maxBurstLength;
      const statusInData = result.status === SCSI_GOOD;
      for (let offset = 0; offset < total;) {
        const burstLeft = burst - (offset % burst);
        const length = Math.min(segment, total - offset, burstLeft);
        const last = offset + length === total;
        const withStatus = last && statusInData;
        this.send({
          opcode: Opcode.DataIn, final: last || length === burstLeft, acknowledge: false,
          overflow: withStatus && overflow, underflow: withStatus && underflow, hasStatus: withStatus,
          status: withStatus ? result.status : 0, lun: task.lun, itt: task.itt, ttt: RESERVED_TAG,
          statSN: withStatus ? this.statSN++ : this.statSN, ...this.windowFields(),
          dataSN: dataSN++, bufferOffset: offset, residualCount: withStatus ? residualCount : 0,
        }, data.subarray(offset, offset + length));
        offset += length;
      }
      if (statusInData) return;
    }
    const sense = result.status === SCSI_CHECK_CONDITION && result.sense ? result.sense : undefined;
    let payload: Buffer[] | undefined;
    if (sense) {
      const header = Buffer.allocUnsafe(2);
      header.writeUInt16BE(sense.length, 0);
      payload = [header, sense];
    }
    this.send({
      opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: false, overflow, underflow, response: 0,
      status: result.status, itt: task.itt, snackTag: 0, statSN: this.statSN++, ...this.windowFields(),
      expDataSN: dataSN, bidiResidualCount: 0, residualCount,
    }, payload);
  }


  // ---- other PDUs ----

  private nopOut(bhs: NopOut, pdu: ReceivedPdu): void {
    if (bhs.itt === RESERVED_TAG) {
      // The answer to our ping (or a plain ExpStatSN update): nothing to send back.
      if (bhs.ttt !== RESERVED_TAG && bhs.ttt === this.nopPendingTtt) this.nopAnswered();
      return;
    }
    if (!bhs.immediate && !this.window!.accept(bhs.cmdSN)) return;
    const echo = pdu.data && pdu.data.length > 0 ? Buffer.from(pdu.data) : undefined;
    this.send({ opcode: Opcode.NopIn, lun: bhs.lun, itt: bhs.itt, ttt: RESERVED_TAG, statSN: this.statSN++, ...this.windowFields() }, echo);
  }

  private textRequest(bhs: TextRequest, pdu: ReceivedPdu): void {
    if (!bhs.immediate && !this.window!.accept(bhs.cmdSN)) return;
    if (bhs.cont || bhs.ttt !== RESERVED_TAG) return this.reject(bhs, REJECT_COMMAND_NOT_SUPPORTED, false); // no multi-PDU text
    let pairs: TextPair[];
    try {
      pairs = pdu.data ? decodeTextPairs(pdu.data) : [];
    } catch {
      return this.abortConnection(bhs, REJECT_PROTOCOL_ERROR);
    }
    const answer: Buffer[] = [];
    for (const [key, value] of pairs) {
      if (key === 'SendTargets') answer.push(this.host.sendTargets(value, this.outcome!.sessionType));
      else answer.push(encodeText([[key, 'NotUnderstood']]));
    }
    const data = Buffer.concat(answer);
    if (data.length > this.params!.initiatorMaxRecvDataSegmentLength) return this.reject(bhs, REJECT_COMMAND_NOT_SUPPORTED, false);
    this.send({ opcode: Opcode.TextResponse, final: true, cont: false, lun: 0, itt: bhs.itt, ttt: RESERVED_TAG, statSN: this.statSN++, ...this.windowFields() }, data);
  }

  private readonly recentlyAborted = new Set<number>();

  private abortTask(task: Task): void {
    task.aborted = true;
    this.tasks.delete(task.itt);
    this.pdu.unregisterTask(task.itt);
    this.rememberAborted(task.itt);
  }

  /** Data-Out for this ITT is discarded silently from now on (until the tag is used again). */
  private rememberAborted(itt: number): void {
    this.recentlyAborted.add(itt);
    if (this.recentlyAborted.size > 1024) this.recentlyAborted.delete(this.recentlyAborted.values().next().value!);
  }

  private taskManagement(bhs: TaskManagementRequest): void {
    if (!bhs.immediate && !this.window!.accept(bhs.cmdSN)) return;
    let response = 0; // function complete
    switch (bhs.func) {
      case 1: { // ABORT TASK
        const task = this.tasks.get(bhs.referencedTaskTag);
        // A task already answered (or never received) "does not exist": the initiator then expects its response.
        if (task) this.abortTask(task); else response = 1;
        break;
      }
      case 2: case 4: // ABORT TASK SET, CLEAR TASK SET
        for (const task of [...this.tasks.values()]) if (task.lun === bhs.lun) this.abortTask(task);
        break;
      case 5: { // LOGICAL UNIT RESET
        const lu = this.host.luns.lun(bhs.lun);
        if (!lu) { response = 2; break; }
        for (const task of [...this.tasks.values()]) if (task.lun === bhs.lun) this.abortTask(task);
        lu.reset('logical-unit');
        break;
      }
      case 6: case 7: // TARGET WARM / COLD RESET
        for (const task of [...this.tasks.values()]) this.abortTask(task);
        this.host.targetReset(bhs.func === 7, this);
        break;
      default:
        response = 5; // not supported
    }
    this.send({ opcode: Opcode.TaskManagementResponse, response, itt: bhs.itt, statSN: this.statSN++, ...this.windowFields() });
    if (bhs.func === 7) this.pdu.close();
  }

  private logout(bhs: LogoutRequest): void {
    if (!bhs.immediate && !this.window!.accept(bhs.cmdSN)) return;
    // Reason 2 (remove the connection for recovery) needs ERL 2; we run ERL 0.
    const response = bhs.reason === 2 ? 2 : 0;
    this.send({
      opcode: Opcode.LogoutResponse, response, itt: bhs.itt, statSN: this.statSN++, ...this.windowFields(),
      time2Wait: 0, time2Retain: 0,
    });
    if (response === 0) {
      for (const task of [...this.tasks.values()]) this.abortTask(task);
      this.phase = 'closed';
      this.pdu.close();
    }
  }

  // ---- NOP-In pings ----

  private armNop(): void {
    const interval = this.host.nopInterval;
    if (!interval || this.phase !== 'full-feature') return;
    this.nopTimer = setTimeout(() => this.ping(), interval);
    this.nopTimer.unref();
  }

  private ping(): void {
    if (this.phase !== 'full-feature') return;
    // Only ping an idle connection: any PDU received counts as a sign of life.
    if (Date.now() - this.lastReceived < this.host.nopInterval) return this.armNop();
    const ttt = this.allocatePingTtt();
    this.nopPendingTtt = ttt;
    this.send({ opcode: Opcode.NopIn, lun: 0, itt: RESERVED_TAG, ttt, statSN: this.statSN, ...this.windowFields() });
    this.nopDeadline = setTimeout(() => {
      if (this.nopPendingTtt === ttt) {
        this.emit('warning', new Error(`no answer to NOP-In ping within ${this.host.nopTimeout} ms: dropping the connection`));
        this.drop();
      }
    }, this.host.nopTimeout);
    this.nopDeadline.unref();
  }

  private allocatePingTtt(): number {
    // High bit set: ping tags never collide with R2T tags.
    return (0x80000000 | this.allocateTtt()) >>> 0;
  }

  private nopAnswered(): void {
    this.nopPendingTtt = undefined;
    if (this.nopDeadline) clearTimeout(this.nopDeadline);
    this.armNop();
  }

  // ---- sending ----

  private windowFields(): { expCmdSN: number; maxCmdSN: number } {
    const w = this.window;
    return w ? { expCmdSN: w.expCmdSN, maxCmdSN: w.maxCmdSN } : { expCmdSN: 0, maxCmdSN: 0 };
  }

  private send(bhs: BhsInit, data?: Buffer | readonly Buffer[]): void {
    if (this.pdu.isClosed) return;
    this.pdu.send(bhs, data);
  }

  private paced(bytes: number, run: () => void): void {
    const pacer = this.host.pacer;
    if (!pacer || bytes === 0) run(); else pacer.schedule(bytes, run);
  }

  /** Reject (RFC 7143 §11.17): the data segment is the rejected PDU's header. */
  private reject(bhs: Bhs, reason: number, close: boolean): void {
    const header = Buffer.alloc(BHS_LENGTH);
    try { encodeBhs({ ...bhs, ahsLength: 0, dataLength: bhs.dataLength } as BhsInit, header); } catch { /* keep zeros */ }
    this.send({ opcode: Opcode.Reject, reason, itt: RESERVED_TAG, statSN: this.statSN++, ...this.windowFields(), dataSN: 0 }, header);
    if (close) {
      this.phase = 'closed';
      this.pdu.close();
    }
  }

  private abortConnection(bhs: Bhs, reason: number): void {
    this.reject(bhs, reason, true);
  }

  private closed(): void {
    const wasFull = this.outcome?.sessionType === 'Normal';
    this.phase = 'closed';
    if (this.nopTimer) clearTimeout(this.nopTimer);
    if (this.nopDeadline) clearTimeout(this.nopDeadline);
    for (const task of this.tasks.values()) task.aborted = true;
    this.tasks.clear();
    if (wasFull) this.host.sessionEnded(this);
    this.emit('closed');
  }
}

/** HARDWARE ERROR / INTERNAL TARGET FAILURE (44h/00h): a fault of ours, reported without losing the connection. */
const HARDWARE_ERROR_SENSE = (() => {
  const s = Buffer.alloc(18);
  s[0] = 0x70; s[2] = 0x04; s[7] = 10; s[12] = 0x44;
  return s;
})();

/** ABORTED COMMAND / DATA PHASE ERROR (4Bh/00h): the command's Data-Out broke the sequence rules. */
const DATA_PHASE_ERROR_SENSE = (() => {
  const s = Buffer.alloc(18);
  s[0] = 0x70; s[2] = 0x0b; s[7] = 10; s[12] = 0x4b;
  return s;
})();

/** Transfer length in bytes of the write-type CDBs whose Data-Out length follows from the CDB, for residuals. */
export function writeTransferLength(cdb: Buffer, blockSize: number | undefined): number | undefined {
  if (!blockSize) return undefined;
  switch (cdb[0]) {
    case 0x0a: return (cdb[4] || 256) * blockSize; // WRITE(6)
    case 0x2a: case 0x2e: return cdb.readUInt16BE(7) * blockSize; // WRITE(10), WRITE AND VERIFY(10)
    case 0xaa: case 0xae: return cdb.readUInt32BE(6) * blockSize; // WRITE(12), WRITE AND VERIFY(12)
    case 0x8a: case 0x8e: return cdb.readUInt32BE(10) * blockSize; // WRITE(16), WRITE AND VERIFY(16)
    default: return undefined;
  }
}
