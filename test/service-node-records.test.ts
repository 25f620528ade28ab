// Node records through the CLI, as a user keeps them: files 0600 in 0700 directories, no CHAP secret unless asked,
// a stable ISID seed per record, and a clear error (never a silent skip or overwrite) for a broken, foreign,
// duplicate or missing record. No target needed: records are files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli';

const URL = 'iscsi://127.61.0.1:3260/iqn.2024-01.test:records/1';

describe('service: node records (node add/list/show/remove)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-records-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('adds a record mode 0600 in 0700 directories, without the secret given in the URL', async () => {
    const add = await runCli(['node', 'add', URL.replace('iscsi://', 'iscsi://alice%s3cr3t-p4ss@'), '--path', '127.61.0.11', '--path', '127.61.0.12@lo=127.61.0.2:3260',
      '--policy', 'round-robin', '--name', 'db', '--config', dir, '--json']);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /CHAP secret was not stored/);
    assert.ok(!add.stderr.includes('s3cr3t-p4ss') && !add.stdout.toString().includes('s3cr3t-p4ss'), 'the secret is printed nowhere');
    const file = path.join(dir, 'nodes', 'db.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, 'nodes')).mode & 0o777, 0o700);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(!text.includes('s3cr3t-p4ss'), 'the record holds no secret');
    const record = JSON.parse(text);
    assert.equal(record.url, 'iscsi://alice@127.61.0.1:3260/iqn.2024-01.test:records/1');
    assert.deepEqual(record.paths, ['127.61.0.11', '127.61.0.12@lo=127.61.0.2:3260']);
    assert.equal(record.startup, 'automatic');
    assert.match(record.isidSeed, /^[0-9a-f]{16}$/);

    const list = await runCli(['node', 'list', '--json', '--config', dir]);
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout.toString());
    assert.equal(listed.length, 1);
    assert.equal(listed[0].name, 'db');
    assert.deepEqual(listed[0].chap, { user: 'alice', secretStored: false });
    const show = await runCli(['node', 'show', 'db', '--config', dir]);
    assert.match(show.stdout.toString(), /policy: +round-robin/);
    assert.match(show.stdout.toString(), /secret read at start-up/);
  });

  it('stores the secret only with --save-secret, and then refuses a record others can read', async () => {
    const add = await runCli(['node', 'add', URL, '--chap-user', 'bob', '--chap-secret', 'kept-secret-1', '--save-secret', '--startup', 'manual', '--name', 'kept', '--config', dir]);
    assert.equal(add.code, 0, add.stderr);
    const file = path.join(dir, 'nodes', 'kept.json');
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).chap.secret, 'kept-secret-1');
    const show = await runCli(['node', 'show', 'kept', '--json', '--config', dir]);
    assert.equal(show.code, 0, show.stderr);
    assert.ok(!show.stdout.toString().includes('kept-secret-1'), 'show never prints the secret');
    assert.equal(JSON.parse(show.stdout.toString()).chap.secretStored, true);
    fs.chmodSync(file, 0o644);
    const again = await runCli(['node', 'show', 'kept', '--config', dir]);
    assert.equal(again.code, 13);
    assert.match(again.stderr, /holds a CHAP secret and is readable by others \(mode 644\)/);
  });

  it('names a broken or foreign file, refuses a duplicate, and removes a record', async () => {
    assert.equal((await runCli(['node', 'add', URL, '--name', 'one', '--config', dir])).code, 0);
    const dup = await runCli(['node', 'add', URL, '--name', 'one', '--config', dir]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /node "one" exists already/);
    const nodes = path.join(dir, 'nodes');
    fs.writeFileSync(path.join(nodes, 'broken.json'), '{"format": "iscsi-mpio/node/1", ', { mode: 0o600 });
    const broken = await runCli(['node', 'list', '--config', dir]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /broken\.json: broken record, not JSON/);
    fs.writeFileSync(path.join(nodes, 'broken.json'), JSON.stringify({ name: 'broken', targets: [] }), { mode: 0o600 });
    const foreign = await runCli(['node', 'show', 'broken', '--config', dir]);
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr, /not an iscsi-mpio node record \(format null/);
    fs.rmSync(path.join(nodes, 'broken.json'));
    assert.equal((await runCli(['node', 'remove', 'one', '--config', dir])).code, 0);
    const gone = await runCli(['node', 'show', 'one', '--config', dir]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no node "one"/);
    assert.equal((await runCli(['node', 'list', '--config', dir])).stdout.toString().trim(), '(no nodes)');
  });

  it('refuses bad input before writing anything', async () => {
    for (const [args, message] of [
      [['node', 'add', URL, '--name', '../etc'], /node name "\.\.\/etc"/],
      [['node', 'add', URL, '--policy', 'fastest'], /unknown policy "fastest"/],
      [['node', 'add', URL, '--startup', 'sometimes'], /--startup "sometimes"/],
      [['node', 'add', 'iscsi://127.61.0.1/iqn.x'], /no LUN/],
      [['node', 'add', URL, '--save-secret'], /--save-secret without a secret/],
    ] as const) {
      const r = await runCli([...args, '--config', dir]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'nodes')) || fs.readdirSync(path.join(dir, 'nodes')).length === 0, 'nothing written');
  });

  it('status and node login say clearly when no service runs', async () => {
    const r = await runCli(['status', '--config', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no service running for .* \(nothing listens on .*control\.sock; start iscsi-mpio serve\)/);
  });
});
