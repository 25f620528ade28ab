import type { Command } from 'commander';
import { notBuiltYet } from './output';

export function registerReadWrite(program: Command): void {
  program.command('read <url>').description('read a byte range to stdout (not built yet)').action(notBuiltYet('read'));
  program.command('write <url>').description('write stdin at an offset (not built yet)').action(notBuiltYet('write'));
}
