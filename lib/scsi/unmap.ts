// UNMAP (SBC-3 §5.28): the CDB with its parameter list, what the LU says of it (VPD 0xB0 limits, 0xB2 LBPU), and
// the split of one range into commands that fit those limits. Pure: the session layer sends what this builds.
import { ScsiArgumentError } from './errors';
import { ScsiOp } from './opcodes';
import type { ScsiCdb } from './commands';
import type { BlockLimits, LogicalBlockProvisioning } from './vpd';

export interface UnmapRange { lba: number; blocks: number }

/** An UNMAP command: the CDB and the parameter list to send as its Data-Out. */
export interface UnmapCommand extends ScsiCdb { parameterList: Buffer }

const HEADER_BYTES = 8;
const DESCRIPTOR_BYTES = 16;
/** The parameter list length is 16 bits. */
const MAX_DESCRIPTORS = Math.floor((0xffff - HEADER_BYTES) / DESCRIPTOR_BYTES);

export function unmapCommand(ranges: readonly UnmapRange[]): UnmapCommand {
  if (ranges.length === 0 || ranges.length > MAX_DESCRIPTORS) {
    throw new ScsiArgumentError(`UNMAP takes 1..${MAX_DESCRIPTORS} block descriptors, got ${ranges.length}`);
  }
  const list = Buffer.alloc(HEADER_BYTES + DESCRIPTOR_BYTES * ranges.length);
  list.writeUInt16BE(list.length - 2, 0);                     // UNMAP DATA LENGTH: the bytes after this field
  list.writeUInt16BE(DESCRIPTOR_BYTES * ranges.length, 2);    // UNMAP BLOCK DESCRIPTOR DATA LENGTH
  ranges.forEach((r, i) => {
    if (!Number.isSafeInteger(r.lba) || r.lba < 0) throw new ScsiArgumentError(`UNMAP LBA must be a non-negative integer, got ${r.lba}`);
    if (!Number.isInteger(r.blocks) || r.blocks <= 0 || r.blocks > 0xffffffff) {
      throw new ScsiArgumentError(`UNMAP block count must be in 1..2^32-1, got ${r.blocks}`);
    }
    list.writeBigUInt64BE(BigInt(r.lba), HEADER_BYTES + DESCRIPTOR_BYTES * i);
    list.writeUInt32BE(r.blocks, HEADER_BYTES + DESCRIPTOR_BYTES * i + 8);
  });
  const cdb = Buffer.alloc(10);
  cdb[0] = ScsiOp.UNMAP;
  cdb.writeUInt16BE(list.length, 7);
  return { cdb, direction: 'write', transferLength: list.length, parameterList: list };
}

/** What an LU says of UNMAP. */
export interface UnmapSupport {
  /** LBPU in VPD 0xB2: the LU takes UNMAP. False when it has no such page. */
  supported: boolean;
  /** LBPRZ: unmapped blocks read back as zeros. */
  unmappedReadsZero: boolean;
  /** Blocks per command (MAXIMUM UNMAP LBA COUNT; 0 in VPD 0xB0 = not reported, taken as no limit). */
  maxBlocks: number;
  /** Block descriptors per command (MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT; 0 = not reported, taken as 1). */
  maxDescriptors: number;
}

export const NO_UNMAP: UnmapSupport = { supported: false, unmappedReadsZero: false, maxBlocks: 0, maxDescriptors: 0 };

export function unmapSupport(provisioning: LogicalBlockProvisioning | undefined, limits: BlockLimits | undefined): UnmapSupport {
  if (!provisioning?.unmapSupported) return NO_UNMAP;
  return {
    supported: true,
    unmappedReadsZero: provisioning.unmappedReadsZero,
    maxBlocks: limits?.maximumUnmapLbaCount || 0xffffffff,
    maxDescriptors: Math.min(limits?.maximumUnmapBlockDescriptorCount || 1, MAX_DESCRIPTORS),
  };
}

/**
 * The UNMAP commands for `blocks` blocks at `lba`, each within the LU's limits and within `capBlocks` (a bound on
 * the work one command asks of the target, so none of them runs into the command timeout).
 */
export function planUnmap(lba: number, blocks: number, support: UnmapSupport, capBlocks: number): UnmapRange[][] {
  const perCommand = Math.max(1, Math.min(support.maxBlocks * support.maxDescriptors, capBlocks));
  const perDescriptor = Math.max(1, Math.min(support.maxBlocks, perCommand));
  const commands: UnmapRange[][] = [];
  for (let at = lba, end = lba + blocks; at < end;) {
    const ranges: UnmapRange[] = [];
    for (let left = Math.min(perCommand, end - at); left > 0;) {
      const n = Math.min(perDescriptor, left);
      ranges.push({ lba: at, blocks: n });
      at += n;
      left -= n;
    }
    commands.push(ranges);
  }
  return commands;
}
