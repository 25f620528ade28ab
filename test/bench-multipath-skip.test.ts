// bench:multipath measures nothing without root: it must say so and fail, so a CI log never shows a bench that
// "passed" by not running; --allow-skip makes that skip an explicit, successful choice.
import assert from 'node:assert/strict';
import path from 'node:path';
import { requireRoot, requireTools, runTool } from './support/tools';

const ROOT = path.resolve(__dirname, '..');

describe('bench:multipath without root', function () {
  this.timeout(60_000);

  for (const allowSkip of [false, true]) {
    it(allowSkip ? 'with --allow-skip: says it skipped, names why, exits 0' : 'says it did not run, names why, exits non-zero', async function () {
      requireRoot(this, 'to run the bench as an unprivileged user with runuser');
      requireTools(this, 'runuser');
      const { code, out } = await runTool('runuser', ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', path.join(ROOT, 'bench/multipath.ts'), ...(allowSkip ? ['--allow-skip'] : [])]);
      assert.match(out, allowSkip ? /bench:multipath skipped: .*needs root.*--allow-skip/ : /bench:multipath NOT RUN: .*needs root/);
      assert.equal(code, allowSkip ? 0 : 1, out);
    });
  }
});
