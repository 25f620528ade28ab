// One path against tgtd on loopback: our initiator vs libiscsi's iscsi-perf on the same target in the same run,
// sequential reads at 4 KiB and 64 KiB, QD 32. Writes: there is no read-write iscsi-perf, so our writes are paired
// with our reads on the same session (same size, same QD, the same bytes moved: `--volume`), and with
// `qemu-img convert -n` (libiscsi, qemu-block-extra) copying the same amount of random data into the same LU, and
// with raw TCP on the same loopback (iperf3: the sender's CPU per GB over the receiver's, the floor under ours).
// The tools take turns for `--rounds N` rounds (default 3); the table and the ratios are of the medians, this VM
// being noisy. Prints throughput, IOPS, CPU seconds per GB of the initiator process (ours: the whole Node
// process; theirs: the child's), and that CPU split into user time (the process's own code) and system time (the
// kernel: on loopback a sender's system time includes its peer's TCP input, which no protocol above TCP avoids).
// `--json` for machine output, `--time S` per iscsi-perf run.
// `npm run bench:single-path` runs it compiled by tsc, as users run the library (tsx's module getters cost more).
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { Initiator } from '../lib/initiator';
import type { LunDevice } from '../lib/session/lun-device';
import { haveTool, loopbackPortal, Tgtd } from '../test/support/tgtd';

const run = promisify(execFile);
const TARGET = 'iqn.2024-01.io.iscsi-mpio.bench:single-path';
const LUN_BYTES = 1 << 30;
const QD = 32;

/** Bytes each of our runs moves, per I/O size: reads and writes of one size move the same bytes. */
const VOLUME: Record<number, number> = { 4096: 256 * 2 ** 20, 65536: 2 * 2 ** 30 };
/** What qemu-img convert copies into the LU: a file of random bytes (no zero detection can skip it). */
const QEMU_BYTES = LUN_BYTES;

/** CPU per GB: `cpuSecondsPerGB` is user + system, split as `userSecondsPerGB` (the process's own code) and
 * `systemSecondsPerGB` (the kernel working for it: TCP, copies, wakeups). */
interface Result {
  tool: string; rw: 'read' | 'write'; bs: number; qd: number; seconds: number; bytes: number; MBps: number; iops: number;
  cpuSecondsPerGB: number; userSecondsPerGB: number; systemSecondsPerGB: number;
}

/** CPU per GB from user and system seconds over the bytes moved. */
function perGB(userSeconds: number, systemSeconds: number, bytes: number): Pick<Result, 'cpuSecondsPerGB' | 'userSecondsPerGB' | 'systemSecondsPerGB'> {
  const gb = bytes / 1e9;
  return { cpuSecondsPerGB: (userSeconds + systemSeconds) / gb, userSecondsPerGB: userSeconds / gb, systemSecondsPerGB: systemSeconds / gb };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function ours(device: LunDevice, rw: 'read' | 'write', bs: number, volume: number): Promise<Result> {
  const blocks = bs / 512;
  const lbas = LUN_BYTES / 512;
  const total = Math.floor(volume / bs);
  let next = 0;
  let issued = 0;
  let ios = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: QD }, async () => {
    const buffer = Buffer.alloc(bs, rw === 'write' ? 0x5a : 0);
    while (issued < total) {
      issued++;
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
    ...perGB(cpu.user / 1e6, cpu.system / 1e6, bytes),
  };
}

async function iscsiPerf(url: string, bs: number, seconds: number): Promise<Result> {
  // iscsi-perf prints "iops average N (M MB/s)" last.
  const { stdout, userSeconds, systemSeconds } = await timed(['iscsi-perf', '-m', String(QD), '-b', String(bs / 512), '-t', String(seconds), url]);
  const averages = [...stdout.matchAll(/iops average (\d+)/g)];
  const iops = Number(averages[averages.length - 1][1]);
  const bytes = iops * bs * seconds;
  return { tool: 'iscsi-perf', rw: 'read', bs, qd: QD, seconds, bytes, MBps: (iops * bs) / 1e6, iops, ...perGB(userSeconds, systemSeconds, bytes) };
}

/** Runs `argv` under bash, whose `times` builtin then prints the child's user and system CPU (no GNU time needed). */
async function timed(argv: string[]): Promise<{ stdout: string; userSeconds: number; systemSeconds: number }> {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const { stdout } = await run('bash', ['-c', `${quoted} && times`], { maxBuffer: 16 << 20 });
  // `times` prints the shell's own user/system line, then the children's: "0m1.234s 0m0.567s".
  const lines = stdout.trimEnd().split('\n');
  const children = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(lines[lines.length - 1])!;
  return {
    stdout: lines.slice(0, -2).join('\n'),
    userSeconds: Number(children[1]) * 60 + Number(children[2]),
    systemSeconds: Number(children[3]) * 60 + Number(children[4]),
  };
}

/** `qemu-img convert -n` of `source` into the LU through libiscsi: its wall time and the child's CPU. */
async function qemuConvert(source: string, url: string): Promise<Result> {
  const t0 = performance.now();
  // -S 0: no zero detection, every byte is written; -n: the LU exists. The wall time includes its start and login
  // (tens of ms against seconds of copying).
  const { userSeconds, systemSeconds } = await timed(['qemu-img', 'convert', '-n', '-S', '0', '-f', 'raw', '-O', 'raw', source, url]);
  const seconds = (performance.now() - t0) / 1000;
  return {
    tool: 'qemu-img', rw: 'write', bs: 0, qd: 0, seconds, bytes: QEMU_BYTES, MBps: QEMU_BYTES / seconds / 1e6, iops: 0,
    ...perGB(userSeconds, systemSeconds, QEMU_BYTES),
  };
}

/**
 * Raw TCP on loopback (iperf3, 64 KiB writes, one stream): the CPU per GB of the sending process and of the
 * receiving one. On loopback the sender's sendmsg also runs the receiver's TCP input (softirq on the sending CPU),
 * so a sender pays more per byte than a receiver whatever protocol runs above: the floor under our write/read ratio.
 */
async function tcpLoopback(seconds: number): Promise<Result[]> {
  const address = '127.31.0.2';
  const port = String(15500 + (process.pid % 400));
  const server = spawn('iperf3', ['-s', '-1', '-B', address, '-p', port], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const { stdout } = await run('iperf3', ['-c', address, '-p', port, '-t', String(seconds), '-l', '64K', '-J'], { maxBuffer: 16 << 20 });
    const end = JSON.parse(stdout).end;
    const bytes = end.sum_received.bytes as number;
    const wall = end.sum_received.seconds as number;
    // iperf3 reports each side's user and system CPU as percentages of the wall time.
    const row = (rw: 'read' | 'write', userPercent: number, systemPercent: number): Result => ({
      tool: 'tcp', rw, bs: 65536, qd: 1, seconds: wall, bytes, MBps: bytes / wall / 1e6, iops: 0,
      ...perGB((userPercent / 100) * wall, (systemPercent / 100) * wall, bytes),
    });
    const cpu = end.cpu_utilization_percent;
    return [row('write', cpu.host_user, cpu.host_system), row('read', cpu.remote_user, cpu.remote_system)];
  } finally {
    server.kill();
  }
}

async function main(): Promise<void> {
  const seconds = Number(arg('--time', '5'));
  const rounds = Number(arg('--rounds', '3'));
  const json = process.argv.includes('--json');
  for (const tool of ['tgtd', 'tgtadm', 'iscsi-perf', 'qemu-img', 'iperf3']) {
    if (!haveTool(tool)) throw new Error(`${tool} is not installed (apt install tgt libiscsi-bin qemu-utils qemu-block-extra iperf3)`);
  }
  const source = `/dev/shm/iscsi-mpio-bench-${process.pid}.raw`;
  fs.writeFileSync(source, crypto.randomBytes(QEMU_BYTES));
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
          runs.push(await ours(device, 'read', bs, VOLUME[bs]));
          runs.push(await ours(device, 'write', bs, VOLUME[bs]));
        }
        runs.push(await qemuConvert(source, url));
        runs.push(...await tcpLoopback(seconds));
      }
    } finally {
      await device.close();
    }
  } finally {
    await tgtd.stop();
    fs.rmSync(source, { force: true });
  }
  const results = medians(runs);
  const ratios = [4096, 65536].map((bs) => {
    const them = results.find((r) => r.tool === 'iscsi-perf' && r.bs === bs)!;
    const us = results.find((r) => r.tool === 'iscsi-mpio' && r.rw === 'read' && r.bs === bs)!;
    return { bs, throughputRatio: us.MBps / them.MBps, iopsRatio: us.iops / them.iops, cpuPerGBRatio: us.cpuSecondsPerGB / them.cpuSecondsPerGB };
  });
  const find = (tool: string, rw: string, bs: number) => results.find((r) => r.tool === tool && r.rw === rw && r.bs === bs)!;
  const writes = [4096, 65536].map((bs) => {
    const read = find('iscsi-mpio', 'read', bs);
    const write = find('iscsi-mpio', 'write', bs);
    return {
      bs, writeOverReadCpuPerGB: write.cpuSecondsPerGB / read.cpuSecondsPerGB, writeOverReadThroughput: write.MBps / read.MBps,
      writeOverReadUser: write.userSecondsPerGB / read.userSecondsPerGB, writeOverReadSystem: write.systemSecondsPerGB / read.systemSecondsPerGB,
    };
  });
  const qemu = find('qemu-img', 'write', 0);
  const writeOverQemu = find('iscsi-mpio', 'write', 65536).MBps / qemu.MBps;
  const tcpSender = find('tcp', 'write', 65536);
  const tcpReceiver = find('tcp', 'read', 65536);
  const tcpSendOverReceive = tcpSender.cpuSecondsPerGB / tcpReceiver.cpuSecondsPerGB;
  const tcpSystemSendOverReceive = tcpSender.systemSecondsPerGB / tcpReceiver.systemSecondsPerGB;
  if (json) {
    process.stdout.write(JSON.stringify({ runs, medians: results, ratios, writes, writeOverQemu, tcpSendOverReceive, tcpSystemSendOverReceive }, null, 2) + '\n');
    return;
  }
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`one path, tgtd on loopback, QD ${QD}, iscsi-perf ${seconds} s per run, ours ${VOLUME[4096] / 2 ** 20} MiB (4k) / ${VOLUME[65536] / 2 ** 20} MiB (64k) per run, qemu-img ${QEMU_BYTES >> 20} MiB (sequential), medians of ${rounds} rounds, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${'tool'.padEnd(11)} ${pad('rw', 5)} ${pad('bs', 6)} ${pad('MB/s', 8)} ${pad('IOPS', 8)} ${pad('CPU s/GB', 9)} ${pad('user', 6)} ${pad('system', 6)}`);
  for (const r of results) {
    console.log(`${r.tool.padEnd(11)} ${pad(r.rw, 5)} ${pad(r.bs ? r.bs / 1024 + 'k' : '-', 6)} ${pad(r.MBps.toFixed(1), 8)} ${pad(Math.round(r.iops), 8)} ${pad(r.cpuSecondsPerGB.toFixed(3), 9)} ${pad(r.userSecondsPerGB.toFixed(3), 6)} ${pad(r.systemSecondsPerGB.toFixed(3), 6)}`);
  }
  for (const r of ratios) {
    console.log(`read ${r.bs / 1024}k: iscsi-mpio / iscsi-perf = ${r.throughputRatio.toFixed(2)}x throughput, ${r.iopsRatio.toFixed(2)}x IOPS, ${r.cpuPerGBRatio.toFixed(2)}x CPU per GB`);
  }
  for (const w of writes) {
    console.log(`write ${w.bs / 1024}k / read ${w.bs / 1024}k (iscsi-mpio, same session): ${w.writeOverReadCpuPerGB.toFixed(2)}x CPU per GB (user ${w.writeOverReadUser.toFixed(2)}x, system ${w.writeOverReadSystem.toFixed(2)}x), ${w.writeOverReadThroughput.toFixed(2)}x throughput`);
  }
  console.log(`TCP alone on this host's loopback (iperf3, 64 KiB): the sender pays ${tcpSendOverReceive.toFixed(2)}x the receiver's CPU per GB (system ${tcpSystemSendOverReceive.toFixed(2)}x)`);
  const write64 = writes.find((w) => w.bs === 65536)!.writeOverReadCpuPerGB;
  console.log(`write 64k / read 64k CPU per GB over TCP's own sender/receiver ratio: ${(write64 / tcpSendOverReceive).toFixed(2)}x`);
  console.log(`write 64k: iscsi-mpio / qemu-img convert = ${writeOverQemu.toFixed(2)}x throughput`);
}

/** Per tool, direction and size, the run with the median throughput, each CPU per GB figure the median of that group's. */
function medians(runs: Result[]): Result[] {
  const groups = new Map<string, Result[]>();
  for (const r of runs) {
    const key = `${r.tool} ${r.rw} ${r.bs}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return [...groups.values()].map((group) => {
    const mid = [...group].sort((a, b) => a.MBps - b.MBps)[Math.floor(group.length / 2)];
    return {
      ...mid,
      cpuSecondsPerGB: middle(group.map((r) => r.cpuSecondsPerGB)),
      userSecondsPerGB: middle(group.map((r) => r.userSecondsPerGB)),
      systemSecondsPerGB: middle(group.map((r) => r.systemSecondsPerGB)),
    };
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
