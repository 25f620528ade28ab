// The demo end to end: `iscsi-mpio demo --json` as a child process (the CLI users run) on its paced loopback
// array, checked for what DESIGN.md says it shows; and the walkthrough in-process on an array that cannot give two
// member ports, which must fail at the login step, name it, and still log out and stop the array.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { EXIT } from '../lib/cli/exit-codes';
import { Target } from '../lib/target/target';
import type { DemoTopology } from '../lib/demo/topology';
import { runWalkthrough, type DemoReport } from '../lib/demo/walkthrough';
import { isRoot, requireRoot, requireTools } from './support/tools';

const MAIN = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const NET = `127.${70 + (process.pid % 30)}.${((process.pid >> 5) + 7) % 250}`;

function cli(args: string[], options: SpawnOptions = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [MAIN, ...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
  });
}

describe('demo: the seed walkthrough', function () {
  this.timeout(90_000);

  /** `demo --json --time 2`: its report, once it exited 0. */
  async function demoReport(): Promise<DemoReport> {
    const { stdout, stderr, code } = await cli(['demo', '--json', '--time', '2']);
    assert.equal(code, 0, `exit code (stderr: ${stderr})`);
    return JSON.parse(stdout) as DemoReport;
  }

  it('demo --json: every step ok, two paths on different member ports, failover on one path, round-robin on both, ~2x', async () => {
    let report = await demoReport();
    // Both measurements are 2 s of one process that is also the array: a stall of the machine's own (one CI run
    // measured 1.25x once, against 1.93-1.98x in six runs after) gets one more run, said in the output. A demo that
    // does not show the speedup fails both.
    if (!(report.speedup! > 1.4)) {
      console.log(`      round-robin over failover was ${report.speedup}x; running the demo once more`);
      report = await demoReport();
    }
    assert.deepEqual(report.steps.map((s) => s.name), [
      'start-target', 'discover', 'login', 'failover-paths', 'measure-failover', 'set-round-robin', 'measure-round-robin', 'netstat', 'logout', 'stop-target',
    ]);
    for (const s of report.steps) assert.ok(s.ok, `step ${s.name}: ${s.detail}`);
    assert.equal(report.failed, null);

    const [failover, roundRobin] = report.measurements;
    assert.equal(failover.policy, 'failover');
    assert.equal(roundRobin.policy, 'round-robin');
    // Both measurements ran over the same two sessions, landed on two different member ports.
    for (const m of [failover, roundRobin]) {
      assert.equal(m.paths.length, 2);
      assert.notEqual(m.paths[0].remote, m.paths[1].remote, `${m.policy}: the paths use different member ports`);
    }
    assert.equal(failover.paths.filter((p) => p.bytes > 0).length, 1, 'failover moved bytes on exactly one path');
    assert.equal(failover.paths.filter((p) => p.state === 'standby').length, 1, 'the other path stayed standby');
    for (const p of roundRobin.paths) assert.ok(p.bytes > 0, `round-robin moved bytes on path ${p.id}`);
    for (const m of [failover, roundRobin]) assert.equal(m.paths.reduce((a, p) => a + p.bytes, 0), m.bytes, `${m.policy}: path bytes sum to the total`);
    // One path is bounded by its member's 1 Gbit/s pacing (125 MB/s payload; slack for the bucket's burst).
    assert.ok(failover.MBps > 0 && failover.MBps <= 125 * 1.2, `failover ${failover.MBps} MB/s within one paced 1 Gbit/s port`);
    assert.equal(report.speedup, Math.round((roundRobin.MBps / failover.MBps) * 100) / 100);
    assert.ok(report.speedup! > 1.4, `round-robin over failover ${report.speedup}x (loose bound; about 1.9x expected)`);
    // The netstat step named both connections, each to its own port.
    const netstat = report.steps.find((s) => s.name === 'netstat')!;
    for (const p of roundRobin.paths) assert.ok(netstat.detail.includes(`-> ${p.remote}`), `netstat shows the connection to ${p.remote}`);
  });

  it('runs as an unprivileged user on loopback, and refuses --netns there with a clear error', async () => {
    // As root the CLI becomes nobody; run without root, the suite already is unprivileged.
    const nobody = isRoot ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' } } : {};
    const demo = await cli(['demo', '--json', '--time', '1'], nobody);
    assert.equal(demo.code, 0, demo.stderr);
    const report = JSON.parse(demo.stdout) as DemoReport;
    assert.equal(report.failed, null);
    assert.ok(report.steps.every((s) => s.ok));
    const netns = await cli(['demo', '--netns'], nobody);
    assert.equal(netns.code, EXIT.access);
    assert.match(netns.stderr, /demo --netns needs root/);
  });

  it('demo --netns (root): the same steps over two tbf-shaped veth paths, and nothing left behind', async function () {
    requireRoot(this, 'demo --netns: network namespaces, veth, tc');
    requireTools(this, 'ip', 'tc');
    const ours = () => new Set(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter((n) => /^imp\d+$/.test(n)));
    const before = ours();
    const { stdout, stderr, code } = await cli(['demo', '--netns', '--json', '--time', '2']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as DemoReport;
    for (const s of report.steps) assert.ok(s.ok, `step ${s.name}: ${s.detail}`);
    assert.match(report.steps[0].detail, /^group 198\.1[89]\./, 'the array is on the benchmarking range');
    const [failover, roundRobin] = report.measurements;
    assert.equal(failover.paths.filter((p) => p.bytes > 0).length, 1);
    for (const p of roundRobin.paths) assert.ok(p.bytes > 0, `round-robin moved bytes on path ${p.id}`);
    // tbf 1gbit: one path cannot carry more than the link (125 MB/s of payload at most).
    assert.ok(failover.MBps <= 125, `failover ${failover.MBps} MB/s within one 1 Gbit/s link`);
    assert.ok(report.speedup! > 1.4, `speedup ${report.speedup}x (loose bound)`);
    const left = [...ours()].filter((n) => !before.has(n));
    assert.deepEqual(left, [], 'no namespace of the demo is left');
  });

  it('names the step that fails (one member port: both logins land on it) and still logs out and stops the array', async () => {
    const target = await Target.start({ group: `${NET}.10:0`, portals: [`${NET}.11:0`], luns: ['8M'], nopInterval: 0 });
    const group = target.group!;
    let closed = 0;
    const topology: DemoTopology = {
      description: ['one member only'], iqn: target.iqn, lun: 1, group: { address: group.address, port: group.port },
      members: target.members.map((m) => `${m.address}:${m.port}`),
      paths: [{ sourceAddress: `${NET}.21` }, { sourceAddress: `${NET}.22` }],
      sessionCount: () => target.sessions().length,
      close: async () => { closed++; await target.stop(); },
    };
    try {
      const report = await runWalkthrough(topology, { seconds: 1 });
      assert.equal(report.failed, 'login');
      assert.deepEqual(report.steps.map((s) => [s.name, s.ok]), [['start-target', true], ['discover', true], ['login', false], ['logout', true], ['stop-target', true]]);
      assert.match(report.steps[2].detail, /both paths landed on the same member port/);
      assert.deepEqual(report.measurements, []);
      assert.equal(report.speedup, null);
      assert.equal(closed, 1);
      assert.equal(target.sessions().length, 0, 'the sessions were logged out');
    } finally {
      await target.stop();
    }
  });
});
