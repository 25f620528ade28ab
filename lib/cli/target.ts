// `iscsi-mpio target`: the embedded array in the foreground until Ctrl-C (or SIGTERM), then a clean shutdown.
import type { Command } from 'commander';
import { Target, parseLunSpec, parsePortal, parseSize, type AluaAccessState, type TargetCaps, type TargetOptions } from '../target/target';
import { formatLinkRate } from '../target/link-rate';
import { keepSecret, printResult, scrubSecrets } from './output';
import { readSecretFile } from './session-options';
import { UsageError } from './usage-error';

interface TargetCliOptions {
  group?: string;
  portal: string[];
  lun: string[];
  iqn?: string;
  rate?: string;
  alua?: boolean;
  nonOptimized: string[];
  chap?: string;
  chapSecretFile?: string;
  mutualChap?: string;
  blockSize?: string;
  maxBuffered?: string;
  maxConnectionBuffered?: string;
  maxTasks?: string;
  maxImmediate?: string;
  maxConnections?: string;
  maxLoginConnections?: string;
  maxLoginPerAddress?: string;
  loginTimeout?: string;
  maxText?: string;
  holdSignals?: boolean;
  json?: boolean;
}

function count(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw Object.assign(new RangeError(`${flag} ${text}: give a positive whole number`), { exitCode: 2 });
  return n;
}

function bytes(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSize(text);
  } catch (error) {
    throw Object.assign(new RangeError(`${flag}: ${(error as Error).message}`), { exitCode: 2 });
  }
}

/** The caps from the command line (see TargetCaps for what each refuses and its default). */
function capsFrom(opts: TargetCliOptions): Partial<TargetCaps> {
  const timeout = opts.loginTimeout === undefined ? undefined : Number(opts.loginTimeout);
  if (timeout !== undefined && !(timeout > 0)) throw Object.assign(new RangeError(`--login-timeout ${opts.loginTimeout}: give seconds above zero`), { exitCode: 2 });
  const caps: Partial<TargetCaps> = {
    maxBufferedBytes: bytes(opts.maxBuffered, '--max-buffered'),
    maxBufferedBytesPerConnection: bytes(opts.maxConnectionBuffered, '--max-connection-buffered'),
    maxTasksPerConnection: count(opts.maxTasks, '--max-tasks'),
    maxImmediateTasksPerConnection: count(opts.maxImmediate, '--max-immediate'),
    maxConnections: count(opts.maxConnections, '--max-connections'),
    maxLoginConnections: count(opts.maxLoginConnections, '--max-login-connections'),
    maxLoginConnectionsPerAddress: count(opts.maxLoginPerAddress, '--max-login-per-address'),
    loginTimeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
    maxTextBytes: bytes(opts.maxText, '--max-text'),
  };
  for (const key of Object.keys(caps) as Array<keyof TargetCaps>) if (caps[key] === undefined) delete caps[key];
  return caps;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `USER:SECRET` (split at the first colon), or the user alone with the secret from `secretFile` (then the whole
 * text is the user, colons and all: IQNs make good CHAP names) or from the environment variable `envName`.
 * Both keep the secret out of process listings.
 */
function account(text: string, what: string, envName: string, secretFile?: string): { user: string; secret: string } {
  const colon = text.indexOf(':');
  let user = text;
  let secret: string | undefined;
  if (secretFile !== undefined) secret = readSecretFile(secretFile, '--chap-secret-file');
  else if (colon >= 0) [user, secret] = [text.slice(0, colon), text.slice(colon + 1)];
  else secret = process.env[envName] || undefined;
  if (!user || !secret) throw new UsageError(`${what}: give USER:SECRET, or USER with the secret in $${envName}${what === '--chap' ? ' or --chap-secret-file' : ''}`);
  keepSecret(secret);
  return { user, secret };
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
    .option('--chap <user[:secret]>', 'require CHAP with this account (the secret from --chap-secret-file or $ISCSI_MPIO_CHAP_SECRET when left out)')
    .option('--chap-secret-file <file>', 'the --chap secret, read from this file (one line)')
    .option('--mutual-chap <user[:secret]>', "the target's own credentials for mutual CHAP (secret default $ISCSI_MPIO_MUTUAL_SECRET)")
    .option('--max-buffered <size>', 'scratch memory for write data, all connections together (default 512M); over it: BUSY')
    .option('--max-connection-buffered <size>', 'scratch memory for write data per connection (default 64M); over it: BUSY')
    .option('--max-tasks <n>', 'outstanding commands per connection (default 256); over it: TASK SET FULL')
    .option('--max-immediate <n>', 'outstanding immediate commands per connection (default 16); over it: Reject')
    .option('--max-connections <n>', 'open connections on all portals (default 1024); over it: closed at once')
    .option('--max-login-connections <n>', 'connections still logging in (default 64); over it the oldest is dropped')
    .option('--max-login-per-address <n>', 'connections logging in from one address (default 8); over it: closed at once')
    .option('--login-timeout <seconds>', 'a login not finished by then is dropped (default 15)')
    .option('--max-text <size>', 'text over C=1 continuations, login or Text Request (default 64K)')
    .option('--hold-signals', 'SIGUSR2 stalls every member like a frozen controller; the next SIGUSR2 releases them')
    .option('--json', 'machine-readable output')
    .action(async (opts: TargetCliOptions) => {
      if (opts.portal.length === 0) throw new UsageError('give at least one --portal ADDRESS:PORT');
      const blockSize = Number(opts.blockSize);
      if (blockSize !== 512 && blockSize !== 4096) throw new UsageError(`--block-size ${opts.blockSize}: use 512 or 4096`);
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
        chap: opts.chap ? account(opts.chap, '--chap', 'ISCSI_MPIO_CHAP_SECRET', opts.chapSecretFile) : undefined,
        mutualChap: opts.mutualChap ? account(opts.mutualChap, '--mutual-chap', 'ISCSI_MPIO_MUTUAL_SECRET') : undefined,
        caps: capsFrom(opts),
      };
      const target = await Target.start(options);
      target.on('warning', (error: Error) => process.stderr.write(scrubSecrets(`iscsi-mpio target: ${error.message}`) + '\n'));
      target.on('login-failed', (error: Error) => process.stderr.write(scrubSecrets(`iscsi-mpio target: login refused: ${error.message}`) + '\n'));
      const members = target.members.map((m) => m.index);
      // SIGUSR2 toggles (Node keeps SIGUSR1 for its inspector).
      const toggleHold = () => {
        if (!target.members.some((m) => m.held)) {
          for (const m of members) target.holdCommands(m);
          return void process.stderr.write('iscsi-mpio target: every member stalled (SIGUSR2 again releases)\n');
        }
        const held = members.reduce((n, m) => n + target.heldCommands(m), 0);
        for (const m of members) target.releaseCommands(m);
        process.stderr.write(`iscsi-mpio target: members released, ${held} held commands run\n`);
      };
      if (opts.holdSignals) process.on('SIGUSR2', toggleHold);
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
      process.off('SIGUSR2', toggleHold);
      await target.stop();
      if (!opts.json) process.stderr.write('iscsi-mpio target: stopped\n');
    });
}
