// connect() from a URL, as the CLI and Target.url() speak them: the string and parseIscsiUrl()'s object both work,
// the CHAP login comes from `user%secret@` or, with `user@` alone, from options.chap; a user without any secret,
// or two different users, is refused before anything connects.
import assert from 'node:assert/strict';
import { AuthenticationError, Initiator, IscsiUrlError, parseIscsiUrl, Target, type MultipathDevice } from '../lib/index';

const NET = '127.63.1';
const SECRET = 'url-secret-4f2a';

describe('Initiator.connect(URL)', function () {
  this.timeout(30_000);
  let target: Target;
  let device: MultipathDevice | undefined;
  const initiator = new Initiator({ name: 'iqn.2024-01.io.iscsi-mpio.test:connect-url' });
  const where = () => `${target.group!.address}:${target.group!.port}`;

  before(async () => {
    target = await Target.start({ group: `${NET}.1:0`, portals: [`${NET}.2:0`, `${NET}.3:0`], luns: ['4M'], chap: { user: 'alice', secret: SECRET } });
  });
  afterEach(async () => {
    await device?.close();
    device = undefined;
  });
  after(async () => {
    await target?.stop();
  });

  it('takes iscsi://user%secret@group/iqn/lun with two paths, each redirected to a member', async () => {
    device = await initiator.connect(`iscsi://alice%${SECRET}@${where()}/${target.iqn}/1`, {
      paths: [{ sourceAddress: `${NET}.21` }, { sourceAddress: `${NET}.22` }], policy: 'round-robin', nopIntervalMs: 60_000,
    });
    const paths = device.paths.map((p) => p.info());
    assert.deepEqual(paths.map((p) => p.redirectedFrom), [where(), where()]);
    assert.notEqual(paths[0].remote.port, paths[1].remote.port, 'two different members');
    const data = Buffer.alloc(4096, 0x3c);
    await device.write(8, data);
    assert.ok((await device.read(8, 8)).equals(data));
  });

  it('takes a parsed URL with user@ and the secret from options.chap, and refuses a wrong secret at login', async () => {
    const url = parseIscsiUrl(`iscsi://alice@${where()}/${target.iqn}/1`);
    device = await initiator.connect(url, { chap: { user: 'alice', secret: SECRET }, nopIntervalMs: 60_000 });
    assert.equal((await device.capacity()).blocks, 8192);
    await assert.rejects(initiator.connect(url, { chap: { user: 'alice', secret: 'not-it-at-all' } }), AuthenticationError);
  });

  it('refuses user@ without a secret, and two different users, before connecting', async () => {
    const before = target.sessions().length;
    await assert.rejects(initiator.connect(`iscsi://alice@${where()}/${target.iqn}/1`), (e: unknown) =>
      e instanceof IscsiUrlError && /no CHAP secret for user "alice"/.test(e.message));
    await assert.rejects(initiator.connect(`iscsi://alice@${where()}/${target.iqn}/1`, { chap: { user: 'bob', secret: SECRET } }), (e: unknown) =>
      e instanceof IscsiUrlError && /"alice" differs from options.chap.user "bob"/.test(e.message) && !e.message.includes(SECRET));
    await assert.rejects(initiator.connect('iscsi://nowhere'), IscsiUrlError);
    assert.equal(target.sessions().length, before);
  });
});
