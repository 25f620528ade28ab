// A mocha root hook plugin (.mocharc.json `require`): a test that leaves a socket, server, child process, timer or
// native socket pump behind fails the suite instead of hanging it or lingering unseen.
// - Across files: whatever a test file started and still runs a second into the next file is reported, and the
//   suite fails in the root "after all" hook (a CLI run of the same code would linger the same way).
// - At the end: mocha runs without `exit: true`, so a leak keeps the event loop alive after the last test; an
//   unref'd watchdog armed after all tests fires only in that case, prints what is left and exits non-zero.
// Attribution is by snapshot, not by async_hooks (whose promise tracking would slow every test): at each test's start
// and end the ref'd handles are listed, and one seen for the first time is charged to that test's file (between two
// files, to the after hooks of one or the before hooks of the other). Timers and the addon's socket pumps are not
// Node handles: the global setTimeout/setInterval and the addon's SocketPump are wrapped to note when each is made.
import { native } from '../../lib/native';

const CONFIRM_MS = 1000; // how long something may outlive its file (closes finish within a loop turn or two)
const GRACE_MS = 2000; // how long the loop may stay alive after the last test

interface Origin { file: string; title: string }
const origins = new WeakMap<object, Origin>();
let current: Origin = { file: '(before the first test)', title: '' };

/** Ref'd handles, what `process.getActiveResourcesInfo()` counts, as objects (sockets, servers, child processes). */
function activeHandles(): object[] {
  const stdio: object[] = [process.stdin, process.stdout, process.stderr];
  return (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().filter((h) => !stdio.includes(h));
}

type Timer = NodeJS.Timeout & { _destroyed?: boolean; _idleTimeout?: number; _repeat?: number | null; _onTimeout?: unknown };
const timers = new Set<Timer>();
function trackTimers<F extends (...args: never[]) => NodeJS.Timeout>(make: F): F {
  const tracked = function (this: unknown, ...args: Parameters<F>): NodeJS.Timeout {
    const timer = make.apply(this, args) as Timer;
    timers.add(timer);
    return timer;
  };
  return Object.assign(tracked, make) as unknown as F;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const timersModule = require('node:timers') as typeof import('node:timers');
globalThis.setTimeout = timersModule.setTimeout = trackTimers(globalThis.setTimeout);
globalThis.setInterval = timersModule.setInterval = trackTimers(globalThis.setInterval);
const timerAlive = (t: Timer): boolean => !t._destroyed && t.hasRef();

/** The timers made since this plugin loaded that are still pending, with their delay: for tests of timer cleanup. */
export function pendingTimers(): Array<{ timer: object; ms: number; repeat: boolean }> {
  return [...timers].filter(timerAlive).map((t) => ({ timer: t, ms: Number(t._repeat ?? t._idleTimeout), repeat: !!t._repeat }));
}

// A pump holds a ref'd libuv poll handle until destroy() or the peer's close; neither Node nor libuv names it to JS.
interface Pump { fd: number; open: boolean }
const pumps = new Set<Pump>();
const OriginalPump = native.SocketPump as new (fd: number, deframer: unknown, read: unknown, drain: unknown, close: (...a: unknown[]) => void, coalesce: boolean) => { destroy(...a: unknown[]): unknown };
native.SocketPump = function (fd: number, deframer: unknown, read: unknown, drain: unknown, close: (...a: unknown[]) => void, coalesce: boolean) {
  const entry: Pump = { fd, open: true };
  const pump = new OriginalPump(fd, deframer, read, drain, (...a: unknown[]) => { entry.open = false; close(...a); }, coalesce);
  const destroy = pump.destroy as (...a: unknown[]) => unknown;
  // The addon's methods are read-only on the prototype: shadow this one on the instance. Every argument goes
  // through: destroy(true) is the abortive close that keeps a dead path's writes from reaching the target later.
  Object.defineProperty(pump, 'destroy', { value: function (this: unknown, ...a: unknown[]) { entry.open = false; return destroy.apply(this, a); } });
  pumps.add(entry);
  return pump;
};

/** Everything that keeps the loop alive now, with how to describe it. */
function live(): Map<object, string> {
  const out = new Map<object, string>();
  for (const h of activeHandles()) out.set(h, describeHandle(h));
  for (const t of timers) {
    if (timerAlive(t)) out.set(t, describeTimer(t));
    else if (t._destroyed) timers.delete(t);
  }
  for (const p of pumps) {
    if (p.open) out.set(p, `SocketPump fd ${p.fd} (a PduConnection not destroyed?)`);
    else pumps.delete(p);
  }
  return out;
}

function describeHandle(handle: object): string {
  const name = handle.constructor?.name ?? typeof handle;
  if (name === 'Socket') {
    const s = handle as import('node:net').Socket;
    const wrap = (handle as { _handle?: { fd?: number; constructor?: { name?: string } } | null })._handle;
    if (s.remoteAddress) return `Socket ${s.localAddress}:${s.localPort} -> ${s.remoteAddress}:${s.remotePort}`;
    return `${wrap?.constructor?.name === 'Pipe' ? "Pipe (a child's stdio?)" : 'Socket'} fd ${String(wrap?.fd ?? '?')}`;
  }
  if (name === 'Server') {
    const address = (handle as import('node:net').Server).address();
    return `Server ${typeof address === 'string' ? address : address ? `${address.address}:${address.port}` : '(not listening)'}`;
  }
  if (name === 'ChildProcess') {
    const c = handle as import('node:child_process').ChildProcess;
    return `ChildProcess pid ${String(c.pid)}: ${c.spawnargs.join(' ').slice(0, 160)}`;
  }
  return name;
}

function describeTimer(timer: Timer): string {
  const kind = timer._repeat ? `setInterval(${String(timer._repeat)} ms)` : `setTimeout(${String(timer._idleTimeout)} ms)`;
  return `${kind} ${String(timer._onTimeout ?? '').replace(/\s+/g, ' ').slice(0, 120)}`;
}

const blame = (o: object): string => {
  const origin = origins.get(o);
  return origin ? `${origin.file}${origin.title ? `: "${origin.title}"` : ''}` : 'an unknown file';
};

/** Things a finished file left running, since when; confirmed once they outlive CONFIRM_MS. */
const suspects = new Map<object, number>();
const confirmed: string[] = [];

function checkpoint(origin: Origin, fileChanged: boolean): void {
  const now = live();
  const t = Date.now();
  if (fileChanged) for (const o of now.keys()) if (origins.has(o) && !suspects.has(o)) suspects.set(o, t);
  for (const o of now.keys()) if (!origins.has(o)) origins.set(o, origin);
  for (const [o, since] of suspects) {
    if (!now.has(o)) suspects.delete(o);
    else if (t - since >= CONFIRM_MS) {
      confirmed.push(`${now.get(o)!}\n      left by ${blame(o)}`);
      suspects.delete(o);
    }
  }
}

function watchdog(): void {
  const left = [...live()].map(([o, what]) => `  ${what}\n      left by ${blame(o)}`);
  process.stderr.write([
    '',
    `leak watchdog: ${GRACE_MS} ms after the last test the event loop is still alive:`,
    ...(left.length > 0 ? left
      : [`  nothing JavaScript can see (Node counts: ${process.getActiveResourcesInfo().join(', ') || 'nothing'}): a native handle?`]),
    'Each test must close every socket, server, child process, timer and socket pump it starts.',
    '',
  ].join('\n'));
  const code = Math.max(1, Number(process.exitCode) || 0);
  // mocha sets the exit code to its failure count in an 'exit' listener; this one runs after it.
  process.on('exit', () => { process.exitCode = code; });
  process.exit(code);
}

const fileOf = (test: Mocha.Runnable | undefined): string => test?.file?.replace(`${process.cwd()}/`, '') ?? '(unknown file)';
let previousFile: string | undefined;

export const mochaHooks = {
  beforeEach(this: Mocha.Context): void {
    const file = fileOf(this.currentTest);
    const changed = previousFile !== undefined && previousFile !== file;
    // What appeared since the last test ended came from the hooks between them.
    checkpoint(changed ? { file: `${previousFile!} (after hooks) or ${file} (before hooks)`, title: '' } : { file, title: '' }, changed);
    current = { file, title: this.currentTest?.fullTitle() ?? '' };
  },
  afterEach(): void {
    checkpoint(current, false);
    previousFile = current.file;
    current = { file: `${current.file} (after hooks)`, title: '' };
  },
  afterAll(): void {
    checkpoint(current, false);
    setTimeout(watchdog, GRACE_MS).unref();
    if (confirmed.length > 0) {
      throw new Error(`${confirmed.length} thing(s) outlived the test file that started them by more than ${CONFIRM_MS} ms:\n  ${confirmed.join('\n  ')}`);
    }
  },
};
