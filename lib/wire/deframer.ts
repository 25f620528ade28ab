// Typed face of the native deframer (native/pdu_deframer.h). One instance per connection; it turns socket reads into
// decoded PDUs and places Data-In (initiator) / Data-Out (target) payload straight into registered task buffers.
import { native } from '../native';
import { type Bhs, decodeBhs } from './bhs';
import { BHS_LENGTH } from './opcodes';
import { ProtocolError } from './errors';

export type DeframerRole = 'initiator' | 'target';

/** A PDU as received. `data` is a view valid only during the callback that delivers it, unless `placed`. */
export interface ReceivedPdu {
  bhs: Bhs;
  ahs: Buffer | null;
  /** The data segment (without padding); for placed payload, the slice of the task buffer it was written to. */
  data: Buffer | null;
  /** The payload was written into the registered task buffer at its Buffer Offset. */
  placed: boolean;
}

export interface DeframerStats {
  pdus: number;
  bytes: number;
  /** Task payload read from the socket straight into task buffers. */
  payloadDirect: number;
  /** Task payload that was staged and then copied into task buffers. */
  payloadCopied: number;
  /** Other data segments that spanned reads and were gathered (control PDUs, unregistered data). */
  segmentBytesGathered: number;
}

const enum Placement { None = 0, Input = 1, Segment = 2, Task = 3 }

/**
 * Sees each PDU before it is decoded, straight from the received header (`headers` at `offset`); returns true when
 * it consumed the PDU, which then gets no ReceivedPdu. `placed`: the payload is already in the task buffer. The
 * header bytes are valid only during the call.
 */
export type FastPath = (opcode: number, itt: number, headers: Buffer, offset: number, placed: boolean, dataLength: number) => boolean;
const EVENT_WORDS = 8;

/** Where a connection's staging starts: room for a login or an idle session's NOP-Ins, and two reads of a batch. */
const INITIAL_STAGING = 32 * 1024;
const DEFAULT_MAX_STAGING = 256 * 1024;
/** How much larger staging becomes each time the socket pump found it too small for a batch. */
const GROWTH = 4;

export class Deframer {
  private stagingBuffer!: Buffer;
  private events!: Uint32Array;
  private headers!: Buffer;
  /** [intoTask, itt, offset, length] from planRead(); word 4: the pump found staging too small (native sets, we clear). */
  private readonly plan = new Uint32Array(5);
  /** The native object; the socket pump (lib/wire/native-socket.ts) reads into it. */
  readonly binding: {
    setDigests(h: boolean, d: boolean): void;
    setMaxDataSegmentLength(n: number): void;
    registerTask(itt: number, buf: Uint8Array): void;
    unregisterTask(itt: number): boolean;
    planRead(capacity?: number): void;
    setBuffers(staging: Buffer, events: Uint32Array, headers: Buffer): void;
    commitStaging(n: number): number;
    commitTask(n: number): number;
    feed(buf: Uint8Array): number;
    takeSegment(index: number): Buffer;
    error(): { code: string; message: string; bhs?: Buffer } | null;
    stats(): DeframerStats;
  };
  private readonly tasks = new Map<number, Buffer>();
  private failure: ProtocolError | null = null;
  /** Set by the layer above for its hot PDUs (the session's Data-In and SCSI Responses). */
  fastPath: FastPath | undefined;
  private plannedTaskRead = false;

  /**
   * `maxStagingSize` bounds the staging buffer (and so the bytes one read takes). It starts at 32 KiB and grows
   * fourfold up to that bound each time the socket pump finds it too small for what arrives: an idle connection
   * costs tens of kilobytes, not the 700 kB of buffers a busy one uses.
   */
  constructor(role: DeframerRole, readonly onPdu: (pdu: ReceivedPdu) => void, private readonly maxStagingSize = DEFAULT_MAX_STAGING) {
    this.allocate(Math.min(INITIAL_STAGING, maxStagingSize));
    this.binding = new native.Deframer(role, this.stagingBuffer, this.events, this.headers, this.plan);
  }

  /** The staging buffer reads land in when they do not go to a task buffer. */
  get staging(): Buffer { return this.stagingBuffer; }

  private allocate(stagingSize: number): void {
    this.stagingBuffer = Buffer.allocUnsafeSlow(stagingSize);
    // A batch holds at most what one read of the staging buffer completes: every PDU has a 48-byte header that came
    // from that read, plus the one PDU whose header arrived earlier.
    const maxEvents = Math.ceil(stagingSize / BHS_LENGTH) + 2;
    this.events = new Uint32Array(maxEvents * EVENT_WORDS);
    this.headers = Buffer.allocUnsafeSlow(stagingSize + 2 * 1100);
  }

  /** Between batches: larger buffers when the pump said staging was too small, up to the bound. */
  private growIfFull(): void {
    if (this.plan[4] === 0) return;
    this.plan[4] = 0;
    if (this.stagingBuffer.length >= this.maxStagingSize) return;
    this.allocate(Math.min(this.stagingBuffer.length * GROWTH, this.maxStagingSize));
    this.binding.setBuffers(this.stagingBuffer, this.events, this.headers);
  }

  setDigests(header: boolean, data: boolean): void { this.binding.setDigests(header, data); }
  /** The MaxRecvDataSegmentLength we declared: a longer data segment from the peer is a protocol error. */
  setMaxDataSegmentLength(bytes: number): void { this.binding.setMaxDataSegmentLength(bytes); }

  registerTask(itt: number, buffer: Buffer): void {
    this.tasks.set(itt, buffer); // also what keeps the memory alive while native code may write into it
    this.binding.registerTask(itt, buffer);
  }
  unregisterTask(itt: number): void {
    if (this.tasks.delete(itt)) this.binding.unregisterTask(itt);
  }

  /**
   * Where the next read must land: a task buffer slice or (part of) the staging buffer. The socket pump plans its
   * reads natively; this and commitRead() do the same from JS, for tests and benchmarks of the planning.
   */
  nextReadBuffer(): Buffer {
    this.binding.planRead();
    const [intoTask, itt, offset, length] = this.plan;
    this.plannedTaskRead = intoTask === 1;
    if (this.plannedTaskRead) return this.tasks.get(itt)!.subarray(offset, offset + length);
    return this.staging.subarray(0, length);
  }

  /** `n` bytes were read into the buffer the last nextReadBuffer() returned. */
  commitRead(n: number): void {
    this.deliver(this.plannedTaskRead ? this.binding.commitTask(n) : this.binding.commitStaging(n), this.staging);
  }

  /** The socket pump read into this deframer and it completed PDUs: `result` as the native commit returned it. */
  delivered(result: number): void {
    this.deliver(result, this.stagingBuffer);
    this.growIfFull();
  }

  /** Parses bytes already in memory (tests, benchmarks); data views point into `chunk`. */
  feed(chunk: Buffer): void {
    const step = this.staging.length;
    for (let at = 0; at < chunk.length && !this.failure; at += step) {
      const part = chunk.subarray(at, at + step);
      this.deliver(this.binding.feed(part), part);
    }
  }

  get error(): ProtocolError | null { return this.failure; }
  stats(): DeframerStats { return this.binding.stats(); }

  private deliver(result: number, input: Buffer): void {
    const count = result >= 0 ? result : -1 - result;
    const events = this.events;
    for (let i = 0; i < count; i++) {
      const e = i * EVENT_WORDS;
      const headerOffset = events[e + 2];
      const headerLength = events[e + 3];
      const placement = events[e + 4];
      const dataOffset = events[e + 5];
      const dataLength = events[e + 6];
      const itt = events[e + 1];
      // The PDU with a command's status unregistered its task natively (PduEvent.task_ended): forget it here too, so
      // that unregisterTask() needs no native call. The buffer stays at hand for this PDU's payload view.
      let taskBuffer: Buffer | undefined;
      if (events[e + 7] === 1) {
        taskBuffer = this.tasks.get(itt);
        this.tasks.delete(itt);
      }
      if (this.fastPath !== undefined && this.fastPath(events[e], itt, this.headers, headerOffset, placement === Placement.Task, dataLength)) continue;
      const bhs = decodeBhs(this.headers, headerOffset);
      const ahs = headerLength > BHS_LENGTH ? Buffer.from(this.headers.subarray(headerOffset + BHS_LENGTH, headerOffset + headerLength)) : null;
      let data: Buffer | null = null;
      if (placement === Placement.Input) data = input.subarray(dataOffset, dataOffset + dataLength);
      else if (placement === Placement.Segment) data = this.binding.takeSegment(dataOffset);
      else if (placement === Placement.Task) data = (taskBuffer ?? this.tasks.get(itt))?.subarray(dataOffset, dataOffset + dataLength) ?? null;
      this.onPdu({ bhs, ahs, data, placed: placement === Placement.Task });
    }
    if (result < 0 && !this.failure) {
      const error = this.binding.error()!;
      this.failure = new ProtocolError(error.message, error.code);
      this.failure.bhs = error.bhs;
    }
  }
}
