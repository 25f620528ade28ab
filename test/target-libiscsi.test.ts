// The embedded target against libiscsi's tools as real peers: discovery through the group portal, redirected
// logins spread over members, and the iscsi-test-cu conformance suite with two member portals (multipath tests on).
import { strict as assert } from 'node:assert';
import { Target } from '../lib/target/target';
import { requireTools, runTool } from './support/tools';

// Tests allowed to fail, each with its reason. None today: MultipathIO.CompareAndWriteAsync (which tgtd fails)
// passes once COMPARE AND WRITE is atomic and miscompares with 0E/1D00, so it is not a libiscsi race.
const ALLOWED_FAILURES = new Set<string>([]);

describe('target with libiscsi peers', function () {
  this.timeout(300_000);
  let target: Target;

  before(async () => {
    target = await Target.start({
      group: '127.0.0.71:0', portals: ['127.0.0.72:0', '127.0.0.73:0', '127.0.0.74:0'], luns: ['128M'], nopInterval: 0,
    });
  });
  after(async () => { await target?.stop(); });

  it('iscsi-ls -s on the group portal lists every member portal', async function () {
    requireTools(this, 'iscsi-ls');
    const g = target.group!;
    const { code, out } = await runTool('iscsi-ls', ['-s', `iscsi://${g.address}:${g.port}`]);
    assert.equal(code, 0, out);
    for (const m of target.members) assert.match(out, new RegExp(`Portal:${m.address}:${m.port},${m.tpgt}`), out);
    assert.doesNotMatch(out, new RegExp(`Portal:${g.address}:`), 'the group portal itself is not a session portal');
  });

  it('iscsi-inq through the group portal is redirected, and successive logins land on different members', async function () {
    requireTools(this, 'iscsi-inq');
    const landed: number[] = [];
    const onLogin = (e: { member: number }) => landed.push(e.member);
    target.on('login', onLogin);
    try {
      for (let i = 0; i < 3; i++) {
        const { code, out } = await runTool('iscsi-inq', [target.url('group', 1)]);
        assert.equal(code, 0, out);
        assert.match(out, /Peripheral Device Type:DIRECT_ACCESS/, out);
      }
    } finally {
      target.off('login', onLogin);
    }
    assert.equal(landed.length, 3);
    assert.equal(new Set(landed).size, 3, `logins landed on members ${landed.join(', ')}`);
  });

  it('a member taken down is skipped by the group portal and comes back when up', async function () {
    requireTools(this, 'iscsi-inq');
    await target.memberDown(1);
    const landed: number[] = [];
    const onLogin = (e: { member: number }) => landed.push(e.member);
    target.on('login', onLogin);
    try {
      for (let i = 0; i < 4; i++) assert.equal((await runTool('iscsi-inq', [target.url('group', 1)])).code, 0);
      assert.ok(!landed.includes(1), `member 1 is down but got logins: ${landed.join(', ')}`);
      const refused = await runTool('iscsi-inq', [target.url(1, 1)], 10_000);
      assert.notEqual(refused.code, 0, 'a down member refuses connections');
      await target.memberUp(1);
      assert.equal((await runTool('iscsi-inq', [target.url(1, 1)])).code, 0, 'the member serves again once up');
    } finally {
      target.off('login', onLogin);
      if (!target.members[1].up) await target.memberUp(1);
    }
  });

  it('passes iscsi-test-cu ALL on two member portals (multipath tests included)', async function () {
    requireTools(this, 'iscsi-test-cu');
    const { out } = await runTool('iscsi-test-cu', ['--test=ALL', '--dataloss', target.url(0, 1), target.url(1, 1)], 280_000);
    const summary = /^\s*tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(out);
    assert.ok(summary, `no CUnit summary:\n${out.slice(-3000)}`);
    const [ran, passed, failed] = [Number(summary[2]), Number(summary[3]), Number(summary[4])];
    const failedTests: string[] = [];
    let suite = '';
    let current = '';
    for (const line of out.split('\n')) {
      const s = /^Suite: (\S+)/.exec(line);
      if (s) suite = s[1];
      const t = /^\s+Test: (\S+) \.\.\./.exec(line);
      if (t) current = `${suite}.${t[1]}`;
      if (((t && /\.\.\.\s*FAILED\s*$/.test(line)) || line.trim() === 'FAILED') && !failedTests.includes(current)) failedTests.push(current);
    }
    console.log(`      iscsi-test-cu: ${ran} tests, ${passed} passed, ${failed} failed (${failedTests.join(', ') || 'none'})`);
    assert.ok(ran >= 200, `only ${ran} tests ran`);
    assert.equal(failedTests.length, failed, `could not name every failed test:\n${out.slice(-3000)}`);
    const unexpected = failedTests.filter((t) => !ALLOWED_FAILURES.has(t));
    assert.deepEqual(unexpected, [], `failed:\n${out.slice(-4000)}`);
  });
});
