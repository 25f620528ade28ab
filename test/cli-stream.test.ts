// `read` and `write` stream with bounded memory: 256 MiB piped through the real CLI into a file-backed LU of the
// embedded target and back, with the CLI's resident high-water mark (VmHWM) far below the size; --length exact or
// an error when stdin ends early; unaligned edges across chunk boundaries; the dd-like summary, --json, and the
// progress line on a TTY (util-linux `script`).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Target } from '../lib/target/target';
import { generated, runStreamingCli } from './support/stream-cli';
import { requireTools } from './support/tools';

const NET = '127.50.0';
const MiB = 1 << 20;
const SIZE = 256 * MiB;

describe('CLI: read and write stream with bounded memory', function () {
  this.timeout(180_000);
  let target: Target;
  let dir: string;
  let url: string;

  before(async () => {
    dir = mkdtempSync(path.join(existsShm() ? '/dev/shm' : os.tmpdir(), 'iscsi-mpio-stream-'));
    target = await Target.start({ portals: [`${NET}.10:0`], luns: [{ size: '320M', file: path.join(dir, 'lu0') }], nopInterval: 0 });
    url = target.url(0);
  });
  after(async () => {
    await target?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`write of ${SIZE >> 20} MiB from a pipe (no --length) then read: same sha256, CLI peak memory far below the size`, async () => {
    const w = await runStreamingCli(['write', url, '--offset', '4096', '--path', `${NET}.20`], { input: generated(SIZE, 'stream-test') });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.bytes, SIZE);
    const r = await runStreamingCli(['read', url, '--offset', '4096', '--length', String(SIZE), '--path', `${NET}.20`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.bytes, SIZE);
    assert.equal(r.sha256, w.sha256, 'the bytes read back are the bytes written');
    // Node with tsx compiling the sources resides in ~95 MB before any transfer (`--help`): what a transfer adds
    // on top must be a small constant, nowhere near the 256 MiB moved.
    const baseline = (await runStreamingCli(['--help'])).peakKiB;
    for (const [what, run] of [['write', w], ['read', r]] as const) {
      assert.ok(run.peakKiB > 0 && baseline > 0, `${what}: VmHWM was reported`);
      assert.ok(run.peakKiB * 1024 < 150e6, `${what}: VmHWM ${run.peakKiB} kB is under 150 MB`);
      assert.ok((run.peakKiB - baseline) * 1024 < SIZE / 8, `${what}: VmHWM ${run.peakKiB} kB is ${run.peakKiB - baseline} kB over --help's, far below ${SIZE} bytes`);
    }
  });

  it('writes across chunk boundaries from an unaligned offset to an unaligned end, leaving the bytes around it', async () => {
    const base = 300 * MiB;
    const around = Buffer.concat([...generated(4 * MiB, 'around')]);
    assert.equal((await runStreamingCli(['write', url, '--offset', String(base), '--json'], { input: [around] })).code, 0);
    const data = Buffer.concat([...generated(2 * MiB + 7, 'middle')]);
    const from = 1000;
    const w = await runStreamingCli(['write', url, '--offset', String(base + from)], { input: chopped(data, 65_521) });
    assert.equal(w.code, 0, w.stderr);
    const r = await runStreamingCli(['read', url, '--offset', String(base), '--length', String(around.length)], { keepStdout: around.length });
    assert.equal(r.code, 0, r.stderr);
    const expected = Buffer.from(around);
    data.copy(expected, from);
    assert.ok(r.stdout.equals(expected), 'the written range holds the data, the bytes before and after are unchanged');
  });

  it('write --length N takes exactly N bytes of a longer stdin', async () => {
    const base = 310 * MiB;
    const zeros = Buffer.alloc(MiB);
    assert.equal((await runStreamingCli(['write', url, '--offset', String(base)], { input: [zeros] })).code, 0);
    const data = Buffer.concat([...generated(MiB, 'exact')]);
    const w = await runStreamingCli(['write', url, '--offset', String(base), '--length', '300000', '--json'], { input: [data] });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(JSON.parse(w.stdout.toString()).bytes, 300000);
    const r = await runStreamingCli(['read', url, '--offset', String(base), '--length', String(MiB)], { keepStdout: MiB });
    assert.ok(r.stdout.subarray(0, 300000).equals(data.subarray(0, 300000)));
    assert.ok(r.stdout.subarray(300000).equals(zeros.subarray(300000)), 'nothing past --length was written');
  });

  it('write --length N with a shorter stdin fails with ESHORTINPUT, naming how many bytes were written', async () => {
    const w = await runStreamingCli(['write', url, '--offset', String(311 * MiB), '--length', '2M'], { input: generated(MiB + 5, 'short') });
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /stdin ended after 1048581 of the 2097152 bytes --length asked for.*\(ESHORTINPUT\)/);
    assert.equal(w.stdout.length, 0, 'no summary for a failed write');
  });

  it('write from a pipe past the end of the LU fails with ERANGE', async () => {
    const w = await runStreamingCli(['write', url, '--offset', String(319 * MiB)], { input: generated(2 * MiB, 'past') });
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /stdin holds more than the 1048576 bytes from offset 334495744 to the end of the LU \(335544320 bytes\).*\(ERANGE\)/);
  });

  it('write from a regular file (`< file`) past the end of the LU is refused before anything is written', async () => {
    const at = 319 * MiB;
    const before = await runStreamingCli(['read', url, '--offset', String(at), '--length', '1M'], { keepStdout: MiB });
    const file = path.join(dir, 'input');
    writeFileSync(file, Buffer.concat([...generated(2 * MiB, 'file')]));
    const fd = openSync(file, 'r');
    const main = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'write', url, '--offset', String(at)], { stdio: [fd, 'ignore', 'pipe'] });
    closeSync(fd);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /range 334495744\+2097152 is past the end of the LU \(335544320 bytes\) \(ERANGE\)/);
    const after = await runStreamingCli(['read', url, '--offset', String(at), '--length', '1M'], { keepStdout: MiB });
    assert.ok(after.stdout.equals(before.stdout), 'nothing was written');
  });

  it('ends with one summary line on stderr (bytes, seconds, MB/s), or one JSON object: stderr for read, stdout for write', async () => {
    const data = Buffer.concat([...generated(3 * MiB, 'summary')]);
    const w = await runStreamingCli(['write', url, '--offset', '0'], { input: [data] });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout.length, 0);
    assert.match(w.stderr, /^3145728 bytes \(3\.1 MB, 3\.0 MiB\) written, \d+\.\d\d s, \d+\.\d MB\/s\n$/);

    const wj = await runStreamingCli(['write', url, '--offset', '0', '--json'], { input: [data] });
    const ws = JSON.parse(wj.stdout.toString());
    assert.deepEqual(Object.keys(ws).sort(), ['MBps', 'bytes', 'offset', 'op', 'paths', 'seconds']);
    assert.equal(ws.paths.length, 1);
    assert.ok(ws.paths[0].bytesWritten >= data.length, 'the one path carried every byte');
    assert.equal(ws.op, 'write');
    assert.equal(ws.bytes, data.length);
    assert.ok(ws.seconds > 0 && ws.MBps > 0);
    assert.equal(wj.stderr, '');

    const r = await runStreamingCli(['read', url, '--offset', '10', '--length', '1M'], { keepStdout: MiB });
    assert.match(r.stderr, /^1048576 bytes \(1\.0 MB, 1\.0 MiB\) read, \d+\.\d\d s, \d+\.\d MB\/s\n$/);
    const rj = await runStreamingCli(['read', url, '--offset', '10', '--length', '1M', '--json'], { keepStdout: MiB });
    assert.ok(rj.stdout.equals(data.subarray(10, 10 + MiB)), 'stdout carries only the data');
    const rs = JSON.parse(rj.stderr);
    assert.equal(rs.op, 'read');
    assert.equal(rs.offset, 10);
    assert.equal(rs.bytes, MiB);
  });

  it('draws a progress line (bytes, %, MB/s, ETA) on a TTY stderr and clears it before the summary', async function () {
    requireTools(this, 'script');
    const sizeArg = String(96 * MiB);
    // stdin from /dev/zero through head, stdout to /dev/null; `script` gives the command a pty for stderr.
    const main = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
    const command = `head -c ${sizeArg} /dev/zero | ${process.execPath} --import tsx ${main} write ${url} --offset 0 --length ${sizeArg} > /dev/null`;
    const { stdout } = await promisify(execFile)('script', ['-qfec', command, '/dev/null'], { cwd: path.join(__dirname, '..'), maxBuffer: 16 << 20 });
    const progress = stdout.split('\r').map((s) => s.replace(/\x1b\[K/g, '')).filter((s) => /% /.test(s));
    assert.ok(progress.length >= 1, `a progress line was drawn: ${JSON.stringify(stdout.slice(0, 400))}`);
    for (const line of progress) assert.match(line, /^\d+ bytes \([^)]+\)  \d+%  \d+\.\d MB\/s/);
    // ETA once bytes flow (a loaded machine may draw a first line before the first byte).
    const moving = progress.find((line) => !line.startsWith('0 bytes'));
    assert.ok(moving, `a line with bytes written: ${JSON.stringify(progress.slice(0, 3))}`);
    assert.match(moving, /  ETA \d+:\d\d/);
    assert.match(stdout, /\r\x1b\[K100663296 bytes \(100\.7 MB, 96\.0 MiB\) written, /, 'the line is cleared, then the summary');
    // Not a TTY: no progress line, only the summary (the cases above).
    const w = await runStreamingCli(['write', url, '--offset', '0', '--length', '1M'], { input: generated(MiB, 'tty') });
    assert.ok(!w.stderr.includes('\r'));
  });
});

function existsShm(): boolean {
  try { return require('node:fs').statSync('/dev/shm').isDirectory(); } catch { return false; }
}

/** `data` cut into pieces of `size` bytes, as a pipe delivers it. */
function* chopped(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

