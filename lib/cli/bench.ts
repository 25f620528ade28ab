import type { Command } from 'commander';
import { notBuiltYet } from './output';

export function registerBench(program: Command): void {
  program.command('bench <url>').description('throughput of each path alone and of all paths under a policy (not built yet)').option('--json', 'machine-readable output').action(notBuiltYet('bench <url>'));
}
