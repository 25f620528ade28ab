// Streaming through the real CLI with bounded memory (issue 13): `iscsi-mpio write` takes SIZE (default 2 GiB) of
// pseudo-random bytes on a pipe into a file-backed LU of the embedded target (under /dev/shm), `iscsi-mpio read`
// streams it back; prints per round the CLI's MB/s as seen from outside, its peak resident memory (VmHWM of the
// CLI process, read from /proc/self/status at its exit) and whether the sha256 of what was read equals that of
// what was written; then the medians. `--size 2G`, `--rounds 3`, `--json`. Fails (exit 1) if a round reads back
// different bytes or a CLI run exceeds 150 MB resident.
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Target } from '../lib/target/target';
import { parseSize } from '../lib/units';
import { generated, runStreamingCli } from '../test/support/stream-cli';

const LIMIT_BYTES = 150e6;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Round { round: number; writeMBps: number; readMBps: number; writePeakMB: number; readPeakMB: number; identical: boolean }

async function main(): Promise<void> {
  const size = parseSize(arg('--size', '2G'), { what: '--size' });
  const rounds = Number(arg('--rounds', '3'));
  const json = process.argv.includes('--json');
  const dir = mkdtempSync('/dev/shm/iscsi-mpio-bench-stream-');
  const target = await Target.start({ portals: ['127.50.1.10:0'], luns: [{ size: size + (64 << 20), file: path.join(dir, 'lu') }], nopInterval: 0 });
  const rows: Round[] = [];
  try {
    const url = target.url(0);
    const baseline = (await runStreamingCli(['--help'])).peakKiB;
    for (let round = 1; round <= rounds; round++) {
      const w = await runStreamingCli(['write', url, '--offset', '512'], { input: generated(size, `bench-${round}`) });
      if (w.code !== 0) throw new Error(`write failed: ${w.stderr}`);
      const r = await runStreamingCli(['read', url, '--offset', '512', '--length', String(size)]);
      if (r.code !== 0) throw new Error(`read failed: ${r.stderr}`);
      const row = {
        round, writeMBps: size / w.seconds / 1e6, readMBps: size / r.seconds / 1e6,
        writePeakMB: (w.peakKiB * 1024) / 1e6, readPeakMB: (r.peakKiB * 1024) / 1e6, identical: r.sha256 === w.sha256 && r.bytes === size,
      };
      rows.push(row);
      if (!json) {
        console.log(`round ${round}: write ${row.writeMBps.toFixed(1)} MB/s peak ${row.writePeakMB.toFixed(1)} MB | read ${row.readMBps.toFixed(1)} MB/s peak ${row.readPeakMB.toFixed(1)} MB | sha256 ${row.identical ? 'identical' : 'DIFFERENT'} (${w.sha256.slice(0, 16)}…)`);
      }
    }
    const summary = {
      size, rounds, cliBaselinePeakMB: (baseline * 1024) / 1e6,
      median: {
        writeMBps: median(rows.map((x) => x.writeMBps)), readMBps: median(rows.map((x) => x.readMBps)),
        writePeakMB: median(rows.map((x) => x.writePeakMB)), readPeakMB: median(rows.map((x) => x.readPeakMB)),
      },
      maxPeakMB: Math.max(...rows.flatMap((x) => [x.writePeakMB, x.readPeakMB])),
      allIdentical: rows.every((x) => x.identical),
      rows,
    };
    if (json) console.log(JSON.stringify(summary, null, 2));
    else {
      const m = summary.median;
      console.log(`${size} bytes, median of ${rounds}: write ${m.writeMBps.toFixed(1)} MB/s, read ${m.readMBps.toFixed(1)} MB/s; ` +
        `CLI peak resident (VmHWM) write ${m.writePeakMB.toFixed(1)} MB, read ${m.readPeakMB.toFixed(1)} MB, max ${summary.maxPeakMB.toFixed(1)} MB ` +
        `(limit ${LIMIT_BYTES / 1e6} MB; \`--help\` alone: ${summary.cliBaselinePeakMB.toFixed(1)} MB); read back identical: ${summary.allIdentical}`);
    }
    if (!summary.allIdentical || summary.maxPeakMB * 1e6 > LIMIT_BYTES) process.exitCode = 1;
  } finally {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
