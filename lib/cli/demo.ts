import type { Command } from 'commander';
import { notBuiltYet } from './output';

export function registerDemo(program: Command): void {
  program.command('demo').description('the walkthrough: group portal, redirect, two paths, failover then round-robin, netstat (not built yet)').option('--json', 'machine-readable output').action(notBuiltYet('demo'));
}
