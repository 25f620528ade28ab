// A target that dies or freezes mid-I/O: every pending command ends with a typed PathError within the configured
// timeout, never a hang, and the session says what state it is in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Initiator } from '../lib/initiator';
import { PathError } from '../lib/session/errors';
import { loopbackPortal, requireTools, Tgtd } from './support/tgtd';

const TARGET = 'iqn.2024-01.io.iscsi-mpio.test:fragile';

describe('session: target failure mid-I/O (tgtd)', function () {
  this.timeout(60_000);
  const base = 14600 + (process.pid % 300);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:failure-initiator' });
  let tgtd: Tgtd | undefined;

  before(function () { requireTools(this, 'tgtd', 'tgtadm'); });
  afterEach(async () => {
    if (tgtd?.process.pid) { try { process.kill(tgtd.process.pid, 'SIGCONT'); } catch { /* already gone */ } }
    await tgtd?.stop();
    tgtd = undefined;
  });

  async function loadedDevice(portal: string, commandTimeoutMs: number) {
    tgtd = await Tgtd.start([portal], [{ name: TARGET, luns: [{ sizeBytes: 64 << 20 }] }]);
    const device = await initiator.connect({ target: TARGET, portal, lun: 1, commandTimeoutMs, reconnect: false, nopIntervalMs: 60_000 });
    const data = randomBytes(1 << 20);
    const pending = Array.from({ length: 32 }, (_, i) => {
      const io = i % 2 ? device.write((i % 60) * 2048, data) : device.read((i % 60) * 2048, 2048);
      return io.then(() => 'ok' as const, (e: unknown) => e);
    });
    return { device, pending };
  }

  it('fails pending I/O with ECONNLOST at once when the target process is killed', async () => {
    const { device, pending } = await loadedDevice(loopbackPortal(21, base), 10_000);
    const started = Date.now();
    tgtd!.kill();
    const outcomes = await Promise.all(pending);
    const elapsed = Date.now() - started;
    const errors = outcomes.filter((o) => o !== 'ok');
    assert.ok(errors.length > 0, 'some I/O was still pending when the target died');
    for (const e of errors) {
      assert.ok(e instanceof PathError, `PathError expected, got ${String(e)}`);
      assert.equal(e.code, 'ECONNLOST');
    }
    assert.ok(elapsed < 2000, `failed within ${elapsed} ms, far below the 10 s command timeout`);
    assert.equal(device.session.state, 'failed');
    await assert.rejects(device.read(0, 1), (e: unknown) => e instanceof PathError && e.code === 'ESESSIONDOWN');
    await device.close();
  });

  it('declares a frozen target dead within about a second of silence while I/O is outstanding, long before the command timeout', async () => {
    // The idle keepalive is set to a minute: only the busy rule (500 ms silence, 500 ms for the ping) can fire.
    const { device, pending } = await loadedDevice(loopbackPortal(22, base + 1), 30_000);
    const started = Date.now();
    process.kill(tgtd!.process.pid!, 'SIGSTOP');
    const outcomes = await Promise.all(pending);
    const elapsed = Date.now() - started;
    const errors = outcomes.filter((o) => o !== 'ok');
    assert.ok(errors.length > 0, 'some I/O was pending when the target froze');
    for (const e of errors) {
      assert.ok(e instanceof PathError, `PathError expected, got ${String(e)}`);
      assert.equal(e.code, 'ECONNLOST');
      assert.match(e.message, /NOP-Out ping unanswered/);
      // Sent and never answered: nothing proves the target will not still run it.
      assert.ok(e.indeterminate, 'a command lost with its connection is indeterminate');
    }
    assert.ok(elapsed < 2500, `all settled in ${elapsed} ms (busy keepalive 500 + 500 ms, command timeout 30 s)`);
    assert.equal(device.session.state, 'failed');
    const closing = Date.now();
    await device.close();
    assert.ok(Date.now() - closing < 4000, 'close is bounded even with a frozen target');
  });
});
