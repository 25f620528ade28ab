// One path against tgtd on loopback: our initiator vs libiscsi's iscsi-perf on the same target in the same run,
// sequential reads at 4 KiB and 64 KiB, QD 32 (iscsi-perf reads only; our writes are printed alone). The two take
// turns for `--rounds N` rounds (default 3); the table and the ratios are of the medians, this VM being noisy.
// Prints throughput, IOPS, initiator CPU seconds per GB. `--json` for machine output, `--time S` per run.
// `npm run bench:single-path` runs it compiled by tsc, as users run the library (tsx's module getters cost more).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Initiator } from '../lib/initiator';
import type { LunDevice } from '../lib/session/lun-device';
import { haveTool, loopbackPortal, Tgtd } from '../test/support/tgtd';

const run = promisify(execFile);
const TARGET = 'iqn.2024-01.io.iscsi-mpio.bench:single-path';
const LUN_BYTES = 256 << 20;
const QD = 32;

interface Result { tool: string; rw: 'read' | 'write'; bs: number; qd: number; seconds: number; bytes: number; MBps: number; iops: number; cpuSecondsPerGB: number }

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function ours(device: LunDevice, rw: 'read' | 'write', bs: number, seconds: number): Promise<Result> {
  const blocks = bs / 512;
  const lbas = LUN_BYTES / 512;
  let next = 0;
  let ios = 0;
  const deadline = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: QD }, async () => {
    const buffer = Buffer.alloc(bs, rw === 'write' ? 0x5a : 0);
    while (performance.now() < deadline) {
      const lba = next;
      next = (next + blocks) % lbas;
      if (rw === 'read') await device.read(lba, blocks, buffer);
      else await device.write(lba, buffer);
      ios++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const bytes = ios * bs;
  return {
    tool: 'iscsi-mpio', rw, bs, qd: QD, seconds: elapsed, bytes, MBps: bytes / elapsed / 1e6, iops: ios / elapsed,
    cpuSecondsPerGB: (cpu.user + cpu.system) / 1e6 / (bytes / 1e9),
  };
}

async function iscsiPerf(url: string, bs: number, seconds: number): Promise<Result> {
  // /usr/bin/time gives the child's CPU; iscsi-perf prints "iops average N (M MB/s)" last.
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'CPU %U %S', 'iscsi-perf', '-m', String(QD), '-b', String(bs / 512), '-t', String(seconds), url], { maxBuffer: 16 << 20 });
  const averages = [...stdout.matchAll(/iops average (\d+)/g)];
  const iops = Number(averages[averages.length - 1][1]);
  const cpuMatch = /CPU ([\d.]+) ([\d.]+)/.exec(stderr)!;
  const bytes = iops * bs * seconds;
  return {
    tool: 'iscsi-perf', rw: 'read', bs, qd: QD, seconds, bytes, MBps: (iops * bs) / 1e6, iops,
    cpuSecondsPerGB: (Number(cpuMatch[1]) + Number(cpuMatch[2])) / (bytes / 1e9),
  };
}

async function main(): Promise<void> {
  const seconds = Number(arg('--time', '5'));
  const rounds = Number(arg('--rounds', '3'));
  const json = process.argv.includes('--json');
  for (const tool of ['tgtd', 'tgtadm', 'iscsi-perf', '/usr/bin/time']) {
    if (!haveTool(tool)) throw new Error(`${tool} is not installed (apt install tgt libiscsi-bin time)`);
  }
  const portal = loopbackPortal(31, 15000 + (process.pid % 500));
  const tgtd = await Tgtd.start([portal], [{ name: TARGET, luns: [{ sizeBytes: LUN_BYTES }] }]);
  const runs: Result[] = [];
  try {
    const url = `iscsi://${portal}/${TARGET}/1`;
    const device = await new Initiator().connect({ target: TARGET, portal, lun: 1 });
    try {
      await device.write(0, Buffer.alloc(LUN_BYTES / 4, 1)); // touch the tmpfs pages so reads are not of holes
      for (let round = 0; round < rounds; round++) {
        for (const bs of [4096, 65536]) {
          runs.push(await iscsiPerf(url, bs, seconds));
          runs.push(await ours(device, 'read', bs, seconds));
          runs.push(await ours(device, 'write', bs, seconds));
        }
      }
    } finally {
      await device.close();
    }
  } finally {
    await tgtd.stop();
  }
  const results = medians(runs);
  const ratios = [4096, 65536].map((bs) => {
    const them = results.find((r) => r.tool === 'iscsi-perf' && r.bs === bs)!;
    const us = results.find((r) => r.tool === 'iscsi-mpio' && r.rw === 'read' && r.bs === bs)!;
    return { bs, throughputRatio: us.MBps / them.MBps, iopsRatio: us.iops / them.iops, cpuPerGBRatio: us.cpuSecondsPerGB / them.cpuSecondsPerGB };
  });
  if (json) {
    process.stdout.write(JSON.stringify({ runs, medians: results, ratios }, null, 2) + '\n');
    return;
  }
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`one path, tgtd on loopback, QD ${QD}, ${seconds} s per run (sequential), medians of ${rounds} rounds`);
  console.log(`${'tool'.padEnd(11)} ${pad('rw', 5)} ${pad('bs', 6)} ${pad('MB/s', 8)} ${pad('IOPS', 8)} ${pad('CPU s/GB', 9)}`);
  for (const r of results) {
    console.log(`${r.tool.padEnd(11)} ${pad(r.rw, 5)} ${pad(r.bs / 1024 + 'k', 6)} ${pad(r.MBps.toFixed(1), 8)} ${pad(Math.round(r.iops), 8)} ${pad(r.cpuSecondsPerGB.toFixed(3), 9)}`);
  }
  for (const r of ratios) {
    console.log(`read ${r.bs / 1024}k: iscsi-mpio / iscsi-perf = ${r.throughputRatio.toFixed(2)}x throughput, ${r.iopsRatio.toFixed(2)}x IOPS, ${r.cpuPerGBRatio.toFixed(2)}x CPU per GB`);
  }
}

/** Per tool, direction and size, the run with the median throughput, its CPU per GB the median of that group's. */
function medians(runs: Result[]): Result[] {
  const groups = new Map<string, Result[]>();
  for (const r of runs) {
    const key = `${r.tool} ${r.rw} ${r.bs}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return [...groups.values()].map((group) => {
    const mid = [...group].sort((a, b) => a.MBps - b.MBps)[Math.floor(group.length / 2)];
    return { ...mid, cpuSecondsPerGB: middle(group.map((r) => r.cpuSecondsPerGB)) };
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
