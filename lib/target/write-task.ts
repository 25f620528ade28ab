// Data-Out bookkeeping of one write command (RFC 7143 §4.2.4.2, §11.7-§11.8): immediate data, the unsolicited
// burst, and the R2T-solicited sequences with their TTT, R2TSN and DataSN checks. Sans-I/O: the connection asks
// it which R2Ts to send and feeds it each Data-Out header; the payload itself lands in `buffer` (placed by the
// deframer straight into LU memory, or copied by the connection).
//
// Coverage: the target negotiates DataPDUInOrder=Yes and DataSequenceInOrder=Yes (the OR result is Yes whatever
// the initiator says), so each sequence must arrive as one gapless run from its start. Every byte counted has
// then been received exactly once; an overlap or a gap is a DATA PHASE ERROR of that command, and the command
// executes only when every byte of its range arrived.

export interface R2TRequest { ttt: number; r2tSN: number; bufferOffset: number; length: number }

interface Solicited { offset: number; length: number; received: number; nextDataSN: number }

const DATA_PHASE = true;

/** A Data-Out that breaks the rules; the connection answers it with a Reject and drops the connection (ERL 0). */
export class DataOutError extends Error {
  override name = 'DataOutError';
  /**
   * `taskOnly`: a DataSN out of sequence, an overlap or a gap spoils this command alone (it fails with CHECK
   * CONDITION, DATA PHASE ERROR, and the connection lives on); anything else means the initiator lost track of
   * the connection's state.
   */
  constructor(message: string, readonly rejectReason: number, readonly taskOnly = false) { super(message); }
}

export const REJECT_PROTOCOL_ERROR = 0x04;
export const REJECT_INVALID_PDU_FIELD = 0x09;

export interface WriteLimits { maxBurstLength: number; maxOutstandingR2T: number; firstBurstLength: number }

export class WriteTask {
  /** Distinct payload bytes received so far (immediate + unsolicited + solicited), each counted once. */
  received = 0;
  private unsolicitedOpen: boolean;
  private unsolicitedNextDataSN = 0;
  private unsolicitedEnd: number;
  private nextOffset: number;
  private r2tSN = 0;
  private readonly solicited = new Map<number, Solicited>();

  /**
   * `immediate` bytes came with the command; `unsolicitedFollows` when its F bit was clear (InitialR2T=No lets
   * the initiator send up to FirstBurstLength before any R2T).
   */
  constructor(readonly length: number, immediate: number, unsolicitedFollows: boolean, private readonly limits: WriteLimits) {
    this.received = immediate;
    this.unsolicitedOpen = unsolicitedFollows && immediate < length;
    this.unsolicitedEnd = unsolicitedFollows ? Math.min(limits.firstBurstLength, length) : immediate;
    this.nextOffset = this.unsolicitedEnd;
  }

  get complete(): boolean { return this.received === this.length && this.solicited.size === 0 && !this.unsolicitedOpen; }

  /** R2Ts to send now, respecting MaxOutstandingR2T and MaxBurstLength. */
  nextR2Ts(allocateTtt: () => number): R2TRequest[] {
    const out: R2TRequest[] = [];
    if (this.unsolicitedOpen) return out;
    while (this.nextOffset < this.length && this.solicited.size < this.limits.maxOutstandingR2T) {
      const length = Math.min(this.limits.maxBurstLength, this.length - this.nextOffset);
      const ttt = allocateTtt();
      this.solicited.set(ttt, { offset: this.nextOffset, length, received: 0, nextDataSN: 0 });
      out.push({ ttt, r2tSN: this.r2tSN++, bufferOffset: this.nextOffset, length });
      this.nextOffset += length;
    }
    return out;
  }

  /** Checks one Data-Out header against the task's sequences and counts its payload. */
  dataOut(ttt: number, dataSN: number, bufferOffset: number, length: number, final: boolean): void {
    if (bufferOffset + length > this.length) {
      throw new DataOutError(`Data-Out [${bufferOffset}, +${length}) goes beyond the expected transfer length ${this.length}`, REJECT_PROTOCOL_ERROR);
    }
    if (ttt === 0xffffffff) {
      if (!this.unsolicitedOpen) throw new DataOutError('unsolicited Data-Out where none was allowed', REJECT_PROTOCOL_ERROR);
      if (dataSN !== this.unsolicitedNextDataSN) throw new DataOutError(`Data-Out DataSN ${dataSN}, expected ${this.unsolicitedNextDataSN}`, REJECT_PROTOCOL_ERROR, true);
      if (bufferOffset + length > this.unsolicitedEnd) throw new DataOutError(`unsolicited data beyond FirstBurstLength (${this.unsolicitedEnd})`, REJECT_PROTOCOL_ERROR);
      if (bufferOffset !== this.received) {
        throw new DataOutError(`unsolicited Data-Out at ${bufferOffset} where ${this.received} was next (overlap or gap)`, REJECT_PROTOCOL_ERROR, DATA_PHASE);
      }
      this.unsolicitedNextDataSN++;
      this.received += length;
      if (final) {
        this.unsolicitedOpen = false;
        // Whatever of the first burst the initiator did not send is asked for by R2T.
        this.nextOffset = Math.min(this.nextOffset, bufferOffset + length);
      }
      return;
    }
    const seq = this.solicited.get(ttt);
    if (!seq) throw new DataOutError(`Data-Out with unknown Target Transfer Tag 0x${ttt.toString(16)}`, REJECT_INVALID_PDU_FIELD);
    if (dataSN !== seq.nextDataSN) throw new DataOutError(`Data-Out DataSN ${dataSN}, expected ${seq.nextDataSN}`, REJECT_PROTOCOL_ERROR, true);
    if (bufferOffset < seq.offset || bufferOffset + length > seq.offset + seq.length) {
      throw new DataOutError(`Data-Out [${bufferOffset}, +${length}) outside its R2T [${seq.offset}, +${seq.length})`, REJECT_PROTOCOL_ERROR);
    }
    if (bufferOffset !== seq.offset + seq.received) {
      throw new DataOutError(`Data-Out at ${bufferOffset} where ${seq.offset + seq.received} was next in its R2T (overlap or gap)`, REJECT_PROTOCOL_ERROR, DATA_PHASE);
    }
    seq.nextDataSN++;
    seq.received += length;
    this.received += length;
    if (final || seq.received === seq.length) {
      if (seq.received !== seq.length) throw new DataOutError(`R2T sequence ended with ${seq.received} of ${seq.length} bytes`, REJECT_PROTOCOL_ERROR);
      this.solicited.delete(ttt);
    }
  }
}
