import type { Command } from 'commander';
import { printResult } from './output';
import { nics, formatNicsTable } from '../offload/nics';

export function registerNics(program: Command): void {
  program
    .command('nics')
    .description('network interfaces with addresses, link speed and offload features')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const list = nics();
      printResult(list, !!opts.json, () => formatNicsTable(list));
    });
}
