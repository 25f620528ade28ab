// libiscsi's conformance suite (iscsi-test-cu --test=ALL --dataloss, two portals so the multipath tests run)
// against the embedded target and against tgtd, counts side by side.
//
//   npm run conformance [-- --json] [-- --test=SCSI.Read10]
//
// Needs iscsi-test-cu (libiscsi-bin); tgtd/tgtadm (tgt) for the comparison column, skipped with a note when absent.
// Everything listens on 127.0.0.x with ports chosen at run time and is stopped on the way out.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Target } from '../lib/target/target';
import { haveTool, runTool } from '../test/support/tools';

interface Counts { suites: number; tests: number; passed: number; failed: number; skipped: number; failedTests: string[] }

const json = process.argv.includes('--json');
const testSpec = process.argv.find((a) => a.startsWith('--test='))?.slice(7) ?? 'ALL';
const LUN_BYTES = 256 * 1024 * 1024;

/** Parses CUnit's run summary and the names of failed tests. */
export function parseCunit(output: string): Counts {
  const row = (kind: string) => {
    const m = new RegExp(`^\\s*${kind}\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)\\s+(\\d+)`, 'm').exec(output);
    if (!m) throw new Error(`iscsi-test-cu printed no "${kind}" summary row:\n${output.slice(-2000)}`);
    return { total: Number(m[1]), ran: Number(m[2]), passed: m[3] === 'n/a' ? 0 : Number(m[3]), failed: Number(m[4]) };
  };
  const suites = row('suites');
  const tests = row('tests');
  const failedTests: string[] = [];
  let suite = '';
  let current = '';
  const fail = () => { if (current && !failedTests.includes(current)) failedTests.push(current); };
  for (const line of output.split('\n')) {
    const s = /^Suite: (\S+)/.exec(line);
    if (s) suite = s[1];
    const t = /^\s+Test: (\S+) \.\.\./.exec(line);
    if (t) current = `${suite}.${t[1]}`;
    // CUnit ends a failed test with "FAILED" alone, either right after "..." or on a line of its own.
    if ((t && /\.\.\.\s*FAILED\s*$/.test(line)) || line.trim() === 'FAILED') fail();
  }
  const skipped = (output.match(/\[SKIPPED\]/g) ?? []).length;
  return { suites: suites.ran, tests: tests.ran, passed: tests.passed, failed: tests.failed, skipped, failedTests };
}

async function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, address, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function ours(): Promise<Counts> {
  const target = await Target.start({ portals: ['127.0.0.61:0', '127.0.0.62:0'], luns: [LUN_BYTES] });
  try {
    const output = (await runTool('iscsi-test-cu', [`--test=${testSpec}`, '--dataloss', target.url(0), target.url(1)], 600_000)).out;
    return parseCunit(output);
  } finally {
    await target.stop();
  }
}

async function tgtd(): Promise<Counts | string> {
  if (!haveTool('tgtd') || !haveTool('tgtadm')) return 'tgtd not installed (apt-get install tgt)';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conformance-'));
  const control = 100 + Math.floor(Math.random() * 800);
  const [a, b] = [await freePort('127.0.0.63'), await freePort('127.0.0.64')];
  const daemon = spawn('tgtd', ['-f', '-C', String(control), '--iscsi', `portal=127.0.0.63:${a}`], { stdio: 'ignore' });
  const adm = (...args: string[]) => {
    const r = spawnSync('tgtadm', ['-C', String(control), ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tgtadm ${args.join(' ')}: ${r.stderr || r.stdout}`);
  };
  try {
    const iqn = 'iqn.2024-01.dev.iscsi-mpio:tgtd-conformance';
    for (let i = 0; ; i++) {
      try { adm('--lld', 'iscsi', '--op', 'show', '--mode', 'target'); break; } catch (e) { if (i > 50) throw e; await new Promise((r) => setTimeout(r, 100)); }
    }
    adm('--lld', 'iscsi', '--op', 'new', '--mode', 'portal', '--param', `portal=127.0.0.64:${b}`);
    adm('--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '1', '-T', iqn);
    const image = path.join(dir, 'lun.img');
    spawnSync('truncate', ['-s', String(LUN_BYTES), image]);
    adm('--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', image);
    adm('--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
    const output = (await runTool('iscsi-test-cu', [`--test=${testSpec}`, '--dataloss', `iscsi://127.0.0.63:${a}/${iqn}/1`, `iscsi://127.0.0.64:${b}/${iqn}/1`], 600_000)).out;
    return parseCunit(output);
  } finally {
    daemon.kill('SIGKILL');
    await new Promise((r) => daemon.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!haveTool('iscsi-test-cu')) {
    process.stderr.write('conformance: iscsi-test-cu not found (apt-get install libiscsi-bin)\n');
    process.exitCode = 2;
    return;
  }
  const mine = await ours();
  const theirs = await tgtd();
  const version = spawnSync('tgtd', ['--version'], { encoding: 'utf8' }).stdout?.trim();
  if (json) {
    process.stdout.write(JSON.stringify({ test: testSpec, embedded: mine, tgtd: theirs, tgtdVersion: version }, null, 2) + '\n');
    return;
  }
  const t = typeof theirs === 'string' ? undefined : theirs;
  const line = (name: string, a: string | number, b: string | number) => `${name.padEnd(16)}${String(a).padStart(10)}${String(b).padStart(14)}`;
  const out = [
    `iscsi-test-cu --test=${testSpec} --dataloss, two portals (multipath tests on)`,
    line('', 'embedded', `tgtd ${version ?? ''}`),
    line('suites run', mine.suites, t?.suites ?? '-'),
    line('tests run', mine.tests, t?.tests ?? '-'),
    line('passed', mine.passed, t?.passed ?? '-'),
    line('failed', mine.failed, t?.failed ?? '-'),
    line('[SKIPPED] notes', mine.skipped, t?.skipped ?? '-'),
    `embedded failed: ${mine.failedTests.join(', ') || 'none'}`,
    `tgtd failed:     ${t ? t.failedTests.join(', ') || 'none' : theirs}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((error) => {
  process.stderr.write(`conformance: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
