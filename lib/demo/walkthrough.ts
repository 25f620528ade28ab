// The seed walkthrough (DESIGN.md "The demo") as numbered steps over a DemoTopology: discover the group portal,
// log in twice (each login redirected to a different member), one device with two paths under failover, measure,
// switch to round-robin live, measure again, netstat, log out. Every step checks what it claims; the first failing
// step ends the walk (logout and target stop still run) and is named in the report.
import { Initiator } from '../initiator';
import type { MultipathDevice } from '../mpio/multipath-device';
import type { PolicyName } from '../mpio/path-selector';
import { netstat, type NetstatRow } from '../offload/netstat';
import { formatPortal } from '../portal';
import { formatNetstatTable } from '../offload/netstat-table';
import { runBench, type PathTraffic } from '../bench/runner';
import { formatBytes } from '../bench/table';
import type { DemoTopology } from './topology';

export interface DemoStep { name: string; ok: boolean; detail: string }

export interface DemoMeasurement {
  policy: PolicyName;
  paths: PathTraffic[];
  MBps: number;
  iops: number;
  bytes: number;
  seconds: number;
  latencyUs: { p50: number; p99: number };
}

export interface DemoReport {
  steps: DemoStep[];
  measurements: DemoMeasurement[];
  /** Round-robin MBps over failover MBps; null when either measurement is missing. */
  speedup: number | null;
  /** The first step that failed, if any. */
  failed: string | null;
}

/** What the text output prints for a step as it finishes. */
export interface StepEvent {
  number: number;
  step: DemoStep;
  /** What the step is for, in a newcomer's words. */
  explain: string;
  /** Supporting lines (paths, tables). */
  lines: string[];
}

export interface WalkthroughOptions {
  /** Seconds per measurement (QD 32, 64 KiB sequential reads). Default 4. */
  seconds?: number;
  onStep?: (event: StepEvent) => void;
}

interface StepOutcome { detail: string; lines?: string[]; ok?: boolean }

class StepFailed extends Error {}

function check(condition: boolean, why: string): void {
  if (!condition) throw new StepFailed(why);
}

const endpoint = (p: { address: string | null; port: number | null }) => `${p.address}:${p.port}`;

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export async function runWalkthrough(topology: DemoTopology, options: WalkthroughOptions = {}): Promise<DemoReport> {
  const seconds = options.seconds ?? 4;
  const report: DemoReport = { steps: [], measurements: [], speedup: null, failed: null };
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio:demo' });
  let device: MultipathDevice | undefined;

  /** Runs one step unless an earlier one failed (`always` steps run regardless: they clean up). */
  const step = async (name: string, explain: string, body: () => Promise<StepOutcome>, always = false): Promise<void> => {
    if (report.failed && !always) return;
    let outcome: StepOutcome;
    try {
      outcome = await body();
    } catch (error) {
      outcome = { ok: false, detail: (error as Error).message };
    }
    const s: DemoStep = { name, ok: outcome.ok ?? true, detail: outcome.detail };
    report.steps.push(s);
    if (!s.ok) report.failed ??= name;
    options.onStep?.({ number: report.steps.length, step: s, explain, lines: outcome.lines ?? [] });
  };

  const measure = async (policy: PolicyName): Promise<DemoMeasurement> => {
    const r = await runBench(device!, { rw: 'read', bs: 64 * 1024, qd: 32, seconds });
    const m: DemoMeasurement = { policy, paths: r.paths, MBps: r.MBps, iops: r.iops, bytes: r.bytes, seconds: r.seconds, latencyUs: r.latencyUs };
    report.measurements.push(m);
    return m;
  };
  const split = (m: DemoMeasurement) => m.paths.map((p) => `path ${p.id} (${p.local} -> ${p.remote}, ${p.state}): ${formatBytes(p.bytes)} in ${p.ios} reads`);
  const group = formatPortal(topology.group);

  await step('start-target', 'An array: one group portal (the one address hosts are told) and its member ports.', async () =>
    ({ detail: `group ${group}, members ${topology.members.join(', ')}`, lines: topology.description }));

  await step('discover', 'SendTargets on the group portal: the array lists its target and every member port.', async () => {
    const found = await initiator.discover(topology.group, { path: topology.paths[0] });
    const t = found.find((x) => x.name === topology.iqn);
    check(t !== undefined, `the group portal did not list ${topology.iqn} (got ${found.map((x) => x.name).join(', ') || 'nothing'})`);
    const listed = t!.portals.map((p) => `${p.address}:${p.port}`);
    check(topology.members.every((m) => listed.includes(m)), `the group portal listed ${listed.join(', ')}, not every member`);
    return { detail: `${t!.name} at ${listed.join(', ')}`, lines: t!.portals.map((p) => `portal ${p.address}:${p.port} tpgt ${p.tpgt}`) };
  });

  await step('login', 'Two logins to the group portal from two source addresses; the array redirects each to a member port.', async () => {
    device = await initiator.connect({
      target: topology.iqn, portal: topology.group, lun: topology.lun, paths: topology.paths, policy: 'failover', nopIntervalMs: 60_000,
    });
    const infos = device.paths.map((p) => p.info());
    const lines = infos.map((p) => `path ${p.id}: from ${endpoint(p.local)} to ${group}, redirected to ${p.remote.address}:${p.remote.port}`);
    check(infos.length === 2, `expected 2 paths, got ${infos.length}`);
    for (const p of infos) {
      check(p.redirectedFrom === group, `path ${p.id} was not redirected from the group portal (${p.redirectedFrom ?? 'no redirect'})`);
      check(topology.members.includes(`${p.remote.address}:${p.remote.port}`), `path ${p.id} landed on ${p.remote.address}:${p.remote.port}, not a member`);
    }
    const remotes = infos.map((p) => `${p.remote.address}:${p.remote.port}`);
    check(remotes[0] !== remotes[1], `both paths landed on the same member port ${remotes[0]}`);
    return { detail: `two sessions, on member ports ${remotes.join(' and ')}`, lines };
  });

  await step('failover-paths', 'One device (grouped by the LU\'s identity) with two paths; failover sends I/O down one and keeps the other standby.', async () => {
    const d = device!;
    const states = d.paths.map((p) => p.state);
    const lines = [`device ${d.id} policy ${d.policy.name}`, ...d.paths.map((p) => `path ${p.id} -> ${p.info().remote.address}:${p.info().remote.port}: ${p.state}`)];
    check(states.filter((s) => s === 'active').length === 1 && states.filter((s) => s === 'standby').length === 1,
      `expected one active and one standby path, got ${states.join(', ')}`);
    return { detail: `device ${d.id}: paths ${states.join(', ')}`, lines };
  });

  await step('measure-failover', `${seconds} s of 64 KiB reads at queue depth 32 under failover: one path carries everything.`, async () => {
    const m = await measure('failover');
    const carried = m.paths.filter((p) => p.bytes > 0);
    check(carried.length === 1, `failover moved bytes on ${carried.length} paths, expected exactly 1`);
    return { detail: `${m.MBps} MB/s, ${m.iops} IOPS, all on path ${carried[0].id}`, lines: [`${m.MBps} MB/s, ${m.iops} IOPS, p50 ${m.latencyUs.p50} µs, p99 ${m.latencyUs.p99} µs`, ...split(m)] };
  });

  await step('set-round-robin', 'Switch the policy live (no logout): round-robin spreads I/O over every usable path.', async () => {
    const d = device!;
    d.setPolicy('round-robin');
    const states = d.paths.map((p) => p.state);
    check(states.every((s) => s === 'active'), `after the switch the paths are ${states.join(', ')}, expected all active`);
    return { detail: `policy ${d.policy.name}: paths ${states.join(', ')}`, lines: d.paths.map((p) => `path ${p.id}: ${p.state}`) };
  });

  await step('measure-round-robin', 'The same measurement under round-robin: both member ports carry I/O, so about twice the throughput.', async () => {
    const m = await measure('round-robin');
    const idle = m.paths.filter((p) => p.bytes === 0);
    check(idle.length === 0, `round-robin left path ${idle.map((p) => p.id).join(', ')} idle`);
    const failover = report.measurements.find((x) => x.policy === 'failover');
    if (failover && failover.MBps > 0) report.speedup = Math.round((m.MBps / failover.MBps) * 100) / 100;
    return {
      detail: `${m.MBps} MB/s, ${m.iops} IOPS, speedup ${report.speedup ?? '?'}x over failover`,
      lines: [`${m.MBps} MB/s, ${m.iops} IOPS, p50 ${m.latencyUs.p50} µs, p99 ${m.latencyUs.p99} µs`, ...split(m), `speedup: ${report.speedup ?? '?'}x the failover run`],
    };
  });

  await step('netstat', 'netstat --iscsi: the two TCP connections, each to a different target port, with their Offload State.', async () => {
    const locals = new Set(device!.paths.map((p) => endpoint(p.info().local)));
    const rows: NetstatRow[] = netstat({ iscsi: true }).filter((r) => locals.has(`${r.local.address}:${r.local.port}`));
    const remotes = new Set(rows.map((r) => `${r.remote.address}:${r.remote.port}`));
    const lines = formatNetstatTable(rows, { iscsi: true }).split('\n');
    check(rows.length === 2, `netstat shows ${rows.length} of our 2 connections`);
    check(remotes.size === 2, 'both connections go to the same target port');
    return { detail: rows.map((r) => `${r.local.address}:${r.local.port} -> ${r.remote.address}:${r.remote.port} ${r.state} ${r.offloadState}`).join('; '), lines };
  });

  await step('logout', 'Log both sessions out; the array drops them.', async () => {
    if (!device) return { detail: 'nothing was logged in' };
    await device.close();
    device = undefined;
    const gone = await until(() => (topology.sessionCount() ?? 0) === 0, 3000);
    check(gone, `the array still has ${topology.sessionCount()} sessions after logout`);
    return { detail: topology.sessionCount() === undefined ? 'both sessions logged out' : 'both sessions logged out; the array has none left' };
  }, true);

  await step('stop-target', 'Stop the array.', async () => {
    await topology.close();
    return { detail: 'stopped' };
  }, true);

  return report;
}
