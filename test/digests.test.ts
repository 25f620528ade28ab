// Digest negotiation: unset offers CRC32C,None (digests when the target allows them), `true`/--digests requires
// CRC32C, `false`/--no-digests refuses it. A target that takes none of what we offer ends the login at once with
// one line naming the key and the flag that works: the embedded target answering Reject, tgtd answering its own
// setting instead of ours. discover honours the same flags.
import assert from 'node:assert/strict';
import { Initiator } from '../lib/initiator';
import type { Digest } from '../lib/protocol/negotiation';
import { Target } from '../lib/target/target';
import { runCli } from './support/cli';
import { requireTools, Tgtd } from './support/tgtd';

const NET = '127.49.1';

describe('Digests: preferred by default, required or refused on request', function () {
  this.timeout(60_000);
  let lenient: Target;
  let requiring: Target;
  let refusing: Target;
  const at = (t: Target) => `${t.portals[0].address}:${t.portals[0].port}`;

  before(async () => {
    lenient = await Target.start({ portals: [`${NET}.1:0`], luns: ['1M'], nopInterval: 0 });
    requiring = await Target.start({ portals: [`${NET}.2:0`], luns: ['1M'], nopInterval: 0, limits: { headerDigest: ['CRC32C'], dataDigest: ['CRC32C'] } });
    refusing = await Target.start({ portals: [`${NET}.3:0`], luns: ['1M'], nopInterval: 0, limits: { headerDigest: ['None'], dataDigest: ['None'] } });
  });
  after(async () => {
    await Promise.all([lenient, requiring, refusing].map((t) => t?.stop()));
  });

  async function negotiated(target: Target, digests: boolean | undefined): Promise<[Digest, Digest]> {
    const session = await new Initiator().openSession({ target: target.iqn, portal: at(target), digests });
    try {
      return [session.parameters.headerDigest, session.parameters.dataDigest];
    } finally {
      await session.close();
    }
  }

  it('library: unset takes CRC32C where allowed and None where not; true and false get what they ask', async () => {
    assert.deepEqual(await negotiated(lenient, undefined), ['CRC32C', 'CRC32C']);
    assert.deepEqual(await negotiated(requiring, undefined), ['CRC32C', 'CRC32C']);
    assert.deepEqual(await negotiated(refusing, undefined), ['None', 'None']);
    assert.deepEqual(await negotiated(lenient, true), ['CRC32C', 'CRC32C']);
    assert.deepEqual(await negotiated(lenient, false), ['None', 'None']);
  });

  it('CLI: a target that takes none of our digests ends the login in one line naming HeaderDigest and the fix', async () => {
    const cases: Array<[Target, string, RegExp]> = [[requiring, '--no-digests', /--digests/], [refusing, '--digests', /--no-digests/]];
    for (const [target, flag, fix] of cases) {
      const started = Date.now();
      const run = await runCli(['inquiry', `iscsi://${at(target)}/${target.iqn}/1`, flag]);
      const took = Date.now() - started;
      assert.notEqual(run.code, 0);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0], /HeaderDigest/);
      assert.match(lines[0], fix);
      assert.ok(took < 2000 + 1500, `failed in ${took} ms (the CLI itself starts in about 1 s)`);
    }
    const ok = await runCli(['inquiry', `iscsi://${at(requiring)}/${requiring.iqn}/1`]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('library: the refusal is a NegotiationError on HeaderDigest, in well under 2 s', async () => {
    const started = Date.now();
    await assert.rejects(new Initiator().openSession({ target: requiring.iqn, portal: at(requiring), digests: false }),
      (e: Error & { key?: string }) => e.name === 'NegotiationError' && e.key === 'HeaderDigest');
    assert.ok(Date.now() - started < 2000);
  });

  it('discover honours --digests and --no-digests', async () => {
    const refused = await runCli(['discover', at(requiring), '--no-digests']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /HeaderDigest.*--digests/);
    const required = await runCli(['discover', at(refusing), '--digests']);
    assert.notEqual(required.code, 0);
    assert.match(required.stderr, /HeaderDigest.*--no-digests/);
    const found = await runCli(['discover', at(requiring), '--json']);
    assert.equal(found.code, 0, found.stderr);
    assert.equal(JSON.parse(found.stdout.toString())[0].name, requiring.iqn);
  });

  it('tgtd set to HeaderDigest=None: --digests fails naming the key and --no-digests; unset logs in', async function () {
    requireTools(this, 'tgtd', 'tgtadm');
    const iqn = 'iqn.2024-01.test:digests-none';
    const portal = `${NET}.4:3260`;
    const tgtd = await Tgtd.start([portal], [{ name: iqn, luns: [{ sizeBytes: 1 << 20 }], params: { HeaderDigest: 'None', DataDigest: 'None' } }]);
    try {
      const refused = await runCli(['inquiry', `iscsi://${portal}/${iqn}/1`, '--digests']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /^iscsi-mpio: HeaderDigest=CRC32C: .*--no-digests/);
      const session = await new Initiator().openSession({ target: iqn, portal });
      assert.equal(session.parameters.headerDigest, 'None');
      await session.close();
    } finally {
      await tgtd.stop();
    }
  });
});
