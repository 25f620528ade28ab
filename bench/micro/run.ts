// Microbenchmark runner: `npm run bench:micro [-- --json] [--runs N] [--filter REGEX] [--max-time S]`.
// Runs every suite file in this folder (each exports `suite`, see suite.ts) with benchmark.js and prints ops/s,
// GB/s and, where a group names reference cases, each case's rate as a fraction of the fastest reference.
// With --runs N every case runs N times (interleaved, so drift hits all cases alike) and the median is reported.
// --json prints only a JSON array [{name, hz, bytesPerSec}] on stdout.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Benchmark from 'benchmark';
import { MicroCase, MicroCaseOptions, MicroSuite, sinkSnapshot } from './suite';

interface Result { name: string; hz: number; bytesPerSec: number | null }

const RUNNER_FILES = new Set(['run.ts', 'suite.ts']);

function loadSuites(): Array<{ suite: MicroSuite; cases: MicroCase[] }> {
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !RUNNER_FILES.has(f)).sort();
  const seen = new Set<string>();
  const suites = [];
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const suite = (require(path.join(__dirname, file)) as { suite?: MicroSuite }).suite;
    if (!suite) throw new Error(`bench/micro/${file} does not export a 'suite' (see bench/micro/suite.ts)`);
    const cases: MicroCase[] = [];
    suite.cases((name: string, fn: () => void, options: MicroCaseOptions = {}) => {
      if (seen.has(name)) throw new Error(`bench/micro/${file}: duplicate case name '${name}'`);
      seen.add(name);
      cases.push({ name, fn, ...options });
    });
    suites.push({ suite, cases });
  }
  return suites;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measure(c: MicroCase, maxTime: number): { hz: number; rme: number } {
  const bench = new Benchmark(c.name, c.fn, { maxTime, minSamples: 5 });
  bench.run();
  const error = (bench as unknown as { error?: Error }).error;
  if (error) throw new Error(`case '${c.name}' failed: ${error.message}`);
  return { hz: bench.hz, rme: bench.stats.rme };
}

function formatTable(cases: MicroCase[], hz: Map<string, number>, rme: Map<string, number>): string {
  const fastestReference = new Map<string, number>();
  for (const c of cases)
    if (c.reference && c.group) fastestReference.set(c.group, Math.max(fastestReference.get(c.group) ?? 0, hz.get(c.name)!));
  const width = Math.max(...cases.map((c) => c.name.length));
  const lines = cases.map((c) => {
    const rate = hz.get(c.name)!;
    const gbps = c.bytesPerOp ? `${((rate * c.bytesPerOp) / 1e9).toFixed(2).padStart(7)} GB/s` : ' '.repeat(12);
    const best = c.group ? fastestReference.get(c.group) : undefined;
    const ratio = best ? `  ${(rate / best).toFixed(3).padStart(6)}x of fastest native` : '';
    const ops = Math.round(rate).toLocaleString('en-US').padStart(13);
    return `  ${c.name.padEnd(width)} ${ops} ops/s ±${rme.get(c.name)!.toFixed(1).padStart(4)}% ${gbps}${ratio}`;
  });
  return lines.join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      runs: { type: 'string', default: '1' },
      filter: { type: 'string' },
      'max-time': { type: 'string', default: '1' },
    },
  });
  const runs = Number(values.runs);
  const maxTime = Number(values['max-time']);
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got '${values.runs}'`);
  if (!(maxTime > 0)) throw new RangeError(`--max-time must be a positive number of seconds, got '${values['max-time']}'`);
  const filter = values.filter ? new RegExp(values.filter) : undefined;

  const suites = loadSuites()
    .map(({ suite, cases }) => ({ suite, cases: cases.filter((c) => !filter || filter.test(c.name)) }))
    .filter(({ cases }) => cases.length > 0);
  const samples = new Map<string, number[]>();
  const rmes = new Map<string, number[]>();
  for (let run = 1; run <= runs; run++) {
    for (const { suite, cases } of suites) {
      if (!values.json) process.stderr.write(`run ${run}/${runs}: ${suite.name} (${cases.length} cases)\n`);
      for (const c of cases) {
        const { hz, rme } = measure(c, maxTime);
        samples.set(c.name, [...(samples.get(c.name) ?? []), hz]);
        rmes.set(c.name, [...(rmes.get(c.name) ?? []), rme]);
      }
    }
  }

  const hz = new Map([...samples].map(([name, list]) => [name, median(list)]));
  const rme = new Map([...rmes].map(([name, list]) => [name, median(list)]));
  if (values.json) {
    const results: Result[] = suites.flatMap(({ cases }) =>
      cases.map((c) => ({ name: c.name, hz: hz.get(c.name)!, bytesPerSec: c.bytesPerOp ? hz.get(c.name)! * c.bytesPerOp : null })),
    );
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  // The load average says whether other work shared the CPUs: on a busy machine every rate here reads low.
  const load = os.loadavg()[0].toFixed(2);
  process.stdout.write(
    `node ${process.version}, ${process.arch}, ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ` +
      `load average ${load}; ${runs === 1 ? '1 run' : `median of ${runs} runs`}\n`,
  );
  for (const { suite, cases } of suites) process.stdout.write(`\n${suite.name}\n${formatTable(cases, hz, rme)}\n`);
  if (sinkSnapshot() === 0.5) process.stdout.write('\n'); // reads the sink so its writes stay observable
}

try {
  main();
} catch (error) {
  process.stderr.write(`bench:micro: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
