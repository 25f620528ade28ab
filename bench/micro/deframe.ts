// Deframing rates for a stream of 64 KiB Data-In PDUs, one op = the whole 4 MiB stream:
// - views: unregistered payload handed out as views of the input (parse + per-PDU JS delivery only);
// - placed: payload copied into the registered task buffer, as a read from the socket into it would;
// - socket-style: reads planned by the deframer (headers to staging, payload straight to the task buffer);
// each with and without header and data digests.
import type { BhsInit, DataIn } from '../../lib/wire/bhs';
import { Deframer } from '../../lib/wire/deframer';
import { framePdu } from '../../lib/wire/framer';
import { Opcode } from '../../lib/wire/opcodes';
import { MicroSuite, sink } from './suite';

const SEGMENT = 64 * 1024;
const COUNT = 64;
const TOTAL = SEGMENT * COUNT;

function stream(digests: boolean): Buffer {
  const payload = Buffer.alloc(TOTAL, 0x5a);
  const wire: Buffer[] = [];
  for (let i = 0; i < COUNT; i++) {
    const bhs: BhsInit<DataIn> = {
      opcode: Opcode.DataIn, final: i === COUNT - 1, acknowledge: false, overflow: false, underflow: false,
      hasStatus: i === COUNT - 1, status: 0, lun: 0, itt: 1, ttt: 0xffffffff, statSN: 1, expCmdSN: 1, maxCmdSN: 64,
      dataSN: i, bufferOffset: i * SEGMENT, residualCount: 0,
    };
    wire.push(...framePdu(bhs, [payload.subarray(i * SEGMENT, (i + 1) * SEGMENT)], { headerDigest: digests, dataDigest: digests }));
  }
  return Buffer.concat(wire);
}

function deframer(digests: boolean, register: boolean): Deframer {
  const d = new Deframer('initiator', (pdu) => sink(pdu.bhs.itt));
  d.setDigests(digests, digests);
  d.setMaxDataSegmentLength(SEGMENT);
  if (register) d.registerTask(1, Buffer.alloc(TOTAL));
  return d;
}

export const suite: MicroSuite = {
  name: 'deframe',
  cases(add) {
    for (const digests of [false, true]) {
      const label = digests ? '+digests' : '';
      const input = stream(digests);
      const views = deframer(digests, false);
      add(`deframe 64KiB Data-In views${label}`, () => views.feed(input), { bytesPerOp: input.length, group: 'deframe' });
      const placed = deframer(digests, true);
      add(`deframe 64KiB Data-In placed${label}`, () => placed.feed(input), { bytesPerOp: input.length, group: 'deframe' });
      const planned = deframer(digests, true);
      add(`deframe 64KiB Data-In socket-style${label}`, () => {
        for (let at = 0; at < input.length;) {
          const target = planned.nextReadBuffer();
          const n = input.copy(target, 0, at, Math.min(input.length, at + target.length));
          at += n;
          planned.commitRead(n);
        }
      }, { bytesPerOp: input.length, group: 'deframe' });
    }
  },
};
