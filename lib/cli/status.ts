// `iscsi-mpio status [--json] [--watch]`: the running service's `multipath -ll` view, over its control socket.
import type { Command } from 'commander';
import { askService } from '../service/control-client';
import { serviceDirs } from '../service/config-dir';
import { formatStatus, type ServiceStatus } from '../service/status';
import { addConfigOption } from './node';
import { printResult } from './output';

export function registerStatus(program: Command): void {
  addConfigOption(program.command('status').description('the running service\'s devices, paths and counters (as multipath -ll)'))
    .option('--json', 'machine-readable output')
    .option('--watch', 'refresh once a second until interrupted')
    .action(async (flags: { config?: string; json?: boolean; watch?: boolean }) => {
      const dirs = serviceDirs(flags.config);
      const once = async () => {
        const status = await askService(dirs, { command: 'status' }) as ServiceStatus;
        if (flags.watch && !flags.json && process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J');
        printResult(status, !!flags.json, () => formatStatus(status));
      };
      await once();
      if (!flags.watch) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => { once().catch((error) => { clearInterval(timer); reject(error); }); }, 1000);
        process.once('SIGINT', () => { clearInterval(timer); resolve(); });
      });
    });
}
