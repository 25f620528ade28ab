// `iscsi-mpio demo [--json] [--netns] [--time S]`: the seed walkthrough (DESIGN.md "The demo") on the embedded
// target: paced loopback by default (no privileges needed), real shaped veth paths in network namespaces with
// --netns (root). Exits non-zero naming the step that failed.
import type { Command } from 'commander';
import { startLoopbackTopology } from '../demo/loopback-topology';
import { startNetnsTopology } from '../demo/netns-topology';
import { formatStep, formatSummary } from '../demo/text-output';
import type { DemoTopology } from '../demo/topology';
import { runWalkthrough } from '../demo/walkthrough';
import { EXIT } from './exit-codes';
import { UsageError } from './usage-error';
import { printResult } from './output';

interface DemoFlags { json?: boolean; netns?: boolean; time: string }

async function topologyFor(flags: DemoFlags): Promise<DemoTopology> {
  return flags.netns ? startNetnsTopology() : startLoopbackTopology();
}

export function registerDemo(program: Command): void {
  program.command('demo')
    .description('the walkthrough: group portal, redirect, two paths, failover then round-robin, netstat')
    .option('--netns', 'over two real veth paths in network namespaces shaped with tc tbf 1gbit (root)')
    .option('--time <seconds>', 'seconds per measurement', '4')
    .option('--json', 'machine-readable output')
    .action(async (flags: DemoFlags) => {
      const seconds = Number(flags.time);
      if (!(seconds > 0 && seconds <= 60)) throw new UsageError(`--time ${flags.time}: use 0..60 seconds`);
      const json = !!flags.json;
      const topology = await topologyFor(flags);
      // Ctrl-C: take the array (and any namespaces) down before exiting.
      const interrupted = (signal: NodeJS.Signals) => {
        process.stderr.write(`iscsi-mpio demo: ${signal}, cleaning up\n`);
        void topology.close().finally(() => process.exit(130));
      };
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      try {
        if (!json) process.stdout.write(`iscsi-mpio demo: multipath over ${flags.netns ? 'shaped veth paths in network namespaces' : 'paced loopback'}\n\n`);
        const report = await runWalkthrough(topology, { seconds, onStep: json ? undefined : (e) => process.stdout.write(formatStep(e) + '\n') });
        const { failed, ...shape } = report;
        printResult({ ...shape, failed }, json, () => formatSummary(report));
        if (failed) process.exitCode = EXIT.failure;
      } finally {
        process.off('SIGINT', interrupted);
        process.off('SIGTERM', interrupted);
        await topology.close();
      }
    });
}
