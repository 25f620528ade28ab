import type { Command } from 'commander';
import { notBuiltYet } from './output';

export function registerInquiry(program: Command): void {
  program.command('inquiry <url>').description('log in on every path, print the device and its paths, log out (not built yet)').option('--json', 'machine-readable output').action(notBuiltYet('inquiry <url>'));
}
