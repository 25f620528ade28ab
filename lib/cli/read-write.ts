// `iscsi-mpio read URL --offset N --length N > file` and `iscsi-mpio write URL --offset N < file`: byte ranges of
// an LU through every `--path` under `--policy`. Both may start and end anywhere in a block.
import type { Command } from 'commander';
import { Initiator } from '../initiator';
import type { MultipathDevice } from '../mpio/multipath-device';
import { parseDuration, parseSize } from '../units';
import { parseIscsiUrl } from '../url';
import { writeOut } from './output';
import { announceDegradedPaths } from './path-report';
import { withDevice } from './with-device';
import { addPolicyOption, addSessionOptions, chapOf, pathsOf, policyOf, timeoutOf, type SessionFlags } from './session-options';

const CHUNK = 1 << 20;
const DEPTH = 8;

/** A byte count or offset (`4096`, `4k`, `1MiB`); zero is allowed. */
const byteCount = (text: string, what: string) => parseSize(text, { what, min: 0 });

interface DeviceFlags extends SessionFlags { policy?: string; downWait: string }

async function open(urlText: string, flags: DeviceFlags): Promise<MultipathDevice> {
  const url = parseIscsiUrl(urlText);
  const policy = policyOf(flags);
  const options = {
    target: url.target, portal: { host: url.host, port: url.port }, lun: url.lun, paths: pathsOf(flags), policy,
    chap: chapOf(flags, url), digests: flags.digests, commandTimeoutMs: timeoutOf(flags),
    noPathRetryMs: parseDuration(flags.downWait, '--down-wait'),
  };
  // Paths reconnect and fail over during the transfer; close() stops all of it.
  const device = await new Initiator().connect(options);
  announceDegradedPaths(device);
  return device;
}

/**
 * Whole blocks covering [offset, offset + data.length): `data` itself when aligned, else a copy with the partly
 * covered first and last blocks read from the LU around it (read-modify-write; not atomic against other writers).
 */
async function alignToBlocks(device: MultipathDevice, blockSize: number, offset: number, data: Buffer): Promise<{ start: number; blocksData: Buffer }> {
  const start = Math.floor(offset / blockSize);
  const end = Math.ceil((offset + data.length) / blockSize);
  if (offset % blockSize === 0 && data.length % blockSize === 0) return { start, blocksData: data };
  const blocksData = Buffer.alloc((end - start) * blockSize);
  await device.read(start, 1, blocksData.subarray(0, blockSize));
  if (end - 1 > start) await device.read(end - 1, 1, blocksData.subarray(blocksData.length - blockSize));
  data.copy(blocksData, offset - start * blockSize);
  return { start, blocksData };
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function registerReadWrite(program: Command): void {
  addPolicyOption(addSessionOptions(program.command('read <url>').description('read a byte range of the LU to stdout')), 'round-robin')
    .requiredOption('--offset <size>', 'first byte (4096, 4k, 1MiB...)')
    .requiredOption('--length <size>', 'number of bytes (4096, 4k, 1MiB...)')
    .option('--down-wait <duration>', 'with every path down, how long I/O waits for one to return before failing', '5000')
    .action(async (urlText: string, flags: DeviceFlags & { offset: string; length: string }) => {
      const offset = byteCount(flags.offset, '--offset');
      const length = byteCount(flags.length, '--length');
      await withDevice(await open(urlText, flags), async (device) => {
        const { blockSize, blocks } = await device.capacity();
        if (offset + length > blocks * blockSize) throw Object.assign(new Error(`range ${offset}+${length} is past the end of the LU (${blocks * blockSize} bytes)`), { code: 'ERANGE' });
        const first = Math.floor(offset / blockSize);
        const end = Math.ceil((offset + length) / blockSize);
        const perChunk = Math.max(1, Math.floor(CHUNK / blockSize));
        // Keep DEPTH chunks in flight, write them out in order.
        const pending: Array<Promise<Buffer>> = [];
        let next = first;
        const issue = () => {
          const n = Math.min(perChunk, end - next);
          const read = device.read(next, n);
          read.catch(() => undefined); // awaited in order below; this only keeps a later failure from being "unhandled"
          pending.push(read);
          next += n;
        };
        while (next < end && pending.length < DEPTH) issue();
        let lba = first;
        while (pending.length > 0) {
          const data = await pending.shift()!;
          if (next < end) issue();
          const from = lba === first ? offset - first * blockSize : 0;
          const chunkEnd = lba * blockSize + data.length;
          const to = data.length - Math.max(0, chunkEnd - (offset + length));
          lba += data.length / blockSize;
          await writeOut(data.subarray(from, to));
        }
      });
    });

  addPolicyOption(addSessionOptions(program.command('write <url>').description('write stdin to the LU at a byte offset (partial blocks at either end are read, merged and written back)')), 'round-robin')
    .requiredOption('--offset <size>', 'first byte (4096, 4k, 1MiB...)')
    .option('--down-wait <duration>', 'with every path down, how long I/O waits for one to return before failing', '5000')
    .action(async (urlText: string, flags: DeviceFlags & { offset: string }) => {
      const offset = byteCount(flags.offset, '--offset');
      const data = await readStdin();
      await withDevice(await open(urlText, flags), async (device) => {
        const { blockSize, blocks } = await device.capacity();
        if (offset + data.length > blocks * blockSize) throw Object.assign(new Error(`range ${offset}+${data.length} is past the end of the LU`), { code: 'ERANGE' });
        const { start, blocksData } = await alignToBlocks(device, blockSize, offset, data);
        const writes: Array<Promise<void>> = [];
        for (let at = 0; at < blocksData.length; at += CHUNK) {
          const write = device.write(start + at / blockSize, blocksData.subarray(at, Math.min(blocksData.length, at + CHUNK)));
          write.catch(() => undefined); // awaited below
          writes.push(write);
          if (writes.length >= DEPTH) await writes.shift();
        }
        await Promise.all(writes);
        await device.flush();
      });
    });
}
