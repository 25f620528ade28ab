// `iscsi-mpio target`: the embedded array in the foreground until Ctrl-C (or SIGTERM), then a clean shutdown.
import type { Command } from 'commander';
import { Target, parseLunSpec, parsePortal, type AluaAccessState, type TargetOptions } from '../target/target';
import { formatLinkRate } from '../target/link-rate';
import { usageError } from './exit-codes';
import { printResult } from './output';

interface TargetCliOptions {
  group?: string;
  portal: string[];
  lun: string[];
  iqn?: string;
  rate?: string;
  alua?: boolean;
  nonOptimized: string[];
  chap?: string;
  mutualChap?: string;
  blockSize?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function account(text: string, what: string): { user: string; secret: string } {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) throw usageError(`${what} "${text}" is not USER:SECRET`);
  return { user: text.slice(0, i), secret: text.slice(i + 1) };
}

/** The target's options from the flags; what the parsers refuse (RangeError) is a usage error. */
function targetOptions(opts: TargetCliOptions): TargetOptions {
  try {
    if (opts.portal.length === 0) throw usageError('give at least one --portal ADDRESS:PORT');
    const blockSize = Number(opts.blockSize);
    if (blockSize !== 512 && blockSize !== 4096) throw usageError(`--block-size ${opts.blockSize}: use 512 or 4096`);
    const nonOptimized = new Set(opts.nonOptimized.map((p) => JSON.stringify(parsePortal(p))));
    const options: TargetOptions = {
      iqn: opts.iqn,
      group: opts.group,
      portals: opts.portal.map((p) => {
        const address = parsePortal(p);
        const alua: AluaAccessState = nonOptimized.has(JSON.stringify(address)) ? 'active-non-optimized' : 'active-optimized';
        return { ...address, alua };
      }),
      luns: (opts.lun.length ? opts.lun : ['64M']).map((l) => ({ ...parseLunSpec(l), blockSize })),
      rate: opts.rate,
      alua: opts.alua,
      chap: opts.chap ? account(opts.chap, '--chap') : undefined,
      mutualChap: opts.mutualChap ? account(opts.mutualChap, '--mutual-chap') : undefined,
    };
    return options;
  } catch (error) {
    throw error instanceof RangeError ? usageError(error.message) : error;
  }
}

export function registerTarget(program: Command): void {
  program.command('target')
    .description('run the embedded multi-portal iSCSI target (an EqualLogic-style group) in the foreground')
    .option('--group <addr:port>', 'group portal: answers SendTargets with every member and redirects each login to a member')
    .option('--portal <addr:port>', 'member portal (repeat for each member; port 0 = any free port)', collect, [])
    .option('--lun <size[:file]>', 'a LUN in memory, or in a sparse file (repeat; LUNs are numbered from 1)', collect, [])
    .option('--iqn <name>', 'target name')
    .option('--rate <rate>', 'emulate a link of this rate on each member port, e.g. 1gbit (pacing, not real shaping)')
    .option('--block-size <bytes>', 'logical block size, 512 or 4096', '512')
    .option('--alua', 'report ALUA states per member port group (REPORT TARGET PORT GROUPS)')
    .option('--non-optimized <addr:port>', 'with --alua: this member is active/non-optimized (repeat)', collect, [])
    .option('--chap <user:secret>', 'require CHAP with this account')
    .option('--mutual-chap <user:secret>', "the target's own credentials for mutual CHAP")
    .option('--json', 'machine-readable output')
    .action(async (opts: TargetCliOptions) => {
      const target = await Target.start(targetOptions(opts));
      target.on('warning', (error: Error) => process.stderr.write(`iscsi-mpio target: ${error.message}\n`));
      target.on('login-failed', (error: Error) => process.stderr.write(`iscsi-mpio target: login refused: ${error.message}\n`));
      const summary = { iqn: target.iqn, portals: target.portals, luns: target.luns };
      printResult(summary, opts.json ?? false, () => [
        `target ${target.iqn}`,
        ...target.portals.map((p) => `  ${p.role === 'group' ? 'group ' : 'member'} ${p.address}:${p.port}  tpgt ${p.tpgt}` +
          (p.role === 'member' && target.members[p.tpgt - 1].rate ? `  paced ${formatLinkRate(target.members[p.tpgt - 1].rate!)} (emulated link)` : '')),
        ...target.luns.map((l) => `  lun ${l.lun}  ${l.bytes} bytes  ${l.blockSize}-byte blocks  serial ${l.serial}  naa ${l.naa}${l.file ? `  file ${l.file}` : ''}`),
        'running; Ctrl-C stops',
      ].join('\n'));
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await target.stop();
      if (!opts.json) process.stderr.write('iscsi-mpio target: stopped\n');
    });
}
