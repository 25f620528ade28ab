// LogicalUnit.reset(): the reset unit attention reaches every I_T nexus once, including one that first sends a
// command after the reset, and it comes before any data is placed for a write.
import { strict as assert } from 'node:assert';
import { parseSense, ScsiStatus } from '../lib/scsi';
import { LogicalUnit, type ScsiResult } from '../lib/target/lu';

const TUR = Buffer.alloc(6);
const tur = (lu: LogicalUnit, nexus: string) => lu.execute({ cdb: TUR, nexus }) as ScsiResult;
const uaOf = (r: ScsiResult) => {
  assert.equal(r.status, ScsiStatus.CHECK_CONDITION);
  const s = parseSense(r.sense!);
  return [s.senseKey, s.asc, s.ascq];
};

describe('target LU reset', () => {
  it('LOGICAL UNIT RESET: 29/03 once for a nexus seen before and once for one that arrives after', () => {
    const lu = LogicalUnit.memory(1 << 20);
    assert.equal(tur(lu, 'old').status, ScsiStatus.GOOD);
    lu.reset('logical-unit');
    assert.deepEqual(uaOf(tur(lu, 'old')), [0x06, 0x29, 0x03]);
    assert.equal(tur(lu, 'old').status, ScsiStatus.GOOD);
    assert.deepEqual(uaOf(tur(lu, 'new')), [0x06, 0x29, 0x03], 'a nexus that never sent a command still sees it');
    assert.equal(tur(lu, 'new').status, ScsiStatus.GOOD);
    // Gone and back (a new login of the same nexus): it has seen this reset already.
    lu.forgetNexus('new');
    assert.equal(tur(lu, 'new').status, ScsiStatus.GOOD);
  });

  it('a target reset reports 29/02, a cold one 29/01, and replaces what was queued before', () => {
    const lu = LogicalUnit.memory(1 << 20);
    assert.equal(tur(lu, 'a').status, ScsiStatus.GOOD);
    lu.queueUnitAttentionForAll(0x2a, 0x06);
    lu.reset('target');
    assert.deepEqual(uaOf(tur(lu, 'a')), [0x06, 0x29, 0x02]);
    assert.equal(tur(lu, 'a').status, ScsiStatus.GOOD, 'the reset cleared the older 2A/06');
    lu.reset('power-on');
    assert.deepEqual(uaOf(tur(lu, 'b')), [0x06, 0x29, 0x01]);
  });

  it('a write from a nexus new since the reset gets no in-place Data-Out and reports the reset, data untouched', async () => {
    const lu = LogicalUnit.memory(1 << 20);
    lu.reset('logical-unit');
    const write = Buffer.from([0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0]);
    assert.equal(lu.dataOutPlacement({ cdb: write, nexus: 'late' }), undefined);
    const r = await lu.execute({ cdb: write, nexus: 'late', dataOut: [Buffer.alloc(512, 0xff)], expectedLength: 512 });
    assert.deepEqual(uaOf(r), [0x06, 0x29, 0x03]);
    assert.ok((await lu.readAt(512, 512)).every((b) => b === 0));
    assert.deepEqual(lu.dataOutPlacement({ cdb: write, nexus: 'late' }), { byteOffset: 512, length: 512 });
  });
});
