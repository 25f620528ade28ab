import type { Command } from 'commander';
import { notBuiltYet } from './output';

export function registerTarget(program: Command): void {
  program.command('target').description('run the embedded multi-portal iSCSI target in the foreground (not built yet)').option('--json', 'machine-readable output').action(notBuiltYet('target'));
}
