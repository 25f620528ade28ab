// The embedded target's response delay (Target.setResponseDelay, fault injection) holds each SCSI response back on
// a timer. When the connection drops, or the target stops, the held responses have no one to go to: their timers
// must go too, or a test (or a CLI `target`) keeps the process alive for the delay. The same for the task
// management delay (Target.setTaskManagementDelay). The leak watchdog's timer tracking
// (test/support/leak-watchdog.ts) sees the timer armed, then gone.
import assert from 'node:assert/strict';
import { Target } from '../lib/target/target';
import { pendingTimers } from './support/leak-watchdog';
import { RawSession, read10 } from './support/raw-initiator';

const NET = '127.64.2';
const DELAY_MS = 60_000;

const delayTimers = () => pendingTimers().filter((t) => t.ms === DELAY_MS && !t.repeat);

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('target: the response delay\'s timers end with the connection and the target', function () {
  this.timeout(20_000);
  let target: Target | undefined;

  afterEach(async () => { await target?.stop(); target = undefined; });

  /** A target delaying responses by a minute, and a READ it has executed and now holds on a timer. */
  async function heldRead(host: number): Promise<{ target: Target; session: RawSession }> {
    target = await Target.start({ portals: [`${NET}.${host}:0`], luns: ['1M'], nopInterval: 0 });
    target.setResponseDelay(DELAY_MS);
    const m = target.members[0];
    const session = await RawSession.open(m.address, m.port, target.iqn, { localAddress: `${NET}.${host + 100}` });
    assert.equal(delayTimers().length, 0);
    session.command({ cdb: read10(0, 8), edtl: 4096, read: true });
    await until(() => delayTimers().length === 1, 'the response is held on its timer');
    return { target, session };
  }

  it('the initiator drops the connection: the held response\'s timer is cleared', async () => {
    const { target: t, session } = await heldRead(10);
    session.close();
    await until(() => t.sessions().length === 0, 'the target saw the connection go');
    await until(() => delayTimers().length === 0, 'the timer is cleared', 1000);
  });

  it('Target.stop(): the held response\'s timer is cleared', async () => {
    const { target: t, session } = await heldRead(11);
    await t.stop();
    target = undefined;
    await until(() => delayTimers().length === 0, 'the timer is cleared', 1000);
    session.close();
  });

  // A connection waiting on a task management delay reads nothing (as istgt), so it sees no FIN either: it is the
  // target's stop that ends it.
  it('the task management delay: Target.stop() clears its timer', async () => {
    target = await Target.start({ portals: [`${NET}.12:0`], luns: ['1M'], nopInterval: 0 });
    target.setTaskManagementDelay(DELAY_MS);
    const m = target.members[0];
    const session = await RawSession.open(m.address, m.port, target.iqn, { localAddress: `${NET}.112` });
    session.taskManagement(5, 1); // LOGICAL UNIT RESET, held for a minute
    await until(() => delayTimers().length === 1, 'the reset waits on its timer');
    await target.stop();
    target = undefined;
    await until(() => delayTimers().length === 0, 'the timer is cleared', 1000);
    session.close();
  });
});
