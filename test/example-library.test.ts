// examples/library.ts, run as a user runs it (tsx, `import ... from 'iscsi-mpio'`) against the embedded target: two
// paths through the group portal, a write read back and restored, round-robin over both, per-path counters.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Target } from '../lib/target/target';

const ROOT = path.join(__dirname, '..');
const NET = '127.63.2';

function runExample(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'examples', 'library.ts'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('examples/library.ts against the embedded target', function () {
  this.timeout(60_000);
  let target: Target;

  before(async () => {
    target = await Target.start({ group: `${NET}.1:0`, portals: [`${NET}.2:0`, `${NET}.3:0`], luns: ['4M'] });
  });
  after(async () => {
    await target?.stop();
  });

  it('connects with two paths, writes and restores the last 8 blocks, spreads reads over both paths, exits 0', async () => {
    const lu = target.logicalUnit(1)!;
    const tail = (lu.blocks - 8) * lu.blockSize;
    const before = randomBytes(8 * lu.blockSize);
    await lu.writeAt(tail, before);
    const run = await runExample([target.url('group', 1), `${NET}.21`, `${NET}.22`]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0], /^device 3[0-9a-f]{32}: 8192 blocks of 512 bytes, 2 paths, policy failover$/);
    assert.match(run.stdout, /wrote and read back 4096 bytes at LBA 8184, then restored them/);
    const paths = lines.filter((l) => l.startsWith('path ') && l.includes('->') && l.includes('reads'));
    assert.equal(paths.length, 2, run.stdout);
    const remotes = new Set<string>();
    for (const [i, line] of paths.entries()) {
      const m = new RegExp(`^path ${i} active: ${NET}\\.2${i + 1} -> (${NET}\\.[23]:\\d+), (\\d+) reads`).exec(line);
      assert.ok(m, line);
      remotes.add(m[1]);
      assert.ok(Number(m[2]) > 0, `path ${i} carried reads under round-robin: ${line}`);
    }
    assert.equal(remotes.size, 2, 'the two paths landed on different members');
    assert.ok(Buffer.from(await lu.readAt(tail, before.length)).equals(before), 'the example put the old blocks back');
    assert.equal(target.sessions().length, 0, 'close() logged both paths out');
  });

  it('is what README.md shows: the README\'s TypeScript block is a verbatim part of the file', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const shown = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(shown, 'README.md has a ```ts block');
    assert.ok(readFileSync(path.join(ROOT, 'examples', 'library.ts'), 'utf8').includes(shown.trim()), 'examples/library.ts contains it unchanged');
  });

  it('fails with one line and exit 1 when the target is not there', async () => {
    const run = await runExample([`iscsi://${NET}.9:3260/${target.iqn}/1`]);
    assert.equal(run.code, 1);
    assert.match(run.stderr.trim(), /^NoPathError: no path logged in to .* refused the connection: .* \(ENOPATH\)$/);
  });
});
