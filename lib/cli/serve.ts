// `iscsi-mpio serve [--config DIR] [--nbd-tcp ADDR:PORT] [--metrics ADDR:PORT]`: the service in the foreground
// (lib/service/service.ts). One line on stderr per event; SIGTERM/SIGINT stop it cleanly (exit 0 once every device
// is flushed and logged out), SIGHUP rereads the node records.
import type { Command } from 'commander';
import { Service } from '../service/service';
import { serviceDirs } from '../service/config-dir';
import { parseDuration } from '../units';
import { parsePortal } from '../url';
import { addConfigOption } from './node';
import { printResult } from './output';
import { UsageError } from './usage-error';

function address(text: string, what: string): { host: string; port: number } {
  if (!/:\d+$/.test(text)) throw new UsageError(`${what} "${text}": give ADDRESS:PORT (port 0 lets the kernel choose)`);
  const p = parsePortal(text.replace(/:0$/, ':1'));
  return { host: p.address, port: text.endsWith(':0') ? 0 : p.port };
}

function stamp(line: string): void {
  process.stderr.write(`iscsi-mpio serve: ${line}\n`);
}

export function registerServe(program: Command): void {
  addConfigOption(program.command('serve').description('log in every automatic node and export each device over NBD until SIGTERM'))
    .option('--nbd-tcp <addr:port>', 'also export every device over TCP here (export name = node name)')
    .option('--metrics <addr:port>', 'serve Prometheus /metrics here')
    .option('--retry <duration>', 'wait between login attempts of a node with no path up (500ms, 5s, 1m)', '5s')
    .option('--json', 'print the status as JSON once every automatic node was tried')
    .action(async (flags: { config?: string; nbdTcp?: string; metrics?: string; retry: string; json?: boolean }) => {
      const dirs = serviceDirs(flags.config);
      const service = new Service({
        dirs, log: stamp, retryMs: parseDuration(flags.retry, '--retry'),
        nbdTcp: flags.nbdTcp ? address(flags.nbdTcp, '--nbd-tcp') : undefined,
        metrics: flags.metrics ? address(flags.metrics, '--metrics') : undefined,
      });
      let stopping: Promise<void> | undefined;
      const finished = new Promise<void>((resolve, reject) => {
        const stop = (signal: string) => {
          if (stopping) return;
          stamp(`${signal}: stopping (finishing in-flight I/O, flushing, logging out)`);
          stopping = service.stop().then(resolve, reject);
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGHUP', () => {
          if (stopping) return;
          stamp('SIGHUP: rereading the node records');
          service.reload().catch((error: Error) => stamp(`reload failed: ${error.message}`));
        });
      });
      await service.start();
      const status = service.status();
      const up = status.nodes.filter((n) => n.state === 'up').length;
      stamp(`ready: ${up} of ${status.nodes.length} nodes up; control ${status.control}${status.metrics ? `; metrics ${status.metrics}` : ''}`);
      if (flags.json) printResult(status, true, () => '');
      await finished;
      stamp('stopped');
    });
}
