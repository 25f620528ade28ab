import type { Command } from 'commander';
import { notBuiltYet } from './output';

export function registerNics(program: Command): void {
  program.command('nics').description('network interfaces with addresses, link speed and offload features (not built yet)').option('--json', 'machine-readable output').action(notBuiltYet('nics'));
}
