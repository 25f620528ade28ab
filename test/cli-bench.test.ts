// `iscsi-mpio bench` reports as fio does, run through the CLI against the embedded array (group portal, two members,
// two source addresses): latency min/mean/max and p50/p90/p99/p99.9 in the table and the JSON (the old JSON fields
// kept), path ids that stay the same across --compare's runs, a table whose columns hold every policy name, and a
// live line once a second on a terminal (util-linux `script` gives the CLI a pty) that never reaches a pipe or the
// JSON.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Target } from '../lib/target/target';
import { POLICY_NAMES } from '../lib/mpio/path-selector';
import type { BenchReport, BenchRun } from '../lib/bench/compare';
import { formatRunLine, RUN_HEADER } from '../lib/bench/table';
import { runCli, runCliInTerminal } from './support/cli';
import { requireTools } from './support/tools';

const NET = '127.64.1';
const PATHS = ['--path', `${NET}.21`, '--path', `${NET}.22`];
const SMALL = ['--bs', '4k', '--qd', '4'];

/** The live lines drawn on the terminal (`\r[...]` redraws), each with when it arrived. */
function liveLines(chunks: Array<{ at: number; text: string }>): Array<{ at: number; line: string }> {
  return chunks.flatMap((c) => c.text.split('\r').filter((s) => s.startsWith('[')).map((s) => ({ at: c.at, line: s.replace(/\x1b\[K/g, '') })));
}

function checkLatency(run: BenchRun): void {
  const l = run.latencyUs;
  assert.deepEqual(Object.keys(l).sort(), ['max', 'mean', 'min', 'p50', 'p90', 'p99', 'p99_9'], 'p50 and p99 kept, the rest added');
  assert.ok(l.min > 0, `${run.label}: min ${l.min} > 0`);
  assert.ok(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p99_9 && l.p99_9 <= l.max,
    `${run.label}: min <= p50 <= p90 <= p99 <= p99.9 <= max (${JSON.stringify(l)})`);
  assert.ok(l.min <= l.mean && l.mean <= l.max, `${run.label}: min <= mean <= max`);
}

describe('CLI: bench reports like fio', function () {
  this.timeout(90_000);
  let target: Target;
  let dir: string;
  let url: string;

  before(async () => {
    target = await Target.start({ group: `${NET}.10:0`, portals: [`${NET}.11:0`, `${NET}.12:0`], luns: ['16M'], nopInterval: 0 });
    url = target.url('group');
    dir = mkdtempSync(path.join(os.tmpdir(), 'iscsi-mpio-bench-'));
  });
  after(async () => {
    await target?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--compare --json: latency min/mean/max/p50/p90/p99/p99.9, each path keeps its id in every run, nothing but JSON', async () => {
    const r = await runCli(['bench', url, ...PATHS, ...SMALL, '--time', '0.5', '--compare', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no live line and no warning when stderr is not a terminal');
    const report = JSON.parse(r.stdout.toString()) as BenchReport;
    assert.deepEqual(report.runs.map((run) => run.label), ['path 0 alone', 'path 1 alone', 'all 2 paths']);
    for (const run of report.runs) {
      for (const key of ['paths', 'policy', 'rw', 'bs', 'qd', 'seconds', 'bytes', 'MBps', 'iops', 'latencyUs']) assert.ok(key in run, `${run.label}: ${key} kept`);
      checkLatency(run);
    }
    const [alone0, alone1, all] = report.runs;
    assert.deepEqual(alone0.paths.map((p) => [p.id, p.local]), [[0, `${NET}.21`]]);
    assert.deepEqual(alone1.paths.map((p) => [p.id, p.local]), [[1, `${NET}.22`]], 'the second path alone is path 1, not path 0');
    assert.deepEqual(all.paths.map((p) => [p.id, p.local]), [[0, `${NET}.21`], [1, `${NET}.22`]]);
  });

  it('the table fits every policy name: round-robin-subset keeps the columns, latency and each path\'s share follow each run', async () => {
    for (const policy of POLICY_NAMES) {
      const row = formatRunLine({ label: 'all 2 paths', policy, rw: 'write', bs: 65536, qd: 32, seconds: 10, ios: 1, bytes: 1, MBps: 1234.5, iops: 98765, latencyUs: { p50: 1, p99: 1, min: 1, mean: 1, max: 1, p90: 1, p99_9: 1 }, paths: [] });
      assert.equal(row.length, RUN_HEADER.length, `${policy}: the row is as wide as the header`);
      assert.equal(row.indexOf('1234.5') + '1234.5'.length, RUN_HEADER.indexOf('MB/s') + 'MB/s'.length, `${policy}: MB/s under its header`);
    }
    const r = await runCli(['bench', url, ...PATHS, ...SMALL, '--time', '0.4', '--policy', 'round-robin-subset']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.toString().trimEnd().split('\n');
    assert.ok(!r.stdout.includes('\r') && !r.stdout.includes('\x1b'), 'no terminal control on a pipe');
    assert.equal(lines[0], RUN_HEADER);
    assert.match(lines[1], /^all 2 paths\s+round-robin-subset\s+read\s+4k\s+4\s+[\d.]+\s+[\d.]+\s+\d+$/);
    assert.equal(lines[1].length, RUN_HEADER.length);
    assert.match(lines[2], /^ {4}latency µs: min [\d.]+ {2}mean [\d.]+ {2}max [\d.]+ {2}p50 [\d.]+ {2}p90 [\d.]+ {2}p99 [\d.]+ {2}p99\.9 [\d.]+$/);
    const shares = lines.slice(3).map((l) => /^ {4}path (\d) .* ([\d.]+)% +\d+ I\/Os$/.exec(l));
    assert.deepEqual(shares.map((m) => m?.[1]), ['0', '1'], `one line per path: ${lines.slice(3).join(' | ')}`);
    const total = shares.reduce((a, m) => a + Number(m![2]), 0);
    assert.ok(Math.abs(total - 100) <= 0.2, `the shares add up to 100% (${total})`);
  });

  it('on a terminal: a live line about once a second (MB/s, IOPS, each path\'s share), cleared before each run\'s row', async function () {
    requireTools(this, 'script');
    const run = await runCliInTerminal(['bench', url, ...PATHS, ...SMALL, '--time', '4.5', '--policy', 'round-robin']);
    assert.equal(run.code, 0, run.output);
    const live = liveLines(run.chunks);
    assert.ok(live.length >= 3 && live.length <= 5, `about one live line a second over 4.5 s: ${live.length}`);
    for (const { line } of live) assert.match(line, /^\[all 2 paths round-robin\] \[r [\d.]+ MB\/s \d+ IOPS\] \[path 0 \d+% path 1 \d+%\] \[\d\/4\.5 s\]$/);
    const gaps = live.slice(1).map((l, i) => l.at - live[i].at).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)];
    assert.ok(median > 700 && median < 1400, `lines come about a second apart (median gap ${median.toFixed(0)} ms; gaps ${gaps.map((g) => g.toFixed(0)).join(', ')})`);
    assert.match(run.output, /\r\x1b\[Kall 2 paths +round-robin /, 'the live line is erased, then the run\'s row is printed');
  });

  it('on a terminal with --json > file: the live line on the terminal, the file holds exactly the JSON', async function () {
    requireTools(this, 'script');
    const file = path.join(dir, 'bench.json');
    const run = await runCliInTerminal(['bench', url, ...PATHS, ...SMALL, '--time', '2.5', '--compare', '--json'], `> '${file}'`);
    assert.equal(run.code, 0, run.output);
    const labels = liveLines(run.chunks).map((l) => /^\[(.+?) (failover|round-robin)\]/.exec(l.line)?.[1]);
    assert.deepEqual([...new Set(labels)], ['path 0 alone', 'path 1 alone', 'all 2 paths'], 'each run draws its live line');
    const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    assert.equal(report.runs.length, 3);
    assert.ok(report.speedup !== null);
  });
});
