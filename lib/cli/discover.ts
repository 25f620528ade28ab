import type { Command } from 'commander';
import { notBuiltYet } from './output';

export function registerDiscover(program: Command): void {
  program.command('discover <portal>').description('SendTargets discovery on a portal (not built yet)').option('--json', 'machine-readable output').action(notBuiltYet('discover <portal>'));
}
