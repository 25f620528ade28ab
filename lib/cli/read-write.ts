// `iscsi-mpio read URL --offset N --length N > file` and `iscsi-mpio write URL --offset N < file`: byte ranges of
// an LU through every `--path` under `--policy`. Both may start and end anywhere in a block, stream with bounded
// memory (lib/cli/transfer.ts) and report as dd does (lib/cli/progress.ts).
import { fstatSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Initiator } from '../initiator';
import type { MultipathDevice } from '../mpio/multipath-device';
import { parseDuration, parseSize } from '../units';
import { parseIscsiUrl } from '../url';
import { writeOut } from './output';
import { announceDegradedPaths, pathTraffic } from './path-report';
import { TransferProgress } from './progress';
import { withDevice } from './with-device';
import { addLayoutOptions, addPolicyOption, addSessionOptions, chapOf, layoutOf, loginTimeoutOf, pathsOf, policyOf, timeoutOf, type LayoutFlags, type SessionFlags } from './session-options';
import { fdSource, streamRead, streamWrite } from './transfer';

/** A byte count or offset (`4096`, `4k`, `1MiB`); zero is allowed. */
const byteCount = (text: string, what: string) => parseSize(text, { what, min: 0 });

interface DeviceFlags extends SessionFlags, LayoutFlags { policy?: string; downWait: string }

async function open(urlText: string, flags: DeviceFlags): Promise<MultipathDevice> {
  const url = parseIscsiUrl(urlText);
  const policy = policyOf(flags);
  const options = {
    target: url.target, portal: url.portal, lun: url.lun, paths: pathsOf(flags), ...layoutOf(flags), policy,
    chap: chapOf(flags, url), digests: flags.digests, commandTimeoutMs: timeoutOf(flags), loginTimeoutMs: loginTimeoutOf(flags),
    noPathRetryMs: parseDuration(flags.downWait, '--down-wait'),
  };
  // Paths reconnect and fail over during the transfer; close() stops all of it.
  const device = await new Initiator().connect(options);
  announceDegradedPaths(device);
  return device;
}

/**
 * The bytes left on stdin when it is a regular file (`< file`): its size less the position it is read from (which a
 * shell may have moved), so a range past the LU's end is refused before anything is written.
 */
function stdinFileBytes(): number | undefined {
  try {
    const stat = fstatSync(0);
    if (!stat.isFile()) return undefined;
    const pos = /^pos:\s*(\d+)/m.exec(readFileSync('/proc/self/fdinfo/0', 'utf8'));
    return pos ? Math.max(0, stat.size - Number(pos[1])) : undefined;
  } catch {
    return undefined;
  }
}

export function registerReadWrite(program: Command): void {
  addLayoutOptions(addPolicyOption(addSessionOptions(program.command('read <url>').description('read a byte range of the LU to stdout')), 'round-robin'))
    .requiredOption('--offset <size>', 'first byte (4096, 4k, 1MiB...)')
    .requiredOption('--length <size>', 'number of bytes (4096, 4k, 1MiB...)')
    .option('--down-wait <duration>', 'with every path down, how long I/O waits for one to return before failing', '5000')
    .option('--json', 'the summary as one JSON object on stderr (stdout carries the data)')
    .action(async (urlText: string, flags: DeviceFlags & { offset: string; length: string; json?: boolean }) => {
      const offset = byteCount(flags.offset, '--offset');
      const length = byteCount(flags.length, '--length');
      await withDevice(await open(urlText, flags), async (device) => {
        const progress = new TransferProgress('read', offset, length);
        try {
          // writeOut resolves once stdout has the bytes (it writes synchronously to a pipe, file or TTY on Linux),
          // so streamRead may reuse the chunk's buffer; an EPIPE or other output error ends the loop there.
          await streamRead(device, writeOut, { offset, length, onBytes: (n) => progress.add(n) });
        } finally {
          progress.stop();
        }
        progress.finish(flags.json ? process.stderr : undefined, pathTraffic(device));
      });
    });

  addLayoutOptions(addPolicyOption(addSessionOptions(program.command('write <url>').description('write stdin to the LU at a byte offset (partial blocks at either end are read, merged and written back)')), 'round-robin'))
    .requiredOption('--offset <size>', 'first byte (4096, 4k, 1MiB...)')
    .option('--down-wait <duration>', 'with every path down, how long I/O waits for one to return before failing', '5000')
    .option('--length <size>', 'write exactly this many bytes of stdin (an error if it ends sooner); default: all of it')
    .option('--json', 'the summary as one JSON object on stdout')
    .action(async (urlText: string, flags: DeviceFlags & { offset: string; length?: string; json?: boolean }) => {
      const offset = byteCount(flags.offset, '--offset');
      const length = flags.length === undefined ? undefined : byteCount(flags.length, '--length');
      const knownInputBytes = stdinFileBytes();
      await withDevice(await open(urlText, flags), async (device) => {
        const progress = new TransferProgress('write', offset, length ?? knownInputBytes);
        try {
          await streamWrite(device, fdSource(0), { offset, length, knownInputBytes, onBytes: (n) => progress.add(n) });
        } finally {
          progress.stop();
        }
        progress.finish(flags.json ? process.stdout : undefined, pathTraffic(device));
      });
    });
}
