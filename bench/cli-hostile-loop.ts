// `tsx bench/cli-hostile-loop.ts [runs]`: `iscsi-mpio read` against a target that sends 64 KiB of random bytes right
// after the final Login Response, `runs` times (default 200) with one core kept busy. Every run must exit non-zero
// with exactly one line on stderr; the script prints the tally and exits 1 if any run did not.
import { randomBytes } from 'node:crypto';
import { cliLoop } from '../test/support/hostile-target/cli-runs';
import { HostileTarget } from '../test/support/hostile-target/hostile-target';

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 200);
  const target = await HostileTarget.start({
    address: '127.42.0.200',
    script: async (peer) => { peer.raw(randomBytes(64 * 1024)); await peer.waitClosed(); },
  });
  try {
    const started = Date.now();
    const summary = await cliLoop(['read', target.url, '--offset', '0', '--length', '65536', '--timeout', '5000'], runs, 2, (i, r) => {
      if ((i + 1) % 20 === 0) process.stdout.write(`  ${i + 1} runs\n`);
      if (r.code === 0) process.stdout.write(`  run ${i}: EXIT 0, ${r.stdoutBytes} bytes out\n`);
    });
    console.log(`runs: ${summary.runs} in ${((Date.now() - started) / 1000).toFixed(1)} s, one core busy`);
    console.log(`exit codes: ${JSON.stringify(summary.byCode)}`);
    console.log(`exited 0: ${summary.exitedZero.length}`);
    console.log(`stderr not exactly one line: ${summary.badStderr.length}`);
    for (const r of summary.badStderr.slice(0, 3)) console.log(`  e.g. ${JSON.stringify(r.stderr)}`);
    console.log('stderr lines (numbers as N):');
    for (const [line, n] of Object.entries(summary.stderrSamples).sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${line}`);
    process.exitCode = summary.exitedZero.length === 0 && summary.badStderr.length === 0 ? 0 : 1;
  } finally {
    await target.stop();
  }
}

void main();
