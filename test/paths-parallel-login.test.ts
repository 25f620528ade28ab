// Logins run in parallel: four paths to a target that holds each login's answer for 1 s are all up in under 2 s
// (one after another they would take 4 s). A bound on a functional property, with the delay checked to be real.
import assert from 'node:assert/strict';
import { Initiator } from '../lib/initiator';
import { Target } from '../lib/target/target';

const NET = '127.60.2';
const LOGIN_DELAY_MS = 1000;

describe('Parallel logins: 4 paths to a target that answers each login after 1 s', function () {
  this.timeout(30_000);
  let target: Target;

  before(async () => {
    target = await Target.start({ portals: [`${NET}.1:0`, `${NET}.2:0`], luns: ['4M'] });
    target.setLoginDelay(LOGIN_DELAY_MS);
  });
  after(async () => {
    await target?.stop();
  });

  it('are all active in under 2 s, each having waited for its own delayed answer', async () => {
    const portals = target.members.map((m) => ({ address: m.address, port: m.port }));
    const paths = [`${NET}.11`, `${NET}.12`].flatMap((sourceAddress) => portals.map((portal) => ({ sourceAddress, portal })));
    const started = performance.now();
    const device = await new Initiator().connect({ target: target.iqn, portal: portals[0], lun: 1, paths, policy: 'round-robin' });
    const elapsed = performance.now() - started;
    try {
      assert.deepEqual(device.paths.map((p) => p.state), ['active', 'active', 'active', 'active']);
      assert.equal(target.sessions().length, 4);
      assert.ok(elapsed >= LOGIN_DELAY_MS, `the target held the logins (${elapsed.toFixed(0)} ms)`);
      assert.ok(elapsed < 2 * LOGIN_DELAY_MS, `4 logins took ${elapsed.toFixed(0)} ms: not in parallel`);
    } finally {
      await device.close();
    }
  });
});
