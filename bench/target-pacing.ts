// Measures the embedded target's link emulation with libiscsi's iscsi-perf (reads, 64 KiB, 32 in flight):
// one session to one member paced at 1 Gbit/s, two sessions to two members, two sessions sharing one member.
//   npx tsx bench/target-pacing.ts [--rate 1gbit] [--seconds 5]
import { spawn } from 'node:child_process';
import { Target } from '../lib/target/target';
import { parseLinkRate } from '../lib/target/link-rate';

const arg = (name: string, fallback: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : fallback; };
const rate = arg('--rate', '1gbit');
const seconds = Number(arg('--seconds', '5'));

/** Bytes per second iscsi-perf measured (it prints MiB/s and IOPS; IOPS × request size is exact). */
function perf(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('iscsi-perf', ['-b', '128', '-m', '32', '-t', String(seconds), url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      // The last "iops average" is the whole run's (the earlier ones are progress lines).
      const m = [...out.matchAll(/iops average (\d+)/g)].pop();
      if (!m) return reject(new Error(`iscsi-perf printed no average:\n${out.slice(-500)}`));
      resolve(Number(m[1]) * 128 * 512);
    });
  });
}

async function main(): Promise<void> {
  const target = await Target.start({ portals: ['127.0.0.91:0', '127.0.0.92:0'], luns: ['256M'], rate, nopInterval: 0 });
  const gbit = (bps: number) => (bps * 8 / 1e9).toFixed(3);
  try {
    console.log(`emulated link per member: ${gbit(parseLinkRate(rate) / 8)} Gbit/s; iscsi-perf reads, 64 KiB, 32 in flight, ${seconds} s`);
    const one = await perf(target.url(0));
    console.log(`one session, one member:        ${gbit(one)} Gbit/s`);
    const two = await Promise.all([perf(target.url(0)), perf(target.url(1))]);
    console.log(`two sessions, two members:      ${gbit(two[0] + two[1])} Gbit/s (${gbit(two[0])} + ${gbit(two[1])})`);
    const shared = await Promise.all([perf(target.url(0)), perf(target.url(0))]);
    console.log(`two sessions, one member:       ${gbit(shared[0] + shared[1])} Gbit/s (${gbit(shared[0])} + ${gbit(shared[1])})`);
  } finally {
    await target.stop();
  }
}

main().catch((e) => { console.error(`target-pacing: ${(e as Error).message}`); process.exitCode = 1; });
