import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT } from './exit-codes';
import { printResult } from './output';
import { netstat, notOffloadedIscsiConnections, type NetstatRow } from '../offload/netstat';
import { formatEndpoint, formatNetstatTable } from '../offload/netstat-table';

interface NetstatCliOptions {
  all?: boolean;
  iscsi?: boolean;
  json?: boolean;
  verbose?: boolean;
  check?: 'offloaded';
  iscsiPort?: number[];
}

function portArgument(value: string, previous: number[] | undefined): number[] {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError('a port number 1..65535');
  return [...(previous ?? []), port];
}

function describe(row: NetstatRow): string {
  const target = row.iscsi?.target ? ` target ${row.iscsi.target}` : '';
  return `${formatEndpoint(row.local)} -> ${formatEndpoint(row.remote)} ${row.offloadState} on ${row.device ?? 'unknown device'}${target}`;
}

export function registerNetstat(program: Command): void {
  program
    .command('netstat')
    .description('TCP connections with their Offload State, as Windows netstat -nt prints them')
    .option('-a, --all', 'include listening sockets')
    .option('--iscsi', 'only iSCSI connections (this process, the kernel, port 3260), with target, session and path')
    .option('--iscsi-port <port>', 'another port that marks iSCSI connections (repeatable; 3260 always counts)', portArgument)
    .option('-v, --verbose', 'add the egress device and its stateless offloads')
    .addOption(new Option('--check <state>', 'exit non-zero naming every iSCSI connection not in this offload state').choices(['offloaded']))
    .option('--json', 'machine-readable output')
    .action((opts: NetstatCliOptions) => {
      const iscsiPorts = [3260, ...(opts.iscsiPort ?? [])];
      if (opts.check) {
        const rows = netstat({ iscsi: true, iscsiPorts });
        const failing = notOffloadedIscsiConnections(rows);
        const checked = rows.filter((r) => r.state !== 'LISTENING').length;
        printResult({ check: opts.check, ok: failing.length === 0, checked, notOffloaded: failing }, !!opts.json, () =>
          failing.length === 0
            ? checked === 0 ? 'OK: no iSCSI connections' : `OK: all ${checked} iSCSI connections are Offloaded`
            : [`FAIL: ${failing.length} of ${checked} iSCSI connections are not offloaded:`, ...failing.map((r) => '  ' + describe(r))].join('\n'));
        if (failing.length > 0) process.exitCode = EXIT.failure;
        return;
      }
      const rows = netstat({ all: opts.all, iscsi: opts.iscsi, iscsiPorts });
      printResult(rows, !!opts.json, () => formatNetstatTable(rows, { iscsi: opts.iscsi, verbose: opts.verbose }));
    });
}
