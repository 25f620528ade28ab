// NOP-In / NOP-Out against the embedded target over real loopback sockets (protocol.md §1.7, §0 items 10-11):
// a target ping (TTT set) is answered with its TTT and LUN, ITT 0xffffffff, immediate, without taking a CmdSN; a
// NOP-In with TTT 0xffffffff is not answered; an idle session pings and stays up; a slow target that still answers
// pings is not declared dead; a target that stops reading is declared dead within nopInterval + nopTimeout.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Initiator } from '../lib/initiator';
import { PathError } from '../lib/session/errors';
import type { LunDevice } from '../lib/session/lun-device';
import type { SessionState } from '../lib/session/session';
import { Target } from '../lib/target/target';
import type { TargetConnection } from '../lib/target/target-connection';
import type { Bhs, BhsInit, NopOut, ScsiCommand } from '../lib/wire/bhs';
import { Opcode, RESERVED_TAG } from '../lib/wire/opcodes';

const NET = `127.${190 + (process.pid % 40)}.${(process.pid >> 3) % 250}`;

/** The target's live connections on one member (white-box: the embedded target keeps them private). */
function connectionsOf(target: Target, member = 0): TargetConnection[] {
  return [...(target as unknown as { memberPortals: Array<{ connections: Set<TargetConnection> }> }).memberPortals[member].connections]
    .filter((c) => c.outcome);
}

/** Every PDU the target receives on `c`, headers copied. */
function recordReceived(c: TargetConnection): Bhs[] {
  const seen: Bhs[] = [];
  c.pdu.on('pdu', (pdu: { bhs: Bhs }) => seen.push({ ...pdu.bhs }));
  return seen;
}

/** Resolves with the first PDU the target receives on `c` that matches. */
function nextReceived<T extends Bhs>(c: TargetConnection, match: (b: Bhs) => boolean, what: string, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { c.pdu.off('pdu', on); reject(new Error(`no ${what} within ${ms} ms`)); }, ms);
    const on = (pdu: { bhs: Bhs }) => {
      if (!match(pdu.bhs)) return;
      clearTimeout(timer);
      c.pdu.off('pdu', on);
      resolve({ ...pdu.bhs } as T);
    };
    c.pdu.on('pdu', on);
  });
}

/** Sends a PDU from the target side of `c` (its own framer, statSN and window fields). */
function targetSend(c: TargetConnection, bhs: BhsInit): void {
  (c as unknown as { send(b: BhsInit): void }).send(bhs);
}

function windowOf(c: TargetConnection): { expCmdSN: number; maxCmdSN: number } {
  return (c as unknown as { windowFields(): { expCmdSN: number; maxCmdSN: number } }).windowFields();
}

const isNopOut = (b: Bhs): b is NopOut => b.opcode === Opcode.NopOut;
const isCommand = (b: Bhs): b is ScsiCommand => b.opcode === Opcode.ScsiCommand;

describe('session ↔ embedded target: NOP-In / NOP-Out', function () {
  this.timeout(20_000);
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:nop' });
  let target: Target | undefined;
  let device: LunDevice | undefined;

  afterEach(async () => {
    await device?.close().catch(() => undefined);
    await target?.stop();
    device = undefined;
    target = undefined;
  });

  async function open(targetNop: { nopInterval: number; nopTimeout?: number }, session: { nopIntervalMs: number; nopTimeoutMs: number; reconnect?: boolean }, host: number) {
    target = await Target.start({ portals: [`${NET}.${host}:0`], luns: ['4M'], ...targetNop });
    const m = target.members[0];
    device = await initiator.connect({
      target: target.iqn, portal: { address: m.address, port: m.port }, lun: 1, paths: [{ sourceAddress: `${NET}.${host + 100}` }],
      reconnect: session.reconnect ?? false, nopIntervalMs: session.nopIntervalMs, nopTimeoutMs: session.nopTimeoutMs,
    });
    const [c] = connectionsOf(target);
    assert.ok(c, 'the target has the session\'s connection');
    return { device, c };
  }

  it('answers a target ping with its TTT and LUN, ITT 0xffffffff, immediate, without taking a CmdSN; ignores TTT 0xffffffff', async () => {
    // The target pings every 150 ms of silence; the session itself would not ping for a minute.
    const { device, c } = await open({ nopInterval: 150, nopTimeout: 5000 }, { nopIntervalMs: 60_000, nopTimeoutMs: 5000 }, 11);
    const received = recordReceived(c);
    const states: SessionState[] = [];
    device.session.on('state', (s: SessionState) => states.push(s));

    // Record the pings the target sends, to match the answers against them.
    const pings: Array<{ ttt: number; lun: number }> = [];
    const send = c.pdu.send.bind(c.pdu);
    c.pdu.send = (bhs: BhsInit, ...rest: unknown[]) => {
      if (bhs.opcode === Opcode.NopIn && bhs.itt === RESERVED_TAG && bhs.ttt !== RESERVED_TAG) pings.push({ ttt: bhs.ttt, lun: bhs.lun });
      return (send as (...a: unknown[]) => boolean)(bhs, ...rest);
    };

    await device.read(0, 8); // one command: CmdSN n
    const first = received.filter(isCommand).at(-1)!;

    // The target's own idle pings (LUN 0) are answered.
    const answer = await nextReceived<NopOut>(c, (b) => isNopOut(b) && b.itt === RESERVED_TAG && pings.some((p) => p.ttt === b.ttt), 'answer to a target ping');
    assert.ok(pings.length >= 1 && (answer.ttt & 0x80000000) !== 0, 'the target pinged with its own TTT');
    assert.equal(answer.lun, 0);
    assert.equal(answer.immediate, true, 'the answer is immediate (I bit)');
    assert.equal(answer.cmdSN, (first.cmdSN + 1) >>> 0, 'the answer carries the next CmdSN without taking it');

    // A ping from the target that names a LUN and its own TTT: both come back unchanged.
    const window = windowOf(c);
    const statSN = (c as unknown as { statSN: number }).statSN;
    targetSend(c, { opcode: Opcode.NopIn, lun: 3, itt: RESERVED_TAG, ttt: RESERVED_TAG, statSN, ...window });
    targetSend(c, { opcode: Opcode.NopIn, lun: 3, itt: RESERVED_TAG, ttt: 0x1234abcd, statSN, ...window });
    const custom = await nextReceived<NopOut>(c, (b) => isNopOut(b) && (b.ttt === RESERVED_TAG || b.ttt === 0x1234abcd), 'answer to the injected pings');
    // The NOP-In with TTT 0xffffffff came first on the same TCP stream: had it been answered, that answer would be here.
    assert.equal(custom.ttt, 0x1234abcd, 'a NOP-In with TTT 0xffffffff is not answered; the next one is');
    assert.equal(custom.lun, 3, 'the answer copies the ping\'s LUN');
    assert.equal(custom.itt, RESERVED_TAG);
    assert.equal(custom.immediate, true);
    assert.equal(custom.cmdSN, (first.cmdSN + 1) >>> 0);

    // No CmdSN was consumed by any of the answers: the next command takes n + 1.
    const data = randomBytes(4096);
    await device.write(16, data);
    const next = received.filter(isCommand).at(-1)!;
    assert.equal(next.cmdSN, (first.cmdSN + 1) >>> 0, 'NOP-Out answers do not advance CmdSN');
    assert.ok(received.filter(isNopOut).every((n) => n.immediate && n.itt === RESERVED_TAG), 'every NOP-Out was an immediate answer');
    assert.deepEqual(await device.read(16, 8), data);
    assert.deepEqual(states, [], 'the session never left loggedIn');
    assert.equal(device.session.state, 'loggedIn');
  });

  it('pings an idle connection with NOP-Out (ITT set, TTT 0xffffffff) and stays up on the answers', async () => {
    // The target never pings (nopInterval 0): every NOP-Out seen is the session's own.
    const { device, c } = await open({ nopInterval: 0 }, { nopIntervalMs: 200, nopTimeoutMs: 1000 }, 12);
    const received = recordReceived(c);
    const states: SessionState[] = [];
    device.session.on('state', (s: SessionState) => states.push(s));
    await device.read(0, 1);
    const before = received.filter(isCommand).at(-1)!;
    // At least three pings, each answered (else the session would drop the connection after 1 s).
    for (let i = 0; i < 3; i++) {
      const ping = await nextReceived<NopOut>(c, isNopOut, `NOP-Out ping ${i + 1}`, 5000);
      assert.notEqual(ping.itt, RESERVED_TAG, 'a ping carries a task tag so it gets an answer');
      assert.equal(ping.ttt, RESERVED_TAG);
      assert.equal(ping.immediate, true);
      assert.equal(ping.cmdSN, (before.cmdSN + 1) >>> 0, 'a ping does not take a CmdSN');
    }
    assert.deepEqual(states, []);
    assert.equal(device.session.state, 'loggedIn');
    assert.equal(connectionsOf(target!).length, 1, 'still the same one connection');
    assert.equal(connectionsOf(target!)[0], c);
    await device.read(0, 1);
    assert.equal(received.filter(isCommand).at(-1)!.cmdSN, (before.cmdSN + 1) >>> 0);
  });

  it('keeps a slow target that still answers pings (responses held 2.5 s, pings every 200 ms)', async () => {
    const { device, c } = await open({ nopInterval: 0 }, { nopIntervalMs: 200, nopTimeoutMs: 600 }, 13);
    const received = recordReceived(c);
    const states: SessionState[] = [];
    device.session.on('state', (s: SessionState) => states.push(s));
    const data = randomBytes(8192);
    await device.write(100, data);
    target!.setResponseDelay(2500);
    const started = Date.now();
    const back = await device.read(100, 16);
    assert.ok(Date.now() - started >= 2400, 'the response really was held back');
    assert.deepEqual(back, data);
    assert.ok(received.filter(isNopOut).length >= 2, 'the session pinged while waiting and got answers');
    assert.deepEqual(states, [], 'a slow but live target is not declared dead');
  });

  it('declares the connection dead within nopInterval + nopTimeout when the target stops reading', async () => {
    const interval = 300;
    const timeout = 700;
    const { device, c } = await open({ nopInterval: 0 }, { nopIntervalMs: interval, nopTimeoutMs: timeout }, 14);
    const failed = new Promise<number>((resolve) => device.session.on('state', (s: SessionState) => { if (s === 'failed') resolve(Date.now()); }));
    await device.read(0, 1); // the session heard the target just now
    // The target process hangs: it reads nothing more from this connection (TCP itself stays up).
    c.pdu.setReading(false);
    const frozenAt = Date.now();
    const pending = device.read(8, 8).then(() => 'completed', (e: unknown) => e);
    const failedAt = await failed;
    const outcome = await pending;
    const elapsed = failedAt - frozenAt;
    assert.ok(outcome instanceof PathError && outcome.code === 'ECONNLOST', `pending read fails with ECONNLOST, got ${String(outcome)}`);
    assert.match(outcome.message, /NOP-Out ping unanswered/);
    assert.ok(elapsed >= interval + timeout - 100, `not declared dead before the ping timed out (${elapsed} ms)`);
    // Generous upper bound for a loaded 2-core machine; the command timeout (30 s) is far away.
    assert.ok(elapsed <= interval + timeout + 4000, `declared dead ${elapsed} ms after the freeze (interval ${interval} + timeout ${timeout})`);
    assert.equal(device.session.state, 'failed');
  });
});
