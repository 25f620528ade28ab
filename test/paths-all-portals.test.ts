// Portal layouts against tgtd with two portals and no redirect: `--all-portals` (the mesh) logs two local paths into
// both portals the target's SendTargets lists (2 × 2 sessions, all active under round-robin, every one carrying
// data, the bytes verify), `--pair` takes local path i to portal i. Through the library and read/write/bench/inquiry.
// tgtd answers SendTargets with only the portal it was asked on, so its second portal is named with
// --discovery-portal (discoveryPortals in the library); without it the layout covers the one portal tgtd listed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Initiator } from '../lib/initiator';
import { PathPlanError, planPaths } from '../lib/path-plan';
import { runCli } from './support/cli';
import { requireTools, Tgtd } from './support/tgtd';

const NET = '127.60.1';
const IQN = 'iqn.2024-01.test:paths2-all-portals';
const PORTALS = [`${NET}.1:3260`, `${NET}.2:3260`];
const LOCALS = [`${NET}.11`, `${NET}.12`];
const URL = `iscsi://${PORTALS[0]}/${IQN}/1`;
const MESH = LOCALS.flatMap((l) => PORTALS.map((p) => `${l}>${p}`));
const PATH_ARGS = [...LOCALS.flatMap((l) => ['--path', l]), '--discovery-portal', PORTALS[1]];

interface PathOut { local: { address: string }; portal: string; remote: { address: string; port: number }; state: string; redirectedFrom: unknown; bytesRead: number; bytesWritten: number }
const reached = (paths: PathOut[]) => paths.map((p) => `${p.local.address}>${p.remote.address}:${p.remote.port}`);

/** The initiator address of every connection tgtd holds. */
async function nexusAddresses(tgtd: Tgtd): Promise<string[]> {
  const { stdout } = await tgtd.tgtadm('--lld', 'iscsi', '--op', 'show', '--mode', 'target');
  return [...stdout.matchAll(/IP Address: (\S+)/g)].map((m) => m[1]).sort();
}

describe('Portal layouts: --all-portals (mesh) and --pair over tgtd\'s two portals', function () {
  this.timeout(90_000);
  let tgtd: Tgtd;

  before(async function () {
    requireTools(this, 'tgtd', 'tgtadm');
    tgtd = await Tgtd.start(PORTALS, [{ name: IQN, luns: [{ sizeBytes: 8 << 20 }] }]);
  });
  after(async () => {
    await tgtd?.stop();
  });

  it('planPaths: mesh is every local × every portal, pair is i → i, a spec with its own portal is refused', () => {
    const portals = [{ address: 'a', port: 1 }, { address: 'b', port: 2 }];
    assert.deepEqual(planPaths([{ sourceAddress: 'x' }, { sourceAddress: 'y' }], portals, 'mesh').map((s) => `${s.sourceAddress}>${s.portal.address}`), ['x>a', 'x>b', 'y>a', 'y>b']);
    assert.deepEqual(planPaths([{ sourceAddress: 'x' }, { sourceAddress: 'y' }], portals, 'pair').map((s) => `${s.sourceAddress}>${s.portal.address}`), ['x>a', 'y>b']);
    assert.deepEqual(planPaths<{ sourceAddress?: string }>([], portals, 'mesh').map((s) => s.portal.address), ['a', 'b']);
    assert.throws(() => planPaths([{ sourceAddress: 'x' }, { sourceAddress: 'y' }, { sourceAddress: 'z' }], portals, 'pair'), /3 local paths and the target lists 2 portals/);
    assert.throws(() => planPaths([{ portal: 'c:3' }], portals, 'mesh'), PathPlanError);
  });

  it('library: connect({portalLayout: "mesh"}) opens 2 × 2 sessions, one per local address and portal', async () => {
    const device = await new Initiator().connect({
      target: IQN, portal: PORTALS[0], lun: 1, paths: LOCALS.map((sourceAddress) => ({ sourceAddress })), portalLayout: 'mesh', discoveryPortals: [PORTALS[1]],
      policy: 'round-robin',
    });
    try {
      const infos = device.paths.map((p) => p.info());
      assert.deepEqual(infos.map((i) => `${i.local.address}>${i.remote.address}:${i.remote.port}`), MESH);
      assert.deepEqual(infos.map((i) => i.portal), [...PORTALS, ...PORTALS]);
      assert.ok(infos.every((i) => i.state === 'active' && i.redirectedFrom === null));
      assert.deepEqual(await nexusAddresses(tgtd), [LOCALS[0], LOCALS[0], LOCALS[1], LOCALS[1]]);
      const data = randomBytes(64 * 512);
      await device.write(128, data);
      assert.ok((await device.read(128, 64)).equals(data));
    } finally {
      await device.close();
    }
  });

  it('CLI: write then read with --all-portals, 4 active paths each carrying bytes, and the bytes verify', async () => {
    const data = randomBytes(4 << 20);
    const w = await runCli(['write', URL, '--offset', '0', '--json', '--all-portals', ...PATH_ARGS], { input: data });
    assert.equal(w.code, 0, w.stderr);
    const written = JSON.parse(w.stdout.toString()) as { bytes: number; paths: PathOut[] };
    assert.equal(written.bytes, data.length);
    assert.deepEqual(reached(written.paths), MESH);
    assert.ok(written.paths.every((p) => p.state === 'active' && p.bytesWritten > 0), JSON.stringify(written.paths));

    const r = await runCli(['read', URL, '--offset', '0', '--length', String(data.length), '--json', '--all-portals', ...PATH_ARGS]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.equals(data), 'the bytes read back through the mesh are the bytes written');
    const read = JSON.parse(r.stderr.trim().split('\n').pop()!) as { paths: PathOut[] };
    assert.deepEqual(reached(read.paths), MESH);
    assert.ok(read.paths.every((p) => p.state === 'active' && p.bytesRead > 0), JSON.stringify(read.paths));
  });

  it('CLI: bench --all-portals runs round-robin over the 4 sessions, each carrying I/O, no reconnect', async () => {
    const run = await runCli(['bench', URL, '--json', '--all-portals', ...PATH_ARGS, '--time', '1', '--bs', '64k', '--qd', '8']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout.toString()) as { runs: Array<{ policy: string; paths: Array<{ local: string; remote: string; state: string; ios: number; reconnects: number; failures: number }> }> };
    const [all] = report.runs;
    assert.equal(all.policy, 'round-robin');
    assert.deepEqual(all.paths.map((p) => `${p.local}>${p.remote}`), MESH);
    assert.ok(all.paths.every((p) => p.state === 'active' && p.ios > 0 && p.reconnects === 0 && p.failures === 0), JSON.stringify(all.paths));
  });

  it('CLI: inquiry --pair takes local path i to portal i and says which portal each path reached', async () => {
    const run = await runCli(['inquiry', URL, '--json', '--pair', ...PATH_ARGS]);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout.toString()) as { paths: PathOut[] };
    assert.deepEqual(reached(out.paths), [`${LOCALS[0]}>${PORTALS[0]}`, `${LOCALS[1]}>${PORTALS[1]}`]);
    assert.deepEqual(out.paths.map((p) => [p.portal, p.redirectedFrom]), [[PORTALS[0], null], [PORTALS[1], null]]);
  });

  it('tgtd lists only the portal it is asked on: --all-portals through one portal alone meshes into that one', async () => {
    const run = await runCli(['inquiry', URL, '--json', '--all-portals', '--path', LOCALS[0], '--path', LOCALS[1]]);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout.toString()) as { paths: PathOut[] };
    assert.deepEqual(reached(out.paths), LOCALS.map((l) => `${l}>${PORTALS[0]}`));
  });

  it('CLI: bad layouts are usage errors before any login; an unlisted target is a login error naming what is listed', async () => {
    const both = await runCli(['inquiry', URL, '--all-portals', '--pair']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--all-portals and --pair exclude each other/);
    const fixed = await runCli(['inquiry', URL, '--all-portals', '--path', `${LOCALS[0]}=${PORTALS[1]}`]);
    assert.equal(fixed.code, 2);
    assert.match(fixed.stderr, /path 0 names its own portal/);
    const tooMany = await runCli(['inquiry', URL, '--pair', ...PATH_ARGS, '--path', `${NET}.13`]);
    assert.equal(tooMany.code, 2, tooMany.stderr);
    assert.match(tooMany.stderr, /3 local paths and the target lists 2 portals/);
    const unknown = await runCli(['inquiry', `iscsi://${PORTALS[0]}/iqn.2024-01.test:nobody/1`, '--all-portals']);
    assert.equal(unknown.code, 5, unknown.stderr);
    assert.match(unknown.stderr, new RegExp(`did not list iqn.2024-01.test:nobody .*it lists ${IQN}`));
    const stray = await runCli(['inquiry', URL, '--discovery-portal', PORTALS[1]]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /--discovery-portal only adds portals for --all-portals or --pair/);
  });
});
