// A well-behaved session's throughput on the embedded target alone, then while a hostile initiator floods the same
// member portal (bench/hostile-flooder.ts in its own process and from 250 addresses of its own, as a botnet would, at
// nice 19 so that it takes spare CPU rather than the target's: on one machine the attacker's own CPU use is not
// what is measured). The session is libiscsi's
// iscsi-perf (reads, 64 KiB, 32 in flight). Medians of 3 rounds each; the ratio should be at least 0.90.
//   npm run bench:hostile-initiator [-- --seconds 5 --rounds 3]
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Target } from '../lib/target/target';
import { haveTool } from '../test/support/tools';

const arg = (name: string, fallback: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : fallback; };
const seconds = Number(arg('--seconds', '5'));
const rounds = Number(arg('--rounds', '3'));
const BLOCKS = 128; // 64 KiB reads of 512-byte blocks
const ATTACKER_ADDRESSES = '127.41.4'; // the flooder's 250 source addresses: 127.41.4.1-250

/** Bytes per second iscsi-perf measured over one run (its whole-run IOPS average × request size). */
function perf(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('iscsi-perf', ['-b', String(BLOCKS), '-m', '32', '-t', String(seconds), url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      const m = [...out.matchAll(/iops average (\d+)/g)].pop();
      if (!m) return reject(new Error(`iscsi-perf printed no average:\n${out.slice(-500)}`));
      resolve(Number(m[1]) * BLOCKS * 512);
    });
  });
}

/** Starts the flooder and resolves once it floods (starting tsx can take seconds on a busy machine). */
async function startFlooder(address: string, port: number, iqn: string): Promise<ChildProcess> {
  const script = path.join(__dirname, 'hostile-flooder.ts');
  const child = spawn('nice', ['-n', '19', process.execPath, '--import', 'tsx', script, address, String(port), iqn, ATTACKER_ADDRESSES],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const seen = (d: Buffer) => {
      out += d;
      if (!out.includes('flooding')) return;
      child.stdout!.off('data', seen);
      resolve();
    };
    child.stdout!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`the flooder exited (${code}) before flooding`)));
  });
  return child;
}

function stopFlooder(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.removeAllListeners('exit');
    child.on('close', () => resolve(out.trim()));
    child.kill('SIGTERM');
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mbps = (bps: number) => (bps / 1e6).toFixed(1);

async function main(): Promise<void> {
  if (!haveTool('iscsi-perf')) throw new Error('iscsi-perf (libiscsi-bin) is needed');
  const target = await Target.start({ portals: ['127.41.3.1:0'], luns: ['256M'], nopInterval: 0 });
  const warnings: string[] = [];
  target.on('warning', (e: Error) => { if (warnings.length < 5) warnings.push(e.message); });
  try {
    const m = target.members[0];
    const url = target.url(0);
    console.log(`iscsi-perf reads, 64 KiB, 32 in flight, ${seconds} s per round, ${rounds} rounds; target member ${m.address}:${m.port}`);
    const alone: number[] = [];
    const flooded: number[] = [];
    // Rounds alternate, so that a machine busy with something else weighs on both sides alike.
    for (let r = 0; r < rounds; r++) {
      alone.push(await perf(url));
      console.log(`  round ${r + 1} alone:           ${mbps(alone[r])} MB/s`);
      const flooder = await startFlooder(m.address, m.port, target.iqn);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the flood is in full swing before we measure
      try {
        flooded.push(await perf(url));
      } finally {
        const attacker = await stopFlooder(flooder);
        console.log(`  round ${r + 1} under the flood: ${mbps(flooded[r] ?? 0)} MB/s   attacker sent ${attacker}`);
      }
    }
    const resources = target.resources();
    console.log(`target: peak scratch ${resources.peakBufferedBytes} bytes, commands refused ${resources.refusedCommands}, ` +
      `immediate commands rejected ${resources.rejectedImmediateCommands}, logins evicted ${resources.evictedLogins}, ` +
      `connections refused ${resources.refusedConnections}, data phase errors ${resources.dataPhaseErrors}`);
    const a = median(alone);
    const f = median(flooded);
    console.log(`median alone ${mbps(a)} MB/s, under the flood ${mbps(f)} MB/s, ratio ${(f / a).toFixed(3)} (target >= 0.90)`);
    if (warnings.length) console.log(`first target warnings: ${warnings.join(' | ')}`);
  } finally {
    await target.stop();
  }
}

main().catch((e) => { console.error(`hostile-initiator: ${(e as Error).message}`); process.exitCode = 1; });
