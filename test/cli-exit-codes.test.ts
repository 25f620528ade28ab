// The CLI's exit status by class of failure (lib/cli/exit-codes.ts), each from a real failure: the embedded target,
// a closed port, a wrong CHAP secret, an unknown target, a SCSI error from the LU, a portal that never answers,
// every path down mid-read; and its output: a reader closing stdout early ends it quietly, a full disk is one line.
import assert from 'node:assert/strict';
import { spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CommanderError } from 'commander';
import { EXIT, exitCodeOf } from '../lib/cli/exit-codes';
import { NoPathError, PathIdentityError, PolicyError } from '../lib/mpio/errors';
import { AuthenticationError } from '../lib/protocol/chap';
import { NegotiationError, TextFormatError } from '../lib/protocol/errors';
import { LoginError } from '../lib/protocol/login-status';
import { ScsiParseError } from '../lib/scsi/errors';
import { ScsiError } from '../lib/scsi/scsi-error';
import { PathError, RedirectLoopError, SessionArgumentError, SessionProtocolError } from '../lib/session/errors';
import { Target } from '../lib/target/target';
import { IscsiUrlError } from '../lib/url';
import { ConnectError, ProtocolError } from '../lib/wire/errors';

const MAIN = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const NET = `127.45.${(process.pid % 200) + 1}`;

interface Run { stdout: Buffer; stderr: string; code: number }

function run(command: string, args: string[], stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr, code: code ?? -1 }));
  });
}
const cli = (args: string[], stdio?: StdioOptions) => run(TSX, [MAIN, ...args], stdio);

/** One line on stderr, naming `what`, and nothing else. */
function oneLine(stderr: string, what: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  assert.match(lines[0], what);
}

describe('CLI exit status: every typed error of the stack has its class', () => {
  it('maps each error class (and code) to its status, and an unknown wrapper to its cause', () => {
    const cases: Array<[Error, number]> = [
      [new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), EXIT.ok],
      [new CommanderError(1, 'commander.unknownOption', 'unknown option'), EXIT.usage],
      [new IscsiUrlError('x', 'malformed'), EXIT.usage],
      [new PolicyError('unknown policy'), EXIT.usage],
      [new SessionArgumentError('unaligned'), EXIT.usage],
      [new ConnectError('refused', 'ECONNREFUSED'), EXIT.transport],
      [new ConnectError('no answer', 'ETIMEDOUT'), EXIT.timeout],
      [new ConnectError('not allowed', 'EPERM'), EXIT.access],
      [new PathError('lost', 'ECONNLOST'), EXIT.transport],
      [new PathError('slow', 'ETIMEDOUT'), EXIT.timeout],
      [new SessionProtocolError('no login response within 300 ms', 'ETIMEDOUT'), EXIT.timeout],
      [new SessionProtocolError('unexpected PDU'), EXIT.transport],
      [new ProtocolError('bad framing'), EXIT.transport],
      [new TextFormatError('bad text'), EXIT.transport],
      [new NegotiationError('MaxBurstLength', '0', 'out of range'), EXIT.transport],
      [new LoginError(2, 3), EXIT.login],
      [new LoginError(3, 1), EXIT.login],
      [new LoginError(2, 1), EXIT.authentication],
      [new LoginError(2, 2), EXIT.authentication],
      [new AuthenticationError('alice', 'target', 'wrong answer'), EXIT.authentication],
      [new RedirectLoopError(['a:1', 'b:2', 'a:1'], 8), EXIT.login],
      [new ScsiError(0x02), EXIT.scsi],
      [new ScsiParseError('short sense'), EXIT.scsi],
      [new PathIdentityError(1, 'naa.1', 'naa.2'), EXIT.scsi],
      [new NoPathError('all paths down', 300, new PathError('lost', 'ECONNLOST')), EXIT.noPath],
      [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), EXIT.stdoutClosed],
      [new Error('wrapped', { cause: new ConnectError('refused', 'ECONNREFUSED') }), EXIT.transport],
      [new TypeError('a bug'), EXIT.failure],
    ];
    for (const [error, status] of cases) assert.equal(exitCodeOf(error), status, `${error.name}: ${error.message}`);
    assert.equal(exitCodeOf('a string'), EXIT.failure);
  });
});

describe('CLI exit status by class of failure', function () {
  this.timeout(60_000);
  let target: Target;
  let secured: Target;
  let silent: net.Server;
  const held: net.Socket[] = [];

  before(async () => {
    target = await Target.start({
      portals: [`${NET}.11:0`], luns: ['8M', { size: '1M', readOnly: true }], nopInterval: 0, rate: '200mbit',
    });
    secured = await Target.start({ portals: [`${NET}.12:0`], luns: ['1M'], nopInterval: 0, chap: { user: 'alice', secret: 'correct-horse-1' } });
    // Accepts and never says a word: a hung portal.
    silent = net.createServer((socket) => { held.push(socket); socket.on('error', () => undefined); });
    await new Promise<void>((resolve) => silent.listen(0, `${NET}.13`, () => resolve()));
  });
  after(async () => {
    for (const s of held) s.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await target?.stop();
    await secured?.stop();
  });

  it('0: done (inquiry on the embedded target)', async () => {
    const r = await cli(['inquiry', target.url(0, 1), '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.equal(JSON.parse(r.stdout.toString()).blocks * 512, 8 << 20);
    assert.equal(r.stderr, '');
  });

  it('2: usage, from commander (a missing option) and from our own checks (a bad URL, a bad number, an unknown policy)', async () => {
    const cases = [
      [['inquiry', 'iscsi://nowhere'], /bad iSCSI URL .*\(EURL\)$/],
      [['read', target.url(0, 1), '--offset', '-1', '--length', '1'], /--offset "-1": not a number of bytes.*\(EUNIT\)$/],
      [['inquiry', target.url(0, 1), '--timeout', 'soon'], /--timeout "soon": not a number with an optional unit.*\(EUNIT\)$/],
      [['inquiry', target.url(0, 1), '--policy', 'fastest'], /unknown policy "fastest".*\(EPOLICY\)$/],
    ] as const;
    const [missing, ...runs] = await Promise.all([cli(['read', target.url(0, 1), '--length', '10']), ...cases.map(([args]) => cli([...args]))]);
    assert.equal(missing.code, EXIT.usage);
    oneLine(missing.stderr, /^iscsi-mpio: required option '--offset <size>' not specified$/);
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, EXIT.usage, `${cases[i][0].join(' ')}: ${r.stderr}`);
      oneLine(r.stderr, cases[i][1]);
    }
  });

  it('4: transport, a portal that refuses the connection', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, `${NET}.14`, () => resolve()));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const commands = [['discover', `${NET}.14:${port}`], ['inquiry', `iscsi://${NET}.14:${port}/iqn.2025-01.dev.iscsi-mpio:array/1`]];
    for (const [i, r] of (await Promise.all(commands.map((args) => cli(args)))).entries()) {
      assert.equal(r.code, EXIT.transport, `${commands[i][0]}: ${r.stderr}`);
      oneLine(r.stderr, /refused the connection.*\(ECONNREFUSED\)$/);
    }
  });

  it('24: authentication, a wrong CHAP secret; 5: login, a target that does not exist', async () => {
    const member = target.members[0];
    const [wrong, unknown] = await Promise.all([
      cli(['inquiry', secured.url(0, 1), '--chap-user', 'alice', '--chap-secret', 'wrong-horse-12']),
      cli(['inquiry', `iscsi://${member.address}:${member.port}/iqn.2025-01.dev.iscsi-mpio:no-such-array/1`]),
    ]);
    assert.equal(wrong.code, EXIT.authentication, wrong.stderr);
    oneLine(wrong.stderr, /CHAP authentication of the initiator "alice" failed.*\(EAUTH\)$/);

    assert.equal(unknown.code, EXIT.login, unknown.stderr);
    oneLine(unknown.stderr, /login failed \(0x0203\).*\(ELOGIN\)$/);
  });

  it('40: SCSI, a read past the end of the LU and a write the LU refuses (DATA PROTECT)', async () => {
    const past = await cli(['read', target.url(0, 1), '--offset', String((8 << 20) - 100), '--length', '200']);
    assert.equal(past.code, EXIT.scsi, past.stderr);
    oneLine(past.stderr, /past the end of the LU.*\(ERANGE\)$/);
    assert.equal(past.stdout.length, 0, 'nothing written for a range that cannot be read whole');

    const child = spawn(TSX, [MAIN, 'write', target.url(0, 2), '--offset', '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.end(Buffer.alloc(4096, 0x5a));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, EXIT.scsi, stderr);
    oneLine(stderr, /DATA PROTECT.*\(ESCSI\)$/);
  });

  it('8: timeout, a portal that accepts and never answers', async () => {
    const { port } = silent.address() as net.AddressInfo;
    const r = await cli(['discover', `${NET}.13:${port}`, '--timeout', '300']);
    assert.equal(r.code, EXIT.timeout, r.stderr);
    oneLine(r.stderr, /within 300 ms.*\(ETIMEDOUT\)$/);
  });

  it('41: no path, the only member goes down mid-read and stays down past --down-wait', async () => {
    const child = spawn(TSX, [MAIN, 'read', target.url(0, 1), '--offset', '0', '--length', String(8 << 20), '--down-wait', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let bytes = 0;
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const closed = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    // At 200 Mbit/s the 8 MiB take about a third of a second: take the member down once data flows.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.on('data', (d: Buffer) => { bytes += d.length; });
    await target.memberDown(0);
    try {
      const code = await closed;
      assert.equal(code, EXIT.noPath, stderr);
      oneLine(stderr, /no usable path|paths keep failing/);
      assert.ok(bytes < 8 << 20, 'the read did not complete');
    } finally {
      await target.memberUp(0);
    }
  });

  it('141 and no message: the reader closes stdout early (read | head -c 100), and the sessions are logged out', async () => {
    const quote = (s: string) => `'${s}'`;
    const r = await run('bash', ['-c', `${[TSX, MAIN, 'read', target.url(0, 1), '--offset', '0', '--length', String(8 << 20)].map(quote).join(' ')} | head -c 100 | wc -c; exit \${PIPESTATUS[0]}`]);
    assert.equal(r.stdout.toString().trim(), '100');
    assert.equal(r.stderr, '', 'no trace on stderr');
    assert.equal(r.code, EXIT.stdoutClosed);
    for (let i = 0; i < 50 && target.sessions().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(target.sessions().length, 0, 'the session was logged out, not left behind');
  });

  it('1 and one line: any other output error (stdout on /dev/full), for a single print and for a read loop', async () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      // One print at the end (inquiry) and writes in a loop (read). One after the other: two logins from one host
      // with the same ISID are one I_T nexus, and the second would reinstate (end) the first's session.
      for (const args of [['inquiry', target.url(0, 1)], ['read', target.url(0, 1), '--offset', '0', '--length', String(4 << 20)]]) {
        const r = await cli(args, ['ignore', full, 'pipe']);
        assert.equal(r.code, EXIT.failure, r.stderr);
        oneLine(r.stderr, /^iscsi-mpio: cannot write the output: ENOSPC: no space left on device/);
      }
    } finally {
      fs.closeSync(full);
    }
  });
});
