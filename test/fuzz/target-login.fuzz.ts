// Fuzzes the embedded target's login parser (TargetLogin) and the text decoder with fast-check for a fixed time:
//   npm run fuzz:login -- --seconds 60 [--seed N]
// Inputs: raw Login Request PDUs (random headers and bytes), well-formed requests carrying random key sets, and a
// real initiator's login with one request mutated in flight. Every reply must be a valid Login Response (or the
// typed ESTATE error after the login ended), every failure a typed error; a hang or runaway memory is a failure
// too. The fuzzing runs in a worker thread with a heap cap while this thread watches its heartbeat.
// Jazzer.js (coverage-guided) was the first choice, but its only registry build that installs without downloading
// needs glibc 2.38 (Debian 12 has 2.36), so this is generation-based: broad, not coverage-guided.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { ChapAlgorithm } from '../../lib/protocol/chap';
import { ProtocolError } from '../../lib/protocol/errors';
import { InitiatorLogin, InitiatorLoginStep } from '../../lib/protocol/initiator-login';
import type { OutgoingPdu, Pdu } from '../../lib/protocol/pdu';
import { TargetLogin, TargetLoginConfig, TargetLoginReply } from '../../lib/protocol/target-login';
import { decodeTextKeys, decodeTextPairs, encodeText, TextAssembler, TextPair } from '../../lib/protocol/text';
import { BhsInit, decodeBhs, encodeBhs, LoginRequest, LoginResponse } from '../../lib/wire/bhs';
import { Opcode } from '../../lib/wire/opcodes';
import { isTypedProtocolError, keySet, valueFor } from '../support/protocol-arbitraries';

const TARGET = 'iqn.2025-01.dev.iscsi-mpio:fuzz';
const HEAP_LIMIT_MB = 256;
const ARRAY_BUFFER_LIMIT_MB = 256;
/** No single receive() may take this long; a whole input gets a heartbeat before and after each call. */
const HANG_MS = 5000;

interface Options { seconds: number; seed: number; path?: string }

function parseArgs(argv: string[]): Options {
  const options: Options = { seconds: 30, seed: Date.now() | 0 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--seconds' && Number(value) > 0) options.seconds = Number(value);
    else if (flag === '--seed' && Number.isInteger(Number(value))) options.seed = Number(value);
    else if (flag === '--path' && value) options.path = value;
    else throw new Error(`usage: fuzz:login [--seconds N] [--seed N [--path P]] (got ${flag} ${value ?? ''})`);
    i++;
  }
  return options;
}

// ---- inputs ----

type TargetKind = 'none' | 'chap' | 'mutual' | 'redirect' | 'closed';
const targetKind = fc.constantFrom<TargetKind>('none', 'chap', 'mutual', 'redirect', 'closed');

function targetFor(kind: TargetKind): TargetLogin {
  const auth = kind === 'chap' || kind === 'mutual'
    ? { chap: { lookup: (u: string) => (u === 'alice' ? 'alice-secret-1234' : undefined), outgoing: kind === 'mutual' ? { user: TARGET, secret: 'target-secret-5678' } : undefined } }
    : undefined;
  const config: TargetLoginConfig = {
    findTarget: (n) => (n === TARGET ? { alias: 'fuzz', auth } : undefined), portalGroupTag: 1, statSN: 1,
    discovery: { allowed: kind !== 'closed', auth }, allocateTsih: () => 7,
    authorize: kind === 'closed' ? (i) => i !== 'iqn.evil' : undefined,
    redirect: kind === 'redirect' ? (c) => (c.authenticated ? { address: '127.44.0.9', port: 3260, permanent: false } : undefined) : undefined,
  };
  return new TargetLogin(config);
}

const u32 = fc.nat({ max: 0xffffffff });
/** A Login Request header: mostly plausible, every field sometimes anything. */
const loginHeader: fc.Arbitrary<BhsInit<LoginRequest>> = fc.record({
  opcode: fc.constant(Opcode.LoginRequest as const), transit: fc.boolean(), cont: fc.boolean(),
  csg: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1) }, fc.nat(3)), nsg: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(1, 3) }, fc.nat(3)),
  versionMax: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat(255)), versionMin: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat(255)),
  isid: fc.oneof({ weight: 4, arbitrary: fc.constant(Buffer.from([0x80, 0, 0, 1, 0, 0])) }, fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b))),
  tsih: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat(0xffff)), itt: fc.oneof(fc.constant(1), u32), cid: fc.oneof(fc.constant(0), fc.nat(0xffff)),
  cmdSN: fc.oneof(fc.constant(1), u32), expStatSN: fc.oneof(fc.constant(0), u32),
});

const identity: fc.Arbitrary<TextPair[]> = fc.record({
  InitiatorName: fc.oneof(fc.constantFrom('iqn.2024-01.org.example:fuzzer', 'iqn.evil', ''), fc.string({ maxLength: 20 })),
  SessionType: fc.constantFrom('Normal', 'Discovery', 'Bogus', ''),
  TargetName: fc.oneof(fc.constant(TARGET), fc.string({ maxLength: 20 })),
  AuthMethod: fc.oneof(fc.constantFrom('None', 'CHAP', 'CHAP,None', 'None,CHAP', 'KRB5,SRP', 'Reject'), fc.string({ maxLength: 10 })),
  CHAP_A: fc.oneof(fc.constantFrom('5', '7,5', '6', '8', '99', '5,5,5'), fc.string({ maxLength: 10 })),
  CHAP_N: fc.constantFrom('alice', 'bob', ''),
  CHAP_R: fc.oneof(fc.constantFrom('0x', '0b', '0x00', '0bAAAA', '0x' + '00'.repeat(16), '0x' + 'ff'.repeat(1025)), fc.string({ maxLength: 20 })),
  CHAP_I: fc.oneof(fc.constantFrom('0', '255', '256', '-1', '0x10'), fc.string({ maxLength: 5 })),
  CHAP_C: fc.oneof(fc.constantFrom('0x' + '01'.repeat(16), '0b' + 'A'.repeat(24), '0x'), fc.string({ maxLength: 20 })),
}, { requiredKeys: [] }).map((r) => Object.entries(r) as TextPair[]);

/** Text bytes: encoded key sets (maybe with mutations), or plain noise. */
const textBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(identity, keySet).map(([a, b]) => safeEncode([...a, ...b.filter(([k]) => !a.some(([x]) => x === k))])) },
  { weight: 2, arbitrary: fc.tuple(identity, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 })).map(([pairs, flips]) => {
    const bytes = safeEncode(pairs);
    for (const [at, v] of flips) if (bytes.length > 0) bytes[at % bytes.length] = v;
    return bytes;
  }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 9000 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constantFrom('AuthMethod', 'MaxBurstLength', 'CHAP_C').chain((k) => valueFor(k).map((v) => Buffer.from(`${k}=${v}\0`.repeat(600)))) },
);

function safeEncode(pairs: TextPair[]): Buffer {
  try {
    return encodeText(pairs);
  } catch {
    // A generated value too long for the encoder: send it anyway, the target must cope.
    return Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''));
  }
}

type Step = { header: BhsInit<LoginRequest>; data: Buffer } | { raw: Buffer; data: Buffer };
const rawHeader = fc.uint8Array({ minLength: 48, maxLength: 48 }).chain((b) => fc.boolean().map((login) => {
  const buf = Buffer.from(b);
  if (login) buf[0] = (buf[0] & 0xc0) | Opcode.LoginRequest;
  return buf;
}));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ header: loginHeader, data: textBytes }) },
  { weight: 1, arbitrary: fc.record({ raw: rawHeader, data: textBytes }) },
);

/** One input: a target, then either a sequence of requests or a real initiator's login with one request mutated. */
type Input =
  | { kind: 'sequence'; target: TargetKind; steps: Step[] }
  | { kind: 'mutated'; target: TargetKind; chap: boolean; mutateAt: number; flips: Array<[number, number]>; truncate: number | null };
const input: fc.Arbitrary<Input> = fc.oneof(
  fc.record({ kind: fc.constant('sequence' as const), target: targetKind, steps: fc.array(step, { minLength: 1, maxLength: 8 }) }),
  fc.record({
    kind: fc.constant('mutated' as const), target: targetKind, chap: fc.boolean(), mutateAt: fc.nat(5),
    flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), truncate: fc.option(fc.nat(), { nil: null }),
  }),
);

// ---- checks ----

class FuzzFailure extends Error {}
const check = (ok: unknown, what: string) => { if (!ok) throw new FuzzFailure(what); };

let heartbeat: Int32Array;
function beat(): void { Atomics.add(heartbeat, 0, 1); }

/** Feeds one request; checks the reply is a well-formed Login Response consistent with its outcome. */
function feed(target: TargetLogin, request: Pdu<LoginRequest>): TargetLoginReply {
  beat();
  const reply = target.receive(request);
  beat();
  const { bhs, data } = reply.pdu;
  check(bhs.opcode === Opcode.LoginResponse, 'the reply is not a Login Response');
  check(data.length <= 8192, `reply data ${data.length} bytes exceeds 8192`);
  const raw = Buffer.alloc(48);
  encodeBhs({ ...bhs, dataLength: data.length } as BhsInit, raw);
  check(decodeBhs(raw).opcode === Opcode.LoginResponse, 'the reply does not encode');
  if (!bhs.cont) decodeTextPairs(data); // our own text must always be valid
  switch (reply.outcome) {
    case 'failed':
      check(isTypedProtocolError(reply.error), `failed with an untyped error: ${reply.error?.stack}`);
      check(bhs.statusClass === 2 || bhs.statusClass === 3, `failed with status class ${bhs.statusClass}`);
      check(bhs.statusClass === 2 || !(reply.error instanceof ProtocolError), `a protocol error answered as a target error: ${reply.error?.message}`);
      break;
    case 'established':
      check(bhs.statusClass === 0 && bhs.transit && bhs.nsg === 3 && bhs.tsih === 7 && reply.session, 'established without a final response');
      break;
    case 'redirected':
      check(bhs.statusClass === 1 && decodeTextKeys(data).has('TargetAddress'), 'redirect without TargetAddress');
      break;
    default:
      check(bhs.statusClass === 0, `continue with status class ${bhs.statusClass}`);
  }
  return reply;
}

/** After the login ended, another request is the typed ESTATE error, not a crash. */
function checkEnded(target: TargetLogin, request: Pdu<LoginRequest>): void {
  try {
    target.receive(request);
  } catch (error) {
    check(error instanceof ProtocolError && error.code === 'ESTATE', `after the end: ${(error as Error).stack}`);
    return;
  }
  throw new FuzzFailure('a request after the end of the login was answered');
}

function requestOf(s: Step): Pdu<LoginRequest> | undefined {
  let raw: Buffer;
  if ('raw' in s) {
    raw = Buffer.from(s.raw);
  } else {
    raw = Buffer.alloc(48);
    encodeBhs({ ...s.header, dataLength: s.data.length } as BhsInit, raw);
  }
  let bhs;
  try {
    bhs = decodeBhs(raw);
  } catch (error) {
    check(isTypedProtocolError(error), `decodeBhs threw ${(error as Error).stack}`);
    return undefined; // an unknown opcode never reaches the login (the connection rejects it)
  }
  // Other opcodes go in too: TargetLogin promises to refuse them itself (0x020b), whatever its caller filters.
  return { bhs: bhs as LoginRequest, data: s.data };
}

function checkTextDecoder(data: Buffer): void {
  for (const decode of [decodeTextPairs, decodeTextKeys]) {
    try { decode(data); } catch (error) { check(isTypedProtocolError(error), `text decoder threw ${(error as Error).stack}`); }
  }
  const assembler = new TextAssembler(4096);
  try {
    for (let at = 0; at < data.length; at += 1000) assembler.push(data.subarray(at, at + 1000), at + 1000 < data.length);
  } catch (error) {
    check(isTypedProtocolError(error), `TextAssembler threw ${(error as Error).stack}`);
  }
}

const outcomes: Record<string, number> = { continue: 0, established: 0, failed: 0, redirected: 0 };
let pdus = 0;

function runSequence(target: TargetLogin, steps: Step[]): void {
  for (const s of steps) {
    checkTextDecoder(s.data);
    const request = requestOf(s);
    if (!request) continue;
    pdus++;
    const reply = feed(target, request);
    outcomes[reply.outcome]++;
    if (reply.outcome !== 'continue') return checkEnded(target, request);
  }
}

function runMutated(target: TargetLogin, i: Extract<Input, { kind: 'mutated' }>): void {
  const initiator = new InitiatorLogin({
    initiatorName: 'iqn.2024-01.org.example:fuzzer', targetName: TARGET, isid: Buffer.from([0x80, 0, 0, 1, 0, 0]), itt: 1,
    chap: i.chap ? { user: 'alice', secret: 'alice-secret-1234', algorithms: [ChapAlgorithm.SHA256, ChapAlgorithm.MD5] } : undefined,
  });
  let next: InitiatorLoginStep = initiator.start();
  for (let n = 0; next.kind === 'send' && n < 20; n++) {
    const out: OutgoingPdu<LoginRequest> = next.pdu;
    const raw = Buffer.alloc(48);
    encodeBhs({ ...out.bhs, dataLength: out.data.length } as BhsInit, raw);
    let data = Buffer.from(out.data);
    if (n === i.mutateAt) {
      const whole = Buffer.concat([raw, data]);
      for (const [at, v] of i.flips) whole[at % whole.length] = v;
      raw.set(whole.subarray(0, 48));
      data = whole.subarray(48, i.truncate === null ? undefined : 48 + (i.truncate % (data.length + 1)));
    }
    const request = requestOf({ raw, data });
    if (!request) return;
    pdus++;
    const reply = feed(target, request);
    outcomes[reply.outcome]++;
    if (reply.outcome !== 'continue') return checkEnded(target, request);
    try {
      const rsp = Buffer.alloc(48);
      encodeBhs({ ...reply.pdu.bhs, dataLength: reply.pdu.data.length } as BhsInit, rsp);
      next = initiator.receive({ bhs: decodeBhs(rsp) as LoginResponse, data: reply.pdu.data });
    } catch (error) {
      // The initiator may refuse what a confused target says; it must do so with a typed error too.
      check(isTypedProtocolError(error), `initiator threw ${(error as Error).stack}`);
      return;
    }
  }
}

function fuzzInWorker(options: Options): void {
  heartbeat = new Int32Array(workerData.heartbeat as SharedArrayBuffer);
  let peakHeap = 0;
  let runs = 0;
  const property = fc.property(input, (i) => {
    runs++;
    const target = targetFor(i.target);
    if (i.kind === 'sequence') runSequence(target, i.steps);
    else runMutated(target, i);
    if ((runs & 255) === 0) {
      // The heap is capped by the worker's limit; buffers live outside it and are checked here.
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      peakHeap = Math.max(peakHeap, heapUsed);
      check(arrayBuffers < ARRAY_BUFFER_LIMIT_MB * 2 ** 20, `buffers hold ${Math.round(arrayBuffers / 2 ** 20)} MiB`);
    }
  });
  const details = fc.check(property, {
    seed: options.seed, path: options.path, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: options.seconds * 1000,
    markInterruptAsFailure: false,
  });
  // The error first; the counterexample can be megabytes of PDU bytes, so only its start is shown.
  const error = details.errorInstance as Error | undefined;
  const report = details.failed
    ? `${error?.stack ?? String(error)}\nreplay: npm run fuzz:login -- --seed ${details.seed} --path ${details.counterexamplePath}\n`
      + `counterexample: ${fc.stringify(details.counterexample).slice(0, 3000)}`
    : undefined;
  parentPort!.postMessage({
    failed: details.failed, report,
    runs, pdus, outcomes, peakHeapMb: Math.round(peakHeap / 2 ** 20), seed: options.seed,
  });
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const shared = new SharedArrayBuffer(4);
  const beats = new Int32Array(shared);
  process.stdout.write(`fuzz:login for ${options.seconds} s, seed ${options.seed}, heap cap ${HEAP_LIMIT_MB} MiB\n`);
  // The worker loads this same file through tsx's CommonJS hook (a worker does not inherit tsx's loader).
  const boot = `require('tsx/cjs'); require(${JSON.stringify(__filename)});`;
  const worker = new Worker(boot, { eval: true, workerData: { options, heartbeat: shared }, resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MB } });
  let last = -1;
  let still = 0;
  let done = false;
  // The worker beats around every receive(); a beat count standing still for HANG_MS is a hang.
  const watchdog = setInterval(() => {
    const now = Atomics.load(beats, 0);
    still = now === last ? still + 250 : 0;
    last = now;
    if (still >= HANG_MS) {
      process.stderr.write(`fuzz:login: HANG: no progress for ${HANG_MS} ms (seed ${options.seed})\n`);
      done = true;
      process.exitCode = 1;
      void worker.terminate();
      clearInterval(watchdog);
    }
  }, 250);
  worker.on('message', (r: { failed: boolean; report?: string; runs: number; pdus: number; outcomes: Record<string, number>; peakHeapMb: number; seed: number }) => {
    done = true;
    clearInterval(watchdog);
    process.stdout.write(`inputs ${r.runs}, Login Requests ${r.pdus}, outcomes ${JSON.stringify(r.outcomes)}, peak heap ${r.peakHeapMb} MiB\n`);
    if (r.failed) {
      process.stderr.write(`fuzz:login: FAILED (replay with --seed ${r.seed})\n${r.report}\n`);
      process.exitCode = 1;
    } else if (r.runs === 0 || r.pdus === 0) {
      process.stderr.write('fuzz:login: nothing was fuzzed\n');
      process.exitCode = 1;
    }
  });
  worker.on('error', (error) => {
    done = true;
    clearInterval(watchdog);
    // ERR_WORKER_OUT_OF_MEMORY: the parser let a peer make it hold more than the cap.
    process.stderr.write(`fuzz:login: worker died: ${(error as NodeJS.ErrnoException).code ?? ''} ${error.stack} (seed ${options.seed})\n`);
    process.exitCode = 1;
  });
  worker.on('exit', (code) => {
    clearInterval(watchdog);
    if (!done) {
      process.stderr.write(`fuzz:login: worker exited with ${code} before reporting\n`);
      process.exitCode = 1;
    }
  });
}

if (isMainThread) main();
else fuzzInWorker((workerData as { options: Options }).options);
