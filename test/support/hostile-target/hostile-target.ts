// A target that misbehaves on purpose, scriptable per test case, to show what our initiator does with a peer that
// breaks RFC 7143. It is built from the codecs (encodeBhs/decodeBhs, the framer, the target login machine) over a
// raw net.Socket, never from the embedded target: each connection logs in honestly (unless the case tampers with
// the Login Responses), then runs the case's script, which may answer honestly (HostilePeer.serve) until the moment
// it lies.
import net from 'node:net';
import type { DataIn, BhsInit, LoginRequest, LoginResponse, ScsiCommand } from '../../../lib/wire/bhs';
import { framePdu } from '../../../lib/wire/framer';
import { Opcode, RESERVED_TAG } from '../../../lib/wire/opcodes';
import type { OperationalValues } from '../../../lib/protocol/negotiation';
import type { OutgoingPdu, Pdu } from '../../../lib/protocol/pdu';
import { type EstablishedLogin, TargetLogin, type TargetLoginConfig, type TargetLoginReply } from '../../../lib/protocol/target-login';
import { answer } from './honest-lu';
import { type InitiatorPdu, PduReader } from './pdu-reader';

export const HOSTILE_IQN = 'iqn.2026-01.io.iscsi-mpio.test:hostile';

export interface SendFaults {
  /** Flip a bit of the header digest (needs header digests negotiated). */
  badHeaderDigest?: boolean;
  /** Flip a bit of the data digest (needs data digests negotiated). */
  badDataDigest?: boolean;
}

export interface HostileTargetOptions {
  /** A loopback address of the test's own range. */
  address: string;
  port?: number;
  /** The target's limits for the login (its MaxRecvDataSegmentLength, digests it accepts...). */
  limits?: Partial<OperationalValues>;
  /** Rewrites (or, returning undefined, swallows) each Login Response before it goes out. */
  loginResponse?: (pdu: OutgoingPdu<LoginResponse>, reply: TargetLoginReply, index: number) => OutgoingPdu<LoginResponse> | undefined;
  redirect?: TargetLoginConfig['redirect'];
  /** Sends each Login Response one byte per this many ms (a target crawling through the login). */
  loginByteIntervalMs?: number;
  /** What happens after the login; default: serve honestly until the initiator leaves. */
  script?: (peer: HostilePeer) => Promise<void>;
}

export class HostileTarget {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Script failures (a broken test, not a misbehaviour): a test asserts this stays empty. */
  readonly errors: Error[] = [];
  /** Connections accepted so far. */
  connections = 0;
  private readonly scripts = new Set<Promise<void>>();

  private constructor(readonly options: HostileTargetOptions) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(options: HostileTargetOptions): Promise<HostileTarget> {
    const target = new HostileTarget(options);
    await new Promise<void>((resolve, reject) => {
      target.server.once('error', reject);
      target.server.listen(options.port ?? 0, options.address, () => resolve());
    });
    return target;
  }

  get port(): number { return (this.server.address() as net.AddressInfo).port; }
  get address(): string { return this.options.address; }
  get url(): string { return `iscsi://${this.address}:${this.port}/${HOSTILE_IQN}/0`; }
  get portal(): string { return `${this.address}:${this.port}`; }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.allSettled([...this.scripts]);
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    const run = this.run(socket).catch((error: Error) => {
      if (!socket.destroyed) this.errors.push(error);
      socket.destroy();
    });
    this.scripts.add(run);
    void run.finally(() => this.scripts.delete(run));
  }

  private async write(socket: net.Socket, bytes: Buffer): Promise<void> {
    const interval = this.options.loginByteIntervalMs;
    if (interval === undefined) {
      socket.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length && !socket.destroyed; i++) {
      socket.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, interval));
    }
  }

  private async run(socket: net.Socket): Promise<void> {
    const reader = new PduReader(socket);
    const login = new TargetLogin({
      findTarget: (name) => (name === HOSTILE_IQN ? {} : undefined), portalGroupTag: 1, statSN: 1000,
      limits: { maxRecvDataSegmentLength: 65536, maxBurstLength: 262144, headerDigest: ['CRC32C', 'None'], dataDigest: ['CRC32C', 'None'], ...this.options.limits },
      redirect: this.options.redirect,
    });
    for (let index = 0; ; index++) {
      const request = await reader.take();
      if (!request) return;
      const reply = login.receive(request as Pdu<LoginRequest>);
      const pdu = this.options.loginResponse ? this.options.loginResponse(reply.pdu, reply, index) : reply.pdu;
      if (pdu) await this.write(socket, Buffer.concat(framePdu(pdu.bhs, [pdu.data], { headerDigest: false, dataDigest: false })));
      if (reply.outcome === 'failed' || reply.outcome === 'redirected') {
        socket.end();
        return;
      }
      if (reply.outcome === 'established') {
        const peer = new HostilePeer(socket, reader, reply.session!);
        await (this.options.script ?? ((p) => p.serveForever()))(peer);
        return;
      }
    }
  }
}

/** The Full Feature Phase side of one connection, for scripts. */
export class HostilePeer {
  private statSN: number;
  private expCmdSN: number;
  private maxCmdSN: number;
  private nextTtt = 0x1000;
  readonly digests: { headerDigest: boolean; dataDigest: boolean };

  constructor(readonly socket: net.Socket, private readonly reader: PduReader, readonly login: EstablishedLogin) {
    this.statSN = login.statSN;
    this.expCmdSN = login.expCmdSN;
    this.maxCmdSN = login.maxCmdSN;
    this.digests = { headerDigest: login.parameters.headerDigest === 'CRC32C', dataDigest: login.parameters.dataDigest === 'CRC32C' };
    reader.headerDigest = this.digests.headerDigest;
    reader.dataDigest = this.digests.dataDigest;
  }

  get maxSegment(): number { return this.login.parameters.initiatorMaxRecvDataSegmentLength; }
  get closed(): boolean { return this.reader.closed; }

  /** The next initiator PDU (that `match` accepts); undefined once the initiator closed the connection. */
  next(match?: (pdu: InitiatorPdu) => boolean, timeoutMs = 10_000): Promise<InitiatorPdu | undefined> {
    return this.reader.take(match, timeoutMs);
  }

  /** The next SCSI Command, answering every other PDU (NOP, TMF, logout, Data-Out) honestly meanwhile. */
  async nextCommand(timeoutMs = 10_000): Promise<Pdu<ScsiCommand> | undefined> {
    for (;;) {
      const pdu = await this.next(undefined, timeoutMs);
      if (!pdu) return undefined;
      this.account(pdu);
      if (pdu.bhs.opcode === Opcode.ScsiCommand) return pdu as Pdu<ScsiCommand>;
      await this.serveOther(pdu);
    }
  }

  /** The fields a status-bearing PDU carries, taking a StatSN. */
  status(): { statSN: number; expCmdSN: number; maxCmdSN: number } {
    const statSN = this.statSN;
    this.statSN = (this.statSN + 1) >>> 0;
    return { statSN, expCmdSN: this.expCmdSN, maxCmdSN: this.maxCmdSN };
  }

  /** The fields of a PDU without status (Data-In without S, R2T): StatSN not advanced. */
  window(): { statSN: number; expCmdSN: number; maxCmdSN: number } {
    return { statSN: this.statSN, expCmdSN: this.expCmdSN, maxCmdSN: this.maxCmdSN };
  }

  send(bhs: BhsInit, data?: Buffer, faults: SendFaults = {}): void {
    const wire = framePdu(bhs, data && data.length > 0 ? [data] : [], this.digests);
    if (faults.badHeaderDigest) wire[0] = flipLast(wire[0]);
    if (faults.badDataDigest) wire[wire.length - 1] = flipLast(wire[wire.length - 1]);
    this.raw(Buffer.concat(wire));
  }

  raw(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** A Data-In for `command` (fields may be overridden). */
  dataIn(command: Pdu<ScsiCommand>, fields: Partial<DataIn> & { dataSN: number; bufferOffset: number }, data: Buffer, faults?: SendFaults): void {
    const last = fields.hasStatus ?? false;
    this.send({
      opcode: Opcode.DataIn, final: last, acknowledge: false, overflow: false, underflow: false, hasStatus: last, status: 0,
      lun: 0, itt: command.bhs.itt, ttt: RESERVED_TAG, residualCount: 0, ...(last ? this.status() : this.window()), ...fields,
    } as BhsInit, data, faults);
  }

  /** A SCSI Response for `itt`. */
  scsiResponse(itt: number, status = 0, sense?: Buffer, fields: Record<string, unknown> = {}): void {
    const data = sense ? Buffer.concat([Buffer.from([sense.length >> 8, sense.length & 0xff]), sense]) : undefined;
    this.send({
      opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: false, overflow: false, underflow: false, response: 0,
      status, itt, snackTag: 0, expDataSN: 0, bidiResidualCount: 0, residualCount: 0, ...this.status(), ...fields,
    } as BhsInit, data);
  }

  /** Answers `command` as an honest LU would. */
  async serve(command: Pdu<ScsiCommand>): Promise<void> {
    const { bhs } = command;
    const result = answer(bhs.cdb, bhs.expectedDataTransferLength);
    if (result.kind === 'status') return this.scsiResponse(bhs.itt, result.status);
    if (result.kind === 'write') {
      let have = command.data.length;
      while (have < bhs.expectedDataTransferLength) {
        const ttt = this.nextTtt++;
        const length = Math.min(bhs.expectedDataTransferLength - have, this.login.parameters.maxBurstLength);
        this.send({ opcode: Opcode.R2T, lun: 0, itt: bhs.itt, ttt, r2tSN: 0, bufferOffset: have, desiredDataTransferLength: length, ...this.window() });
        for (let got = 0; got < length;) {
          const out = await this.next((p) => p.bhs.opcode === Opcode.DataOut && p.bhs.ttt === ttt);
          if (!out) return;
          got += out.data.length;
        }
        have += length;
      }
      return this.scsiResponse(bhs.itt, 0);
    }
    const segment = this.maxSegment;
    if (result.data.length === 0) return this.scsiResponse(bhs.itt, 0, undefined, { underflow: result.underflow, residualCount: result.residual });
    for (let at = 0, dataSN = 0; at < result.data.length; at += segment, dataSN++) {
      const last = at + segment >= result.data.length;
      this.dataIn(command, {
        dataSN, bufferOffset: at, hasStatus: last, final: last, underflow: last && result.underflow, residualCount: last ? result.residual : 0,
      }, result.data.subarray(at, at + segment));
    }
  }

  /** Answers every command honestly until the initiator logs out or goes; `ignoreLogout`: never answers a logout. */
  async serveForever(options: { ignoreLogout?: boolean } = {}): Promise<void> {
    this.ignoreLogout = options.ignoreLogout ?? false;
    for (let command = await this.nextCommand(600_000); command; command = await this.nextCommand(600_000)) await this.serve(command);
  }
  private ignoreLogout = false;

  /** Serves honestly until a command `match` accepts arrives, and returns it unanswered. */
  async serveUntil(match: (command: Pdu<ScsiCommand>) => boolean): Promise<Pdu<ScsiCommand>> {
    for (;;) {
      const command = await this.nextCommand();
      if (!command) throw new Error('hostile target: the initiator left before the awaited command');
      if (match(command)) return command;
      await this.serve(command);
    }
  }

  /** Waits until the initiator closes the connection, answering nothing (or, with `serve`, honestly). */
  async waitClosed(timeoutMs = 30_000): Promise<void> {
    while (await this.next(undefined, timeoutMs));
  }

  private account(pdu: InitiatorPdu): void {
    const bhs = pdu.bhs as { immediate?: boolean; cmdSN?: number };
    if (bhs.cmdSN !== undefined && !bhs.immediate && pdu.bhs.opcode !== Opcode.DataOut) {
      this.expCmdSN = (bhs.cmdSN + 1) >>> 0;
      this.maxCmdSN = (this.expCmdSN + 31) >>> 0;
    }
  }

  private async serveOther(pdu: InitiatorPdu): Promise<void> {
    const bhs = pdu.bhs;
    switch (bhs.opcode) {
      case Opcode.NopOut:
        if (bhs.itt !== RESERVED_TAG) this.send({ opcode: Opcode.NopIn, lun: 0, itt: bhs.itt, ttt: RESERVED_TAG, ...this.status() }, pdu.data);
        return;
      case Opcode.TaskManagementRequest:
        this.send({ opcode: Opcode.TaskManagementResponse, response: 0, itt: bhs.itt, ...this.status() });
        return;
      case Opcode.LogoutRequest:
        if (this.ignoreLogout) return;
        this.send({ opcode: Opcode.LogoutResponse, response: 0, itt: bhs.itt, time2Wait: 0, time2Retain: 0, ...this.status() });
        this.socket.end();
        return;
      case Opcode.TextRequest:
        this.send({ opcode: Opcode.TextResponse, final: true, cont: false, lun: 0, itt: bhs.itt, ttt: RESERVED_TAG, ...this.status() });
        return;
      default:
        return; // Data-Out nobody asked for, SNACK: dropped
    }
  }
}

function flipLast(buffer: Buffer): Buffer {
  const copy = Buffer.from(buffer);
  copy[copy.length - 1] ^= 0x01;
  return copy;
}
