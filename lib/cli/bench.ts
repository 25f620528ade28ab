// `iscsi-mpio bench URL [--path …]… [--policy P] [--rw read|write] [--bs 64k] [--qd 32] [--time 10] [--compare]
// [--json] [--svg FILE]`: sequential I/O for a while over the multipath device; with --compare each path alone
// first, then all paths, and the speedup. Write runs overwrite the LU. On a terminal stderr, a live line each
// second; stdout carries only the table (or the JSON).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Initiator } from '../initiator';
import { POLICY_NAMES, type PolicyName } from '../mpio/path-selector';
import { parseIscsiUrl, redactUrl } from '../url';
import { BenchArgumentError, checkBenchOptions, parseBlockSize, type BenchDirection, type BenchOptions } from '../bench/bench-options';
import { benchCompare } from '../bench/compare';
import { benchSvg } from '../bench/svg-chart';
import { formatLiveLine, LiveLine } from '../bench/live-line';
import { formatBenchReport, formatRun, RUN_HEADER } from '../bench/table';
import { printResult } from './output';
import { addLayoutOptions, addSessionOptions, chapOf, layoutOf, loginTimeoutOf, pathsOf, timeoutOf, type LayoutFlags, type SessionFlags } from './session-options';

const POLICIES: readonly string[] = POLICY_NAMES;

interface BenchFlags extends SessionFlags, LayoutFlags {
  policy: string;
  rw: string;
  bs: string;
  qd: string;
  time: string;
  compare?: boolean;
  json?: boolean;
  svg?: string;
}

export function registerBench(program: Command): void {
  addLayoutOptions(addSessionOptions(program.command('bench <url>').description('throughput of each path alone and of all paths under a policy (write runs overwrite the LU)')))
    .option('--policy <policy>', `path policy for the all-paths run (${POLICIES.join(', ')})`, 'round-robin')
    .option('--rw <read|write>', 'direction', 'read')
    .option('--bs <size>', 'bytes per I/O (k, m suffixes are binary)', '64k')
    .option('--qd <n>', 'I/Os in flight', '32')
    .option('--time <seconds>', 'seconds per run', '10')
    .option('--compare', 'run each path alone first, then all paths, and print the speedup')
    .option('--svg <file>', 'write a bar chart of the runs')
    .option('--json', 'machine-readable output')
    .action(async (urlText: string, flags: BenchFlags) => {
      if (!POLICIES.includes(flags.policy)) throw new BenchArgumentError(`unknown policy "${flags.policy}" (use ${POLICIES.join(', ')})`);
      const options: BenchOptions = { rw: flags.rw as BenchDirection, bs: parseBlockSize(flags.bs), qd: Number(flags.qd), seconds: Number(flags.time) };
      // Bad flags fail before any login; the block size is checked again against the LU's own.
      checkBenchOptions(options, 512, Number.MAX_SAFE_INTEGER);
      const url = parseIscsiUrl(urlText);
      const chap = chapOf(flags, url);
      const commandTimeoutMs = timeoutOf(flags);
      const initiator = new Initiator();
      const json = !!flags.json;
      const live = new LiveLine(process.stderr);
      if (!json) process.stdout.write(RUN_HEADER + '\n');
      const request = {
        target: url.target, portal: url.portal, lun: url.lun, chap, digests: flags.digests,
        commandTimeoutMs, loginTimeoutMs: loginTimeoutOf(flags), nopIntervalMs: 60_000,
      };
      // One discovery for every run: --compare's single-path runs are then each one (local, portal) pair.
      const paths = await initiator.planPaths({ ...request, paths: pathsOf(flags), ...layoutOf(flags) });
      const report = await benchCompare(
        (runPaths, policy) => initiator.connect({ ...request, paths: runPaths, policy }),
        {
          paths, policy: flags.policy as PolicyName, compare: !!flags.compare,
          ...options,
          // Each run's rows as it ends, so a long --compare is not silent; the live line goes first.
          onRun: (run) => {
            live.clear();
            if (!json) process.stdout.write(formatRun(run).join('\n') + '\n');
          },
          onTick: live.enabled ? (label, policy, tick) => live.draw(formatLiveLine(label, policy, options.rw, tick)) : undefined,
        },
      ).finally(() => live.clear());
      // The chart is made to be shared: its title names the URL without the CHAP secret.
      if (flags.svg) writeFileSync(flags.svg, benchSvg(report, `iscsi-mpio bench ${redactUrl(urlText)}`));
      if (json) printResult(report, true, () => formatBenchReport(report));
      else if (report.speedup !== null) process.stdout.write(`speedup ${report.speedup.toFixed(2)}x: all paths over the ${report.speedupBasis}\n`);
      if (flags.svg && !json) process.stdout.write(`chart written to ${flags.svg}\n`);
    });
}
