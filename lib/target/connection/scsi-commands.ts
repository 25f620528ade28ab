// SCSI commands on one connection: admission against the caps, Data-Out through R2Ts, execution on the LU (or in
// the member's hold queue while the member is stalled), and the answer. Data never passes through JS byte by
// byte when it can be helped: write data is placed by the deframer straight into LU memory when the LU offers its
// region, else into one zero-filled scratch buffer per command, sized from the CDB and reserved in the budget,
// and allocated only when the first data byte arrives: a write that is announced and never sent costs nothing
// but its reservation.
import type { DataOut, ScsiCommand } from '../../wire/bhs';
import type { ReceivedPdu } from '../../wire/deframer';
import { Opcode, RESERVED_TAG } from '../../wire/opcodes';
import { dataOutLength, writeTransferLength } from '../lu/data-out-length';
import type { ScsiRequest, ScsiResult } from '../lu/types';
import { DataOutError, REJECT_INVALID_PDU_FIELD, REJECT_PROTOCOL_ERROR, WriteTask } from '../write-task';
import { DATA_PHASE_ERROR_SENSE, HARDWARE_ERROR_SENSE, SCSI_BUSY, SCSI_CHECK_CONDITION, SCSI_TASK_SET_FULL, sendScsiResult } from './scsi-response';
import type { Task } from './task-table';
import type { TargetConnection } from '../target-connection';

const REJECT_IMMEDIATE_COMMAND = 0x06;
const REJECT_WAITING_FOR_LOGOUT = 0x0c;

export class ScsiCommands {
  private nextTtt = 1;

  constructor(private readonly c: TargetConnection) {}

  command(bhs: ScsiCommand, pdu: ReceivedPdu): void {
    const c = this.c;
    if (!bhs.immediate && !c.window!.accept(bhs.cmdSN)) return; // outside the window: dropped (RFC 7143 §4.2.2.1)
    if (c.outcome!.sessionType !== 'Normal') return c.reject(bhs, REJECT_PROTOCOL_ERROR, true);
    if (c.logoutRequested) {
      // The command crossed our logout request: its unsolicited Data-Out may already be on the way; discard it.
      c.tasks.rememberAborted(bhs.itt);
      return c.reject(bhs, REJECT_WAITING_FOR_LOGOUT, false);
    }
    if (c.tasks.has(bhs.itt) || bhs.itt === RESERVED_TAG) return c.reject(bhs, REJECT_INVALID_PDU_FIELD, true);
    const params = c.params!;
    const immediate = pdu.data?.length ?? 0;
    if (immediate > 0 && (!bhs.write || !params.immediateData || immediate > Math.min(params.firstBurstLength, bhs.expectedDataTransferLength))) {
      return c.reject(bhs, REJECT_PROTOCOL_ERROR, true);
    }
    const caps = c.host.caps;
    if (bhs.immediate && c.tasks.immediate >= caps.maxImmediateTasksPerConnection) {
      // Immediate commands skip the CmdSN window: their own cap, answered as RFC 7143 §11.17.1 provides.
      c.tasks.rememberAborted(bhs.itt);
      c.host.refusals.immediate++;
      return c.reject(bhs, REJECT_IMMEDIATE_COMMAND, false);
    }
    let cdb = bhs.cdb;
    if (pdu.ahs && pdu.ahs.length >= 4 && pdu.ahs[2] === 1) {
      // Extended CDB AHS (type 1): bytes 16.. of the CDB follow the AHS header and a reserved byte.
      const ahsLength = pdu.ahs.readUInt16BE(0);
      cdb = Buffer.concat([cdb, pdu.ahs.subarray(4, 3 + ahsLength)]);
    }
    const lu = c.host.luns.lun(bhs.lun);
    // A write with EDTL short of its CDB: the LU writes the whole blocks received, the response reports the overflow.
    const wanted = bhs.write ? writeTransferLength(cdb, lu?.blockSize) : undefined;
    const task: Task = {
      itt: bhs.itt, lun: bhs.lun, cmdSN: bhs.cmdSN, cdb, expectedLength: bhs.expectedDataTransferLength,
      read: bhs.read, isWrite: bhs.write, immediate: bhs.immediate, lu, placed: false, registered: false, reserved: 0,
      scratchLength: 0, aborted: false, held: false, wanted,
    };
    if (c.tasks.size >= caps.maxTasksPerConnection) return this.refuse(task, SCSI_TASK_SET_FULL);
    if (!bhs.write || task.expectedLength === 0) {
      c.tasks.add(task);
      return this.execute(task, 0);
    }
    if (!bhs.final && params.initialR2T) return c.reject(bhs, REJECT_PROTOCOL_ERROR, true);
    if (!this.prepareBuffer(task)) return this.refuse(task, SCSI_BUSY);
    c.tasks.add(task);
    if (immediate > 0) this.land(task, pdu.data!, 0);
    task.write = new WriteTask(task.expectedLength, immediate, !bhs.final, params);
    if (task.write.complete) return this.execute(task, immediate);
    if (task.buffer) this.register(task);
    this.sendR2Ts(task);
  }

  /**
   * Where the write's Data-Out goes. LU memory when the LU offers it and the member is not stalled (a held
   * command must not touch the medium before it runs); else scratch of the CDB's length clamped by EDTL,
   * reserved in the budget first. False when the budget says no: nothing is allocated.
   */
  private prepareBuffer(task: Task): boolean {
    const c = this.c;
    const lu = task.lu;
    if (lu && !c.host.hold.active) {
      const placement = lu.dataOutPlacement({ cdb: task.cdb, nexus: c.nexus, port: c.host.port });
      const region = placement && placement.length === task.expectedLength ? lu.writableRegion(placement.byteOffset, placement.length) : undefined;
      if (region) {
        task.placed = true;
        task.buffer = region;
        return true;
      }
    }
    const length = lu ? Math.min(dataOutLength(task.cdb, lu.blockSize), task.expectedLength) : 0;
    if (length > 0 && !c.budget.reserve(length)) return false;
    task.reserved = length;
    task.scratchLength = length;
    return true;
  }

  /** The task's buffer, allocated now if it is scratch not yet needed; undefined when the LU takes no data. */
  private bufferOf(task: Task): Buffer | undefined {
    if (!task.buffer && task.scratchLength > 0) {
      // Zero-filled: even a bookkeeping slip could never hand stale heap to the medium.
      task.buffer = Buffer.alloc(task.scratchLength);
    }
    return task.buffer;
  }

  /** Lets the deframer place the rest of the Data-Out straight into the buffer, when it spans the whole EDTL. */
  private register(task: Task): void {
    const buffer = task.buffer;
    if (task.registered || !buffer || buffer.length !== task.expectedLength) return;
    task.registered = true;
    this.c.pdu.registerTask(task.itt, buffer);
  }

  /** Answers a command the caps do not admit, before anything is allocated; its Data-Out is discarded. */
  private refuse(task: Task, status: number): void {
    this.c.tasks.rememberAborted(task.itt);
    this.c.host.refusals.commands++;
    sendScsiResult(this.c, task, { status });
  }

  /** Copies a payload not placed by the deframer into the task's buffer, dropping what lies beyond it. */
  private land(task: Task, data: Buffer, offset: number): void {
    const buffer = this.bufferOf(task);
    if (!buffer || offset >= buffer.length) return;
    data.copy(buffer, offset, 0, Math.min(data.length, buffer.length - offset));
  }

  private sendR2Ts(task: Task): void {
    const c = this.c;
    for (const r2t of task.write!.nextR2Ts(() => this.allocateTtt())) {
      const send = () => {
        if (task.aborted || c.phase !== 'full-feature') return;
        c.send({
          opcode: Opcode.R2T, lun: task.lun, itt: task.itt, ttt: r2t.ttt, statSN: c.statSN, ...c.windowFields(),
          r2tSN: r2t.r2tSN, bufferOffset: r2t.bufferOffset, desiredDataTransferLength: r2t.length,
        });
      };
      // Pacing writes: the R2T goes out when the emulated link has room for the data it asks for.
      c.paced(r2t.length, send);
    }
  }

  allocateTtt(): number {
    const ttt = this.nextTtt;
    this.nextTtt = this.nextTtt >= 0x7fffffff ? 1 : this.nextTtt + 1;
    return ttt;
  }

  dataOut(bhs: DataOut, pdu: ReceivedPdu): void {
    const c = this.c;
    const task = c.tasks.get(bhs.itt);
    if (!task || !task.write) {
      // Data for a task we aborted is discarded silently (RFC 7143 §11.6.2); for one we never had, it is an error.
      if (c.tasks.wasAborted(bhs.itt)) return;
      return c.reject(bhs, REJECT_INVALID_PDU_FIELD, true);
    }
    const length = pdu.data?.length ?? bhs.dataLength;
    try {
      task.write.dataOut(bhs.ttt, bhs.dataSN, bhs.bufferOffset, length, bhs.final);
    } catch (error) {
      if (!(error instanceof DataOutError)) throw error;
      if (!error.taskOnly) return c.reject(bhs, error.rejectReason, true);
      // The rest of this command's Data-Out is discarded; the command ends with ABORTED COMMAND, DATA PHASE ERROR.
      c.host.refusals.dataPhaseErrors++;
      this.abort(task);
      return sendScsiResult(c, task, { status: SCSI_CHECK_CONDITION, sense: DATA_PHASE_ERROR_SENSE });
    }
    if (!pdu.placed && pdu.data && length > 0) this.land(task, pdu.data, bhs.bufferOffset);
    if (!task.write.complete) this.register(task);
    if (task.write.complete) {
      if (task.registered) {
        task.registered = false;
        c.pdu.unregisterTask(task.itt);
      }
      return this.execute(task, 0);
    }
    if (bhs.final) this.sendR2Ts(task);
  }

  /** Runs the task now, or queues it in the member's hold (a stalled controller runs nothing). */
  private execute(task: Task, unpacedBytes: number): void {
    const hold = this.c.host.hold;
    if (!hold.active) return this.run(task, unpacedBytes);
    task.held = true;
    hold.defer({
      owner: this.c, command: task,
      run: () => {
        task.held = false;
        if (task.aborted) return this.c.tasks.releaseBuffer(task);
        this.run(task, unpacedBytes);
      },
    });
  }

  private run(task: Task, unpacedBytes: number): void {
    const c = this.c;
    const request: ScsiRequest = {
      cdb: task.cdb, expectedLength: task.expectedLength, nexus: c.nexus, port: c.host.port,
      ...(task.placed ? { dataOutPlaced: true } : task.write ? { dataOut: [this.bufferOf(task) ?? Buffer.alloc(0)] } : {}),
    };
    let result: ScsiResult | Promise<ScsiResult>;
    try {
      result = task.lu ? task.lu.execute(request) : c.host.luns.absent(task.cdb);
    } catch (error) {
      c.emit('warning', error);
      result = { status: SCSI_CHECK_CONDITION, sense: HARDWARE_ERROR_SENSE };
    }
    const finish = (r: ScsiResult) => {
      task.running = undefined;
      c.tasks.releaseBuffer(task);
      const delay = c.host.responseDelayMs();
      const respond = () => c.paced((r.data ? Math.min(r.data.length, task.expectedLength) : 0) + unpacedBytes, () => this.respond(task, r));
      if (delay <= 0) return respond();
      c.later(delay, respond);
    };
    if (result instanceof Promise) {
      task.running = result.then(finish, (error) => {
        c.emit('warning', error);
        finish({ status: SCSI_CHECK_CONDITION, sense: HARDWARE_ERROR_SENSE });
      });
    } else finish(result);
  }

  private respond(task: Task, result: ScsiResult): void {
    const c = this.c;
    if (task.aborted || c.phase !== 'full-feature' || c.tasks.get(task.itt) !== task) return;
    c.tasks.remove(task);
    sendScsiResult(c, task, result);
  }

  /** Ends the task without an answer (task management, logout, a spoilt data phase). */
  abort(task: Task): void {
    task.aborted = true;
    this.c.tasks.remove(task);
    this.c.tasks.rememberAborted(task.itt);
  }
}
