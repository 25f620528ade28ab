// Performance target "Through NBD (fio's nbd engine) >= 90% of the in-process bench over the same paths"
// (DESIGN.md): 2 veth pairs shaped with tbf 1gbit (namespace and veths prefixed "sv", 198.18.61.0/24), the embedded
// target in the namespace, and in the same run, round by round: `iscsi-mpio bench` (64 KiB sequential, QD 32,
// round-robin over both paths) and fio's nbd engine (64 KiB sequential, iodepth 32) against `iscsi-mpio serve`'s
// export over the same two paths. Medians of 3 rounds, reads and writes. Root only (skips with a message). Run it
// under `flock /tmp/bench.lock` (npm run bench:nbd does) so no other bench shares the 2 cores.
// `--time S` per run (default 5), `--rounds N` (default 3), `--json`.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cliCommand } from '../lib/bench/cli-child';
import { startTargetInNamespace } from '../lib/bench/netns-target';
import { requireRootForNetns, ShapedPaths } from '../lib/bench/shaped-paths';

const run = promisify(execFile);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function cli(args: string[]): Promise<string> {
  const c = cliCommand(args);
  const { stdout } = await run(c.command, c.args, { cwd: c.cwd, maxBuffer: 16 << 20 });
  return stdout;
}

async function main(): Promise<void> {
  const seconds = Number(arg('--time', '5'));
  const rounds = Number(arg('--rounds', '3'));
  const json = process.argv.includes('--json');
  try {
    requireRootForNetns('bench:nbd');
    await run('fio', ['--version']);
  } catch (error) {
    console.log(`bench:nbd skipped: ${(error as Error).message}`);
    return;
  }
  const net = ShapedPaths.create({ paths: 2, id: 61, prefix: 'sv' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-'));
  let serve: ReturnType<typeof spawn> | undefined;
  const cleanup = () => { serve?.kill('SIGKILL'); net.destroy(); fs.rmSync(dir, { recursive: true, force: true }); };
  process.once('SIGINT', () => { cleanup(); process.exit(130); });
  const results: Record<string, { bench: number[]; nbd: number[] }> = { read: { bench: [], nbd: [] }, write: { bench: [], nbd: [] } };
  try {
    const [p0, p1] = net.paths;
    const target = await startTargetInNamespace(net, ['--group', `${p0.peerAddress}:3259`, '--portal', `${p0.peerAddress}:3260`, '--portal', `${p1.peerAddress}:3260`, '--lun', '512M']);
    try {
      const url = `iscsi://${p0.peerAddress}:3260/${target.summary.iqn}/1`;
      const paths = ['--path', `${p0.hostAddress}@${p0.hostDevice}`, '--path', `${p1.hostAddress}@${p1.hostDevice}=${p1.peerAddress}:3260`];
      await cli(['node', 'add', url, ...paths, '--policy', 'round-robin', '--name', 'bench', '--config', dir]);
      const c = cliCommand(['serve', '--config', dir]);
      serve = spawn(c.command, c.args, { cwd: c.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      serve.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
      for (let i = 0; !/ready: 1 of 1/.test(log); i++) {
        if (i > 400 || serve.exitCode !== null) throw new Error(`serve did not come up: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const uri = `nbd+unix:///bench?socket=${path.join(dir, 'run', 'bench.nbd')}`;
      // Bytes each served path carried so far: the NBD runs must use both paths, as the bench does.
      const pathBytes = async () => (JSON.parse(await cli(['status', '--json', '--config', dir])).nodes[0].device.paths as Array<{ state: string; bytesRead: number; bytesWritten: number }>);
      const states = (await pathBytes()).map((p) => p.state);
      if (states.some((s) => s !== 'active')) throw new Error(`the served device's paths are ${states.join(', ')}, not both active`);
      for (let round = 1; round <= rounds; round++) {
        for (const rw of ['write', 'read'] as const) { // write first: reads then come from written pages
          const b = JSON.parse(await cli(['bench', url, ...paths, '--policy', 'round-robin', '--rw', rw, '--bs', '64k', '--qd', '32', '--time', String(seconds), '--json']));
          const benchMBps = b.runs.at(-1).MBps as number;
          const { stdout } = await run('fio', ['--name=nbd', '--ioengine=nbd', `--uri=${uri}`, `--rw=${rw}`, '--bs=64k', '--iodepth=32', '--size=512M',
            '--time_based', `--runtime=${seconds}`, '--output-format=json'], { maxBuffer: 16 << 20 });
          const job = JSON.parse(stdout.slice(stdout.indexOf('{'))).jobs[0];
          const split = (await pathBytes()).map((p) => (rw === 'read' ? p.bytesRead : p.bytesWritten));
          if (job.error !== 0) throw new Error(`fio ${rw} failed: error ${job.error}`);
          const nbdMBps = Math.round(job[rw].bw_bytes / 1e5) / 10;
          results[rw].bench.push(benchMBps);
          results[rw].nbd.push(nbdMBps);
          if (!json) process.stderr.write(`  round ${round} ${rw}: iscsi-mpio bench ${benchMBps} MB/s, fio nbd ${nbdMBps} MB/s (served paths so far: ${split.map((b) => `${Math.round(b / 1e6)} MB`).join(' / ')})\n`);
        }
      }
      serve.kill('SIGTERM');
      await new Promise((r) => serve!.once('exit', r));
    } finally {
      await target.stop();
    }
  } finally {
    cleanup();
  }
  const rows = (['read', 'write'] as const).map((rw) => {
    const bench = median(results[rw].bench);
    const nbd = median(results[rw].nbd);
    return { rw, benchMBps: bench, nbdMBps: nbd, ratio: Math.round((nbd / bench) * 1000) / 1000, rounds: results[rw], meetsTarget: nbd / bench >= 0.9 };
  });
  if (json) {
    process.stdout.write(JSON.stringify({ bs: 65536, qd: 32, seconds, rate: net.rate, paths: 2, rows }, null, 2) + '\n');
    return;
  }
  console.log(`NBD vs in-process bench: 2 paths, ${net.rate} tbf each, 64 KiB sequential, QD 32, ${seconds} s per run, medians of ${rounds}`);
  console.log('   rw  bench MB/s  fio-nbd MB/s  ratio  target >= 0.90');
  for (const r of rows) console.log(`${r.rw.padStart(5)} ${r.benchMBps.toFixed(1).padStart(11)} ${r.nbdMBps.toFixed(1).padStart(13)} ${r.ratio.toFixed(3).padStart(6)}  ${r.meetsTarget ? 'met' : 'NOT met'}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
