// The login fuzz script (npm run fuzz:login) works end to end: a short run fuzzes thousands of inputs, reaches every
// login outcome and exits 0. CI runs it for a minute; this keeps the script itself from rotting.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import path from 'node:path';

const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const SCRIPT = path.join(__dirname, 'fuzz', 'target-login.fuzz.ts');

describe('fuzz:login', function () {
  this.timeout(60_000);

  it('a 3 s run feeds Login Requests, sees every outcome and passes', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(TSX, [SCRIPT, '--seconds', '3', '--seed', '42'], (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }));
    });
    assert.equal(code, 0, stderr);
    const m = /inputs (\d+), Login Requests (\d+), outcomes (\{.*\})/.exec(stdout);
    assert.ok(m, stdout);
    assert.ok(Number(m[1]) > 200 && Number(m[2]) > 200, stdout); // thousands normally; slack for a loaded or sanitized CI
    const outcomes = JSON.parse(m[3]) as Record<string, number>;
    for (const outcome of ['continue', 'established', 'failed', 'redirected']) assert.ok(outcomes[outcome] > 0, `${outcome}: ${stdout}`);
  });
});
