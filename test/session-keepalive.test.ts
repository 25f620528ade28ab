// The keepalive rule on a fake clock: silence, never slowness, fails a connection; a busy connection is judged in
// about a second, an idle one on the long timers; a late tick (the event loop stalled) judges nothing. Property
// tests drive random arrival patterns against the rule's definition.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Keepalive, type KeepaliveTimers } from '../lib/session/keepalive';

const TIMERS: KeepaliveTimers = { idleIntervalMs: 5000, idleTimeoutMs: 5000, busyIntervalMs: 500, busyTimeoutMs: 500 };

function harness(busy: boolean) {
  let now = 0;
  const log = { pings: 0, dead: [] as number[] };
  const state = { busy, taskManagement: false };
  const k = new Keepalive(TIMERS, {
    busy: () => state.busy, mayBeSilent: () => state.taskManagement, ping: () => log.pings++, dead: (ms) => log.dead.push(ms), now: () => now,
  }, false);
  /** Advances the clock tick by tick (the real timer's 125 ms), calling check() each time. */
  const advance = (ms: number, heardEvery?: number) => {
    for (let t = 0; t < ms; t += 125) {
      now += 125;
      if (heardEvery && t % heardEvery === 0) k.heard();
      k.check();
    }
  };
  /** One tick that comes `ms` late. */
  const jump = (ms: number) => { now += ms; k.check(); };
  return { k, log, state, advance, jump };
}

describe('session: keepalive', () => {
  it('declares a busy, silent connection dead after the busy interval plus the ping deadline', () => {
    const h = harness(true);
    h.advance(875);
    assert.equal(h.log.pings, 1, 'one ping after 500 ms of silence');
    assert.deepEqual(h.log.dead, []);
    h.advance(250);
    assert.equal(h.log.dead.length, 1, 'dead once the ping went unanswered for 500 ms');
    assert.ok(h.log.dead[0] >= 1000 && h.log.dead[0] <= 1250, `silent for ${h.log.dead[0]} ms`);
  });

  it('never fails a connection that keeps delivering PDUs, however slow each command is', () => {
    const h = harness(true);
    h.advance(60_000, 375); // a PDU every 375 ms: a saturated link with long commands
    assert.deepEqual(h.log.dead, []);
    assert.equal(h.log.pings, 0);
  });

  it('an answered ping keeps a busy connection alive', () => {
    const h = harness(true);
    h.advance(625);
    assert.equal(h.log.pings, 1);
    h.k.heard(); // the NOP-In
    h.advance(250);
    assert.deepEqual(h.log.dead, []);
  });

  it('an idle connection is judged on the long timers', () => {
    const h = harness(false);
    h.advance(4875);
    assert.equal(h.log.pings, 0, 'no ping before 5 s of idle silence');
    h.advance(250);
    assert.equal(h.log.pings, 1);
    h.advance(4500);
    assert.deepEqual(h.log.dead, [], 'the idle ping has 5 s');
    h.advance(750);
    assert.equal(h.log.dead.length, 1);
  });

  it('a ping sent while idle gets the short deadline once commands wait on the answer', () => {
    const h = harness(false);
    h.advance(5125);
    assert.equal(h.log.pings, 1);
    h.state.busy = true;
    h.advance(500);
    assert.equal(h.log.dead.length, 1);
  });

  it('while task management is outstanding a busy connection is judged on the long timers, and a busy ping gets the long deadline', () => {
    const h = harness(true);
    h.state.taskManagement = true; // istgt: silent for about 1 s over a LOGICAL UNIT RESET
    h.advance(2000);
    assert.equal(h.log.pings, 0, 'no ping after 2 s of silence');
    h.k.heard(); // the reset's answer
    h.state.taskManagement = false;
    h.advance(875);
    assert.equal(h.log.pings, 1, 'busy again: a ping after 500 ms');
    h.state.taskManagement = true; // a reset sent after the ping
    h.advance(4500);
    assert.deepEqual(h.log.dead, [], 'the ping sent while busy now has the idle deadline');
    h.advance(750);
    assert.equal(h.log.dead.length, 1, 'still dead after the long timers: the target never answered');
  });

  it('a late tick (the event loop stalled) judges nothing; the next one does', () => {
    const h = harness(true);
    h.advance(625);
    assert.equal(h.log.pings, 1);
    h.jump(2000); // our own stall: the answer may be sitting unread in the socket
    assert.deepEqual(h.log.dead, []);
    h.k.heard(); // the poll phase after the timers reads it
    h.advance(250);
    assert.deepEqual(h.log.dead, []);
    const g = harness(true);
    g.advance(625);
    g.jump(2000);
    g.advance(125); // nothing was read after the stall either: now it is dead
    assert.equal(g.log.dead.length, 1);
  });

  it('property: dead is declared exactly when a ping has gone unanswered past its deadline, never while PDUs flow', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 2500 }), { minLength: 1, maxLength: 40 }), (gaps) => {
      // PDUs arrive after the given gaps; the connection is busy throughout.
      let now = 0;
      let dead = false;
      let pingAt = -1;
      const k = new Keepalive(TIMERS, { busy: () => true, ping: () => { pingAt = now; }, dead: () => { dead = true; }, now: () => now }, false);
      for (const gap of gaps) {
        const arrival = now + gap;
        while (now + 125 <= arrival && !dead) { now += 125; k.check(); }
        if (dead) {
          // It may only be dead if a silence of at least interval + deadline happened.
          assert.ok(gap >= TIMERS.busyIntervalMs + TIMERS.busyTimeoutMs, `declared dead in a gap of ${gap} ms`);
          assert.ok(pingAt >= 0);
          return;
        }
        now = arrival;
        k.heard();
        pingAt = -1;
      }
      // Never dead: then no gap was long enough to cover interval + deadline plus one tick of slack.
      assert.ok(gaps.every((g) => g < TIMERS.busyIntervalMs + TIMERS.busyTimeoutMs + 250), 'a long silence went unnoticed');
    }));
  });
});
