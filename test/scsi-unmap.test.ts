// UNMAP as the initiator builds it (lib/scsi/unmap.ts): the CDB and parameter list read back field by field, the
// LU's limits taken from VPD 0xB0/0xB2, and a property of the split: the commands cover the range exactly, in
// order, each within the LU's limits and the per-command cap.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { ScsiArgumentError } from '../lib/scsi/errors';
import { NO_UNMAP, planUnmap, unmapCommand, unmapSupport } from '../lib/scsi/unmap';
import type { BlockLimits, LogicalBlockProvisioning } from '../lib/scsi/vpd';

const provisioning = (unmap: boolean): LogicalBlockProvisioning => ({
  unmapSupported: unmap, writeSame16Unmap: false, writeSame10Unmap: false, unmappedReadsZero: true, provisioningType: 'thin',
});
const limits = (lbaCount: number, descriptors: number) => ({ maximumUnmapLbaCount: lbaCount, maximumUnmapBlockDescriptorCount: descriptors } as BlockLimits);

describe('UNMAP: CDB, parameter list and the split by the LU\'s limits', () => {
  it('the CDB names the parameter list length; the list holds one descriptor per range', () => {
    const c = unmapCommand([{ lba: 2 ** 40, blocks: 8 }, { lba: 5, blocks: 0xffffffff }]);
    assert.equal(c.cdb.length, 10);
    assert.equal(c.cdb[0], 0x42);
    assert.equal(c.cdb.readUInt16BE(7), 8 + 32);
    assert.equal(c.direction, 'write');
    assert.equal(c.transferLength, c.parameterList.length);
    const list = c.parameterList;
    assert.equal(list.readUInt16BE(0), list.length - 2);
    assert.equal(list.readUInt16BE(2), 32);
    assert.equal(list.readBigUInt64BE(8), 2n ** 40n);
    assert.equal(list.readUInt32BE(16), 8);
    assert.equal(list.readBigUInt64BE(24), 5n);
    assert.equal(list.readUInt32BE(32), 0xffffffff);
  });

  it('refuses an empty list, a zero or oversized count and a negative LBA', () => {
    assert.throws(() => unmapCommand([]), ScsiArgumentError);
    assert.throws(() => unmapCommand([{ lba: 0, blocks: 0 }]), ScsiArgumentError);
    assert.throws(() => unmapCommand([{ lba: 0, blocks: 2 ** 32 }]), ScsiArgumentError);
    assert.throws(() => unmapCommand([{ lba: -1, blocks: 1 }]), ScsiArgumentError);
  });

  it('an LU without LBPU (or without page 0xB2) takes no UNMAP; unreported limits mean none and one descriptor', () => {
    assert.deepEqual(unmapSupport(undefined, limits(8, 8)), NO_UNMAP);
    assert.deepEqual(unmapSupport(provisioning(false), limits(8, 8)), NO_UNMAP);
    assert.deepEqual(unmapSupport(provisioning(true), undefined), { supported: true, unmappedReadsZero: true, maxBlocks: 0xffffffff, maxDescriptors: 1 });
    assert.deepEqual(unmapSupport(provisioning(true), limits(0, 0)), { supported: true, unmappedReadsZero: true, maxBlocks: 0xffffffff, maxDescriptors: 1 });
    assert.deepEqual(unmapSupport(provisioning(true), limits(64, 4)), { supported: true, unmappedReadsZero: true, maxBlocks: 64, maxDescriptors: 4 });
  });

  it('property: the split covers [lba, lba+blocks) exactly, in order, within every limit', () => {
    fc.assert(fc.property(
      fc.nat(2 ** 40), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 20_000 }),
      (lba, blocks, maxBlocks, maxDescriptors, cap) => {
        const support = { supported: true, unmappedReadsZero: true, maxBlocks, maxDescriptors };
        const commands = planUnmap(lba, blocks, support, cap);
        let at = lba;
        for (const ranges of commands) {
          assert.ok(ranges.length >= 1 && ranges.length <= maxDescriptors);
          assert.ok(ranges.reduce((n, r) => n + r.blocks, 0) <= Math.max(1, cap));
          for (const r of ranges) {
            assert.equal(r.lba, at);
            assert.ok(r.blocks >= 1 && r.blocks <= maxBlocks);
            at += r.blocks;
          }
          unmapCommand(ranges); // every planned command can be built
        }
        assert.equal(at, lba + blocks);
      },
    ), { numRuns: 500 });
  });
});
