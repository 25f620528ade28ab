import type { Command } from 'commander';
import { notBuiltYet } from './output';

export function registerNetstat(program: Command): void {
  program.command('netstat').description('TCP connections with their Offload State, as netstat -nt prints them (not built yet)').option('--json', 'machine-readable output').action(notBuiltYet('netstat'));
}
