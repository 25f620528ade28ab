// What every block of the verified workload's span should hold. It changes only when a write is acknowledged; a
// write that failed is indeterminate (it may have landed, in whole or per block), so each of its blocks may hold
// the old generation or that write's, until a read shows which (and from then on only that one is right).
import { readStamp } from './block-stamp';

export interface Mismatch {
  lba: number;
  /** Generations the block may hold (0 = never written). */
  expected: number[];
  /** The generation acknowledged before the expected one: finding it means the last write was lost or overtaken. */
  previous: number;
  found: string;
  /** 'read' during the run, 'final' in the check of every block afterwards. */
  when: 'read' | 'final';
  /** When it was seen, ms on the caller's clock. */
  atMs: number;
}

export class BlockModel {
  /** Acknowledged generation per block, 0 = never written. */
  private readonly committed: Uint32Array;
  /** The generation each block held before its last acknowledged write. */
  private readonly previous: Uint32Array;
  /** Blocks with failed writes: the generations those writes carried. */
  private readonly indeterminate = new Map<number, number[]>();
  readonly mismatches: Mismatch[] = [];
  private readonly badBlocks = new Set<number>();

  constructor(readonly blocks: number, readonly blockSize: number, readonly runId: number) {
    this.committed = new Uint32Array(blocks);
    this.previous = new Uint32Array(blocks);
  }

  /** Distinct blocks that ever held something they should not. */
  get mismatchedBlocks(): number { return this.badBlocks.size; }

  /** Blocks whose content is still open after failed writes. */
  get indeterminateBlocks(): number { return this.indeterminate.size; }

  acknowledged(lba: number, blocks: number, generation: number): void {
    for (let b = lba; b < lba + blocks; b++) {
      this.previous[b] = this.committed[b];
      this.committed[b] = generation;
      this.indeterminate.delete(b);
    }
  }

  failed(lba: number, blocks: number, generation: number): void {
    for (let b = lba; b < lba + blocks; b++) {
      const list = this.indeterminate.get(b);
      if (list) list.push(generation); else this.indeterminate.set(b, [generation]);
    }
  }

  /** Checks `blocks` blocks read from `lba` (in `data`); returns how many were wrong. */
  verify(lba: number, blocks: number, data: Buffer, when: Mismatch['when'], atMs = 0): number {
    let wrong = 0;
    for (let i = 0; i < blocks; i++) {
      const b = lba + i;
      const reading = readStamp(data.subarray(i * this.blockSize, (i + 1) * this.blockSize), b, this.runId);
      const generation = reading.kind === 'zero' ? 0 : reading.kind === 'stamped' ? reading.generation : undefined;
      const open = this.indeterminate.get(b);
      if (generation === this.committed[b] && !open) continue;
      if (generation !== undefined && (generation === this.committed[b] || open?.includes(generation))) {
        // The read settled what the failed writes left: that generation, and nothing else, from now on.
        this.committed[b] = generation;
        this.indeterminate.delete(b);
        continue;
      }
      wrong++;
      this.badBlocks.add(b);
      if (this.mismatches.length < 100) {
        this.mismatches.push({
          lba: b, expected: [this.committed[b], ...(open ?? [])], previous: this.previous[b], when, atMs,
          found: reading.kind === 'corrupt' ? reading.reason : `generation ${generation}`,
        });
      }
    }
    return wrong;
  }
}
