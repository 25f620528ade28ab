// CRC32C throughput: every addon implementation this CPU runs, the active one through crc32c() (no name lookup,
// which matters at 48 bytes), @node-rs/crc32 (Rust, prebuilt) and crc-32/crc32c (pure JS tables), at the sizes
// iSCSI digests: a 64 KiB and an 8 KiB data segment and a 48-byte header.
import { randomBytes } from 'node:crypto';
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32';
import { activeCrc32cImplementation, crc32c, crc32cImplementations, crc32cWith } from '../../lib/wire/crc32c';
import { MicroSuite, sink } from './suite';

// crc-32 ships no types for its crc32c entry point.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pureJs = require('crc-32/crc32c') as { buf(data: Uint8Array, seed?: number): number };

const sizes: Array<[label: string, bytes: number]> = [['64KiB', 64 * 1024], ['8KiB', 8 * 1024], ['48B', 48]];

export const suite: MicroSuite = {
  name: 'crc32c',
  cases(add) {
    const implementations = crc32cImplementations().filter((impl) => impl.supported).map((impl) => impl.name);
    for (const [label, bytes] of sizes) {
      const data = randomBytes(bytes);
      const group = `crc32c ${label}`;
      const options = { bytesPerOp: bytes, group };
      add(`${group} crc32c() [${activeCrc32cImplementation()}]`, () => sink(crc32c(data)), { ...options, reference: true });
      for (const name of implementations)
        add(`${group} ${name}`, () => sink(crc32cWith(name, data)), { ...options, reference: true });
      add(`${group} @node-rs/crc32`, () => sink(nodeRsCrc32c(data)), options);
      add(`${group} crc-32/crc32c (JS)`, () => sink(pureJs.buf(data)), options);
    }
  },
};
