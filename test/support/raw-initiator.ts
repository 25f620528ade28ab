// A deliberately bare iSCSI initiator for attacking the embedded target: raw PDUs built with the project's codecs
// (lib/wire/bhs.ts) over a real TCP socket, no digests, nothing checked on our side unless a test asks.
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { type Bhs, type BhsInit, decodeBhs, encodeBhs } from '../../lib/wire/bhs';
import { Opcode, RESERVED_TAG } from '../../lib/wire/opcodes';
import { encodeText } from '../../lib/protocol/text';

export interface RawPdu { bhs: Bhs; data: Buffer }

export class RawPeer {
  readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d) => { this.chunks.push(d); this.buffered += d.length; this.wake(); });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => {});
  }

  static connect(address: string, port: number, localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: address, port, localAddress }, () => { s.off('error', reject); resolve(new RawPeer(s)); });
      s.once('error', reject);
    });
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  /** Encodes and writes one PDU (BHS + data + padding). */
  send(bhs: BhsInit, data: Buffer = Buffer.alloc(0)): void {
    this.socket.write(RawPeer.frame(bhs, data));
  }

  static frame(bhs: BhsInit, data: Buffer = Buffer.alloc(0)): Buffer {
    const header = Buffer.alloc(48);
    encodeBhs({ ...bhs, dataLength: data.length } as BhsInit, header);
    const pad = Buffer.alloc((4 - (data.length % 4)) % 4);
    return Buffer.concat([header, data, pad]);
  }

  private take(): RawPdu | undefined {
    if (this.buffered < 48) return undefined;
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    const b = this.chunks[0];
    const length = (b[5] << 16) | (b[6] << 8) | b[7];
    const total = 48 + b[4] * 4 + length + ((4 - (length % 4)) % 4);
    if (b.length < total) return undefined;
    const pdu = { bhs: decodeBhs(b), data: Buffer.from(b.subarray(48, 48 + length)) };
    this.chunks = b.length > total ? [b.subarray(total)] : [];
    this.buffered -= total;
    return pdu;
  }

  /** The next PDU, or undefined once the target closed the connection; throws after `timeoutMs` of silence. */
  async next(timeoutMs = 5000): Promise<RawPdu | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pdu = this.take();
      if (pdu) return pdu;
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error('timed out waiting for a PDU');
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }

  /** Whatever arrives within `ms` (to prove silence: an empty list). */
  async within(ms: number): Promise<RawPdu[]> {
    const seen: RawPdu[] = [];
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const pdu = this.take();
      if (pdu) { seen.push(pdu); continue; }
      if (this.closed) break;
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, Math.max(1, Math.min(50, deadline - Date.now()))); });
    }
    return seen;
  }

  /** The next PDU matching `match`, skipping others. */
  async until(match: (p: RawPdu) => boolean, timeoutMs = 5000): Promise<RawPdu> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pdu = await this.next(Math.max(1, deadline - Date.now()));
      if (!pdu) throw new Error('the target closed the connection');
      if (match(pdu)) return pdu;
    }
  }

  /** Resolves once the target closed the connection, with whatever came before. */
  async closedByTarget(timeoutMs = 5000): Promise<RawPdu[]> {
    const seen = [];
    for (let pdu = await this.next(timeoutMs); pdu; pdu = await this.next(timeoutMs)) seen.push(pdu);
    return seen;
  }

  destroy(): void { this.socket.destroy(); }
}

export interface RawSessionOptions {
  initiatorName?: string;
  isid?: Buffer;
  /** Source address on loopback. */
  localAddress?: string;
}

/** A raw Normal session in Full Feature Phase: InitialR2T=No, ImmediateData=Yes, no digests. CmdSN starts at 1. */
export class RawSession {
  cmdSN = 1;
  itt = 1;
  constructor(readonly peer: RawPeer) {}

  static async open(address: string, port: number, targetName: string, options: RawSessionOptions = {}): Promise<RawSession> {
    const peer = await RawPeer.connect(address, port, options.localAddress);
    peer.send({
      opcode: Opcode.LoginRequest, transit: true, cont: false, csg: 1, nsg: 3, versionMax: 0, versionMin: 0,
      isid: options.isid ?? Buffer.from('80aabbcc0001', 'hex'), tsih: 0, itt: 0, cid: 0, cmdSN: 1, expStatSN: 0,
    }, encodeText([
      ['InitiatorName', options.initiatorName ?? 'iqn.2025-01.test:raw'], ['SessionType', 'Normal'], ['TargetName', targetName],
      ['HeaderDigest', 'None'], ['DataDigest', 'None'], ['InitialR2T', 'No'], ['ImmediateData', 'Yes'],
      ['MaxBurstLength', '1048576'], ['FirstBurstLength', '262144'], ['MaxRecvDataSegmentLength', '262144'],
      ['ErrorRecoveryLevel', '0'], ['MaxOutstandingR2T', '1'],
    ]));
    const reply = await peer.next();
    assert.ok(reply && reply.bhs.opcode === Opcode.LoginResponse && reply.bhs.statusClass === 0 && reply.bhs.transit,
      `login reached Full Feature Phase (got ${reply ? JSON.stringify({ op: reply.bhs.opcode, ...('statusClass' in reply.bhs ? { c: reply.bhs.statusClass } : {}) }) : 'close'})`);
    return new RawSession(peer);
  }

  /** A SCSI command PDU; returns its ITT. `immediate` sends it with the I bit (CmdSN not advanced). */
  command(o: { cdb: Buffer; lun?: number; edtl: number; read?: boolean; write?: boolean; final?: boolean; immediate?: boolean; data?: Buffer; cmdSN?: number }): number {
    const itt = this.itt++;
    const cmdSN = o.cmdSN ?? this.cmdSN;
    if (o.cmdSN === undefined && !o.immediate) this.cmdSN++;
    const cdb = Buffer.alloc(16);
    o.cdb.copy(cdb);
    this.peer.send({
      opcode: Opcode.ScsiCommand, immediate: o.immediate ?? false, final: o.final ?? true, read: o.read ?? false, write: o.write ?? false,
      attr: 1, lun: o.lun ?? 1, itt, expectedDataTransferLength: o.edtl, cmdSN, expStatSN: 0, cdb,
    }, o.data);
    return itt;
  }

  dataOut(o: { itt: number; ttt?: number; dataSN: number; offset: number; data: Buffer; final: boolean; lun?: number }): void {
    this.peer.send({
      opcode: Opcode.DataOut, final: o.final, lun: o.lun ?? 1, itt: o.itt, ttt: o.ttt ?? RESERVED_TAG, expStatSN: 0,
      dataSN: o.dataSN, bufferOffset: o.offset,
    }, o.data);
  }

  /** A NOP-Out ping (immediate): true when the echo comes back within `timeoutMs`. */
  async ping(timeoutMs = 5000): Promise<boolean> {
    const itt = this.itt++;
    this.peer.send({ opcode: Opcode.NopOut, immediate: true, lun: 0, itt, ttt: RESERVED_TAG, cmdSN: this.cmdSN, expStatSN: 0 }, Buffer.from('ping'));
    try {
      const reply = await this.peer.until((p) => p.bhs.opcode === Opcode.NopIn && p.bhs.itt === itt, timeoutMs);
      return reply.data.toString() === 'ping';
    } catch {
      return false;
    }
  }

  taskManagement(func: number, lun: number, referencedTaskTag = RESERVED_TAG): number {
    const itt = this.itt++;
    this.peer.send({
      opcode: Opcode.TaskManagementRequest, immediate: true, func, lun, itt, referencedTaskTag, cmdSN: this.cmdSN, expStatSN: 0,
      refCmdSN: 0, expDataSN: 0,
    });
    return itt;
  }

  /** The response (SCSI Response, or Data-In with status) for `itt`. */
  response(itt: number, timeoutMs = 5000): Promise<RawPdu> {
    return this.peer.until((p) => p.bhs.itt === itt && (p.bhs.opcode === Opcode.ScsiResponse || p.bhs.opcode === Opcode.TaskManagementResponse
      || (p.bhs.opcode === Opcode.DataIn && p.bhs.hasStatus)), timeoutMs);
  }

  close(): void { this.peer.destroy(); }
}

/** WRITE(10) / READ(10) CDBs. */
export function write10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10);
  cdb[0] = 0x2a;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

export function read10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10);
  cdb[0] = 0x28;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

/** The SCSI status of a response PDU and, for CHECK CONDITION, its sense key and ASC. */
export function statusOf(p: RawPdu): { status: number; key?: number; asc?: number } {
  const bhs = p.bhs as { status: number };
  if (bhs.status !== 0x02 || p.data.length < 2 + 13) return { status: bhs.status };
  const sense = p.data.subarray(2);
  return { status: bhs.status, key: sense[2] & 0x0f, asc: sense[12] };
}
