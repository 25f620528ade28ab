// The CLI against a hostile target (test/support/hostile-target): a command that could not do its job exits
// non-zero with exactly one line on stderr naming what went wrong; one that did its job exits 0, and a logout the
// target never answered is one warning line. The garbage-after-login race runs under CPU load, as it was found.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { type BhsInit, encodeBhs } from '../lib/wire/bhs';
import { Opcode, RESERVED_TAG } from '../lib/wire/opcodes';
import { ScsiOp } from '../lib/scsi/opcodes';
import { cliLoop, type CliRun, runCli } from './support/hostile-target/cli-runs';
import { HostileTarget, type HostileTargetOptions } from './support/hostile-target/hostile-target';
import { pattern } from './support/hostile-target/honest-lu';

const isRead = (c: { bhs: { cdb: Buffer } }) => c.bhs.cdb[0] === ScsiOp.READ_10 || c.bhs.cdb[0] === ScsiOp.READ_16;
const READ_64K = ['--offset', '0', '--length', '65536', '--timeout', '1000'];

function oneLine(run: CliRun): string {
  const lines = run.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `exactly one line on stderr, got: ${JSON.stringify(run.stderr)}`);
  return lines[0];
}

describe('CLI against a hostile target', function () {
  this.timeout(120_000);
  let target: HostileTarget | undefined;
  let host = 100;

  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });

  async function hostile(options: Omit<HostileTargetOptions, 'address'>): Promise<HostileTarget> {
    // Misbehaving again on every reconnection: re-driving cannot help, the CLI must give up and say why.
    target = await HostileTarget.start({ address: `127.42.0.${host++}`, limits: { defaultTime2Wait: 0 }, ...options });
    return target;
  }

  it('garbage right after the final Login Response, 20 runs with a core busy: never exit 0, always one line', async () => {
    const t = await hostile({ script: async (peer) => { peer.raw(randomBytes(64 * 1024)); await peer.waitClosed(); } });
    const summary = await cliLoop(['read', t.url, ...READ_64K], 20, 2);
    assert.equal(summary.exitedZero.length, 0, `runs exited 0: ${JSON.stringify(summary.exitedZero)}`);
    assert.equal(summary.badStderr.length, 0, `runs without exactly one stderr line: ${JSON.stringify(summary.badStderr.map((r) => r.stderr))}`);
    // A target breaking the protocol is a transport failure (lib/cli/exit-codes.ts), every time.
    assert.deepEqual(Object.keys(summary.byCode), ['4']);
  });

  it('an oversized DataSegmentLength: exit non-zero, one line naming it', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        const header = Buffer.alloc(48);
        encodeBhs({ opcode: Opcode.DataIn, final: false, acknowledge: false, overflow: false, underflow: false, hasStatus: false, status: 0, lun: 0,
          itt: command.bhs.itt, ttt: RESERVED_TAG, dataSN: 0, bufferOffset: 0, residualCount: 0, ...peer.window(), dataLength: 0xffffff } as BhsInit, header);
        peer.raw(header);
        await peer.waitClosed();
      },
    });
    const run = await runCli(['read', t.url, ...READ_64K]);
    assert.notEqual(run.code, 0);
    assert.match(oneLine(run), /DataSegmentLength 16777215 exceeds MaxRecvDataSegmentLength/);
    assert.equal(run.stdoutBytes, 0);
  });

  it('a SCSI Response whose SenseLength runs past its segment: exit non-zero, one line naming it', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        peer.send({ opcode: Opcode.ScsiResponse, bidiOverflow: false, bidiUnderflow: false, overflow: false, underflow: false, response: 0, status: 0x02,
          itt: command.bhs.itt, snackTag: 0, expDataSN: 0, bidiResidualCount: 0, residualCount: 0, ...peer.status() }, Buffer.from([0x00, 0xff, 0x70, 0]));
        await peer.waitClosed();
      },
    });
    const run = await runCli(['read', t.url, ...READ_64K]);
    assert.notEqual(run.code, 0);
    assert.match(oneLine(run), /declares 255 bytes of sense in a 4-byte data segment/);
  });

  it('a Data-In for an ITT never issued, on every connection: exit non-zero, one line naming the tag', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil(isRead);
        peer.dataIn({ ...command, bhs: { ...command.bhs, itt: 0x5151 } }, { dataSN: 0, bufferOffset: 0 }, Buffer.alloc(4096, 0x77));
        await peer.waitClosed();
      },
    });
    const run = await runCli(['read', t.url, ...READ_64K]);
    assert.notEqual(run.code, 0);
    assert.match(oneLine(run), /Data-In for ITT 0x5151, which no command of this session holds/);
    assert.equal(run.stdoutBytes, 0);
  });

  it('wrong data digests on every connection: exit non-zero, one line naming the digest', async () => {
    const t = await hostile({
      script: async (peer) => {
        const command = await peer.serveUntil((c) => isRead(c) && c.bhs.expectedDataTransferLength === 64 * 1024);
        peer.dataIn(command, { dataSN: 0, bufferOffset: 0, hasStatus: true, final: true }, pattern(0, 64 * 1024), { badDataDigest: true });
        await peer.waitClosed();
      },
    });
    const run = await runCli(['read', t.url, ...READ_64K, '--digests']);
    assert.notEqual(run.code, 0);
    assert.match(oneLine(run), /data digest mismatch/);
    assert.equal(run.stdoutBytes, 0, 'no unverified byte reached stdout');
  });

  it('a Login Response that never comes: --login-timeout bounds the wait; exit 8 (timeout), one line naming it', async () => {
    const t = await hostile({ loginResponse: () => undefined });
    const started = Date.now();
    const run = await runCli(['read', t.url, ...READ_64K, '--login-timeout', '1s']);
    const took = Date.now() - started;
    assert.equal(run.code, 8, run.stderr);
    assert.match(oneLine(run), /no Login Response within 1000 ms/);
    // The process's own start (tsx) takes part of it; without the flag the wait alone is 10 s.
    assert.ok(took < 5000, `gave up after ${took} ms`);
  });

  it('a Logout never answered after a good read: exit 0, the right bytes, the summary and one warning line', async () => {
    const t = await hostile({ script: (peer) => peer.serveForever({ ignoreLogout: true }) });
    const run = await runCli(['read', t.url, ...READ_64K]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout, pattern(0, 65536));
    // A read that moved its bytes says so on stderr first (lib/cli/progress.ts), then the warning.
    const [summary, ...rest] = run.stderr.split('\n');
    assert.match(summary, /^65536 bytes \(.*\) read, /);
    assert.match(oneLine({ ...run, stderr: rest.join('\n') }), /^iscsi-mpio: warning: .*did not answer our Logout Request within 3000 ms/);
  });
});
