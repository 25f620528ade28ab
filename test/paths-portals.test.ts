// Path specs with a remote side, `--path [LOCAL][@DEVICE][=PORTAL]`: tgtd listening on two portals without any
// redirect, two local source addresses × two portals = four sessions, each from its own address to its own portal,
// all one LU; through the library and through the CLI.
import assert from 'node:assert/strict';
import { Initiator } from '../lib/initiator';
import { runCli } from './support/cli';
import { requireTools, Tgtd } from './support/tgtd';

const NET = '127.49.2';
const IQN = 'iqn.2024-01.test:paths-two-portals';
const PORTALS = [`${NET}.1:3260`, `${NET}.2:3260`];
const LOCALS = [`${NET}.11`, `${NET}.12`];

/** The initiator address of every connection tgtd holds (tgtd does not show which portal it came in on). */
async function nexusAddresses(tgtd: Tgtd): Promise<string[]> {
  const { stdout } = await tgtd.tgtadm('--lld', 'iscsi', '--op', 'show', '--mode', 'target');
  return [...stdout.matchAll(/IP Address: (\S+)/g)].map((m) => m[1]).sort();
}

describe('Paths with their own portal: 2 local addresses × 2 portals, no redirect', function () {
  this.timeout(60_000);
  let tgtd: Tgtd;

  before(async function () {
    requireTools(this, 'tgtd', 'tgtadm');
    tgtd = await Tgtd.start(PORTALS, [{ name: IQN, luns: [{ sizeBytes: 4 << 20 }] }]);
  });
  after(async () => {
    await tgtd?.stop();
  });

  const specs = LOCALS.flatMap((local) => PORTALS.map((portal) => ({ sourceAddress: local, portal })));

  it('library: connect() opens four sessions, each from its address to its portal, one LU', async () => {
    const device = await new Initiator().connect({ target: IQN, portal: PORTALS[0], lun: 1, paths: specs, policy: 'round-robin' });
    try {
      const paths = device.paths.map((p) => p.session.info());
      assert.equal(paths.length, 4);
      assert.deepEqual(paths.map((i) => `${i.local.address}>${i.landed.address}:${i.landed.port}`),
        specs.map((s) => `${s.sourceAddress}>${s.portal}`));
      assert.deepEqual(paths.map((i) => i.redirects.length), [0, 0, 0, 0]);
      assert.equal(new Set(paths.map((i) => i.isid)).size, 4, 'four sessions, four ISIDs');
      assert.deepEqual(await nexusAddresses(tgtd), [LOCALS[0], LOCALS[0], LOCALS[1], LOCALS[1]]);
      const data = Buffer.alloc(8 * 512, 0x5a);
      await device.write(16, data);
      assert.ok((await device.read(16, 8)).equals(data));
    } finally {
      await device.close();
    }
  });

  it('CLI: inquiry --path LOCAL=PORTAL four times lists four active paths to both portals', async () => {
    const args = specs.flatMap((s) => ['--path', `${s.sourceAddress}=${s.portal}`]);
    const run = await runCli(['inquiry', `iscsi://${PORTALS[0]}/${IQN}/1`, '--json', '--policy', 'round-robin', ...args]);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout.toString()) as { paths: Array<{ local: { address: string }; remote: { address: string; port: number }; state: string; redirectedFrom: unknown }> };
    assert.deepEqual(out.paths.map((p) => `${p.local.address}>${p.remote.address}:${p.remote.port}`), specs.map((s) => `${s.sourceAddress}>${s.portal}`));
    assert.ok(out.paths.every((p) => p.state === 'active' && p.redirectedFrom === null), JSON.stringify(out.paths));
  });
});
