// `iscsi-mpio serve` against the embedded target (two member portals, two paths from two source addresses), used
// only by real NBD clients: nbdinfo, qemu-img, nbdcopy, fio's nbd engine; status over the control socket; /metrics
// with curl, parsed as Prometheus text; TRIM from fio as UNMAP. Also: a silent path cut during fio (root, nft), node
// logout/login and policy on the running service, SIGTERM (exit 0) and a restart bringing the automatic node back.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Target } from '../lib/target/target';
import type { ServiceStatus } from '../lib/service/status';
import { LoopbackCuts } from './support/loopback-cut';
import { parsePromText, type PromFamily } from './support/prom-text';
import { iscsiMpio, nbdUri, randomFile, sha256File, startServe, trimThroughNbd, type ServeProcess } from './support/serve';
import { requireRoot, requireTools, runTool } from './support/tools';

const NET = '127.61.1';
const IQN = 'iqn.2024-01.io.iscsi-mpio.test:service';
const LU_BYTES = 256 * 1024 * 1024;



async function status(dir: string): Promise<ServiceStatus> {
  const r = await iscsiMpio(['status', '--json', '--config', dir]);
  assert.equal(r.code, 0, r.out);
  return JSON.parse(r.out) as ServiceStatus;
}

function fio(uri: string, args: string[], timeoutMs = 120_000) {
  return runTool('fio', ['--name=sv', '--ioengine=nbd', `--uri=${uri}`, '--output-format=json', ...args], timeoutMs);
}

describe('service: serve over NBD against the embedded target', function () {
  this.timeout(240_000);
  let target: Target | undefined;
  let serve: ServeProcess | undefined;
  let dir: string;
  let uri: string;

  before(async function () {
    requireTools(this, 'nbdinfo', 'nbdcopy', 'qemu-img', 'fio', 'curl');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-nbd-'));
    target = await Target.start({ iqn: IQN, portals: [`${NET}.1:0`, `${NET}.2:0`], luns: [LU_BYTES] });
    const [m0, m1] = target.members;
    const add = await iscsiMpio(['node', 'add', `iscsi://${m0.address}:${m0.port}/${IQN}/1`, '--name', 'disk',
      '--path', `${NET}.11`, '--path', `${NET}.12=${m1.address}:${m1.port}`, '--policy', 'round-robin', '--config', dir]);
    assert.equal(add.code, 0, add.out);
    serve = await startServe(['--config', dir, '--metrics', `${NET}.1:0`, '--retry', '500ms']);
    uri = nbdUri(path.join(dir, 'run'), 'disk');
  });

  after(async () => {
    if (serve) await serve.stop();
    await target?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('status shows the device, both paths and the NBD URI; the sockets are the user\'s only', async () => {
    const s = await status(dir);
    const node = s.nodes.find((n) => n.name === 'disk')!;
    assert.equal(node.state, 'up');
    assert.equal(node.device!.size, LU_BYTES);
    assert.deepEqual(node.device!.nbd, [uri]);
    assert.deepEqual(node.device!.paths.map((p) => [p.local.address, p.remote.address, p.state]), [[`${NET}.11`, `${NET}.1`, 'active'], [`${NET}.12`, `${NET}.2`, 'active']]);
    assert.equal(fs.statSync(path.join(dir, 'run')).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, 'run', 'disk.nbd')).mode & 0o777, 0o600);
    const text = await iscsiMpio(['status', '--config', dir]);
    assert.match(text.out, /^disk \(\w+\) ISCSIMPI,VIRTUAL-DISK\nsize=256M policy='round-robin' nbd=nbd\+unix:\/\/\/disk\?socket=/);
  });

  it('status --watch prints the view again every second until interrupted', async () => {
    const watch = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'lib', 'cli', 'main.ts'), 'status', '--watch', '--config', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    watch.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => watch.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while ((out.match(/^disk \(/gm) ?? []).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    watch.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.ok((out.match(/^disk \(/gm) ?? []).length >= 3, `three refreshes: ${out}`);
  });

  it('nbdinfo lists the export with the LU\'s size', async () => {
    const info = await runTool('nbdinfo', ['--json', uri]);
    assert.equal(info.code, 0, info.out);
    const exp = JSON.parse(info.out).exports[0];
    assert.equal(exp['export-name'], 'disk');
    assert.equal(exp['export-size'], LU_BYTES);
    assert.equal(exp.can_flush, true);
    assert.equal(exp.can_fua, true);
    const list = await runTool('nbdinfo', ['--list', '--json', uri]);
    assert.equal(list.code, 0, list.out);
    assert.deepEqual(JSON.parse(list.out).exports.map((e: Record<string, unknown>) => [e['export-name'], e['export-size']]), [['disk', LU_BYTES]]);
  });

  it('qemu-img convert and nbdcopy copy a 256 MiB image in and out unchanged', async () => {
    const image = path.join(dir, 'in.img');
    const back = path.join(dir, 'out.img');
    try {
      randomFile(image, LU_BYTES);
      const want = sha256File(image);
      for (const [put, get] of [
        [['qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', image, uri]], ['qemu-img', ['convert', '-f', 'raw', '-O', 'raw', uri, back]]],
        [['nbdcopy', [image, uri]], ['nbdcopy', [uri, back]]],
      ] as const) {
        if (get[0] === 'nbdcopy') randomFile(image, LU_BYTES); // fresh content, so a copy that did nothing cannot pass
        const expected = get[0] === 'nbdcopy' ? sha256File(image) : want;
        const w = await runTool(put[0], [...put[1]], 180_000);
        assert.equal(w.code, 0, `${put[0]} in: ${w.out}`);
        fs.rmSync(back, { force: true });
        const r = await runTool(get[0], [...get[1]], 180_000);
        assert.equal(r.code, 0, `${get[0]} out: ${r.out}`);
        assert.equal(fs.statSync(back).size, LU_BYTES);
        assert.equal(sha256File(back), expected, `${put[0]}: the image read back is the one written`);
      }
    } finally {
      fs.rmSync(image, { force: true });
      fs.rmSync(back, { force: true });
    }
  });

  it('fio (nbd engine): 64 KiB random writes verified with crc32c at iodepth 32 over both paths, then 4 KiB random reads', async () => {
    const before = (await status(dir)).nodes[0].device!.paths.map((p) => p.ios);
    const w = await fio(uri, ['--rw=randwrite', '--bs=64k', '--iodepth=32', '--size=64M', '--verify=crc32c', '--verify_fatal=1', '--do_verify=1', '--verify_state_save=0']);
    assert.equal(w.code, 0, w.out);
    const job = JSON.parse(w.out.slice(w.out.indexOf('{'))).jobs[0];
    assert.equal(job.error, 0);
    assert.equal(job.write.io_bytes, 64 * 1024 * 1024);
    assert.equal(job.read.io_bytes, 64 * 1024 * 1024, 'the verify pass read everything back');
    const r = await fio(uri, ['--rw=randread', '--bs=4k', '--iodepth=32', '--size=64M', '--time_based', '--runtime=2']);
    assert.equal(r.code, 0, r.out);
    const reads = JSON.parse(r.out.slice(r.out.indexOf('{'))).jobs[0];
    assert.equal(reads.error, 0);
    assert.ok(reads.read.total_ios > 100, `4 KiB reads completed: ${reads.read.total_ios}`);
    const after = (await status(dir)).nodes[0].device!.paths.map((p) => p.ios);
    after.forEach((n, i) => assert.ok(n - before[i] > 500, `path ${i} carried the I/O (${n - before[i]} I/Os)`));
  });

  it('TRIM: offered because the LU takes UNMAP; 8 MiB trimmed by fio\'s nbd engine read back as zeros, the rest unchanged', async () => {
    await trimThroughNbd(uri, dir, LU_BYTES, { offset: 64 << 20, bytes: 8 << 20 });
  });

  it('/metrics parses as Prometheus text, follows the naming rules, and its counters move with the I/O', async () => {
    const s = await status(dir);
    assert.ok(s.metrics);
    const scrape = async () => {
      const r = await runTool('curl', ['-sf', s.metrics!]);
      assert.equal(r.code, 0, r.out);
      return parsePromText(r.out); // throws on anything the text format forbids
    };
    const value = (families: PromFamily[], name: string, labels: Record<string, string>) => {
      const f = families.find((x) => name === x.name || (x.type === 'histogram' && name === `${x.name}_count`));
      assert.ok(f, `${name} is published`);
      const m = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      assert.ok(m, `${name}${JSON.stringify(labels)} is published`);
      return m.value;
    };
    const first = await scrape();
    for (const f of first) {
      assert.match(f.name, /^iscsi_mpio_[a-z_]+$/);
      assert.ok(f.help.length > 0, `${f.name} has help`);
      if (f.type === 'counter') assert.match(f.name, /_total$/);
      if (f.type === 'histogram') assert.match(f.name, /_seconds$/);
    }
    const names = first.map((f) => f.name);
    for (const n of ['iscsi_mpio_path_ios_total', 'iscsi_mpio_path_bytes_total', 'iscsi_mpio_path_errors_total', 'iscsi_mpio_path_failovers_total',
      'iscsi_mpio_path_reinstatements_total', 'iscsi_mpio_path_in_flight', 'iscsi_mpio_path_state', 'iscsi_mpio_path_io_duration_seconds',
      'iscsi_mpio_device_ios_total', 'iscsi_mpio_device_bytes_total']) assert.ok(names.includes(n), `${n} is published`);
    const label = { device: 'disk', path: '0', direction: 'write' };
    const w0 = value(first, 'iscsi_mpio_path_bytes_total', label);
    const h0 = value(first, 'iscsi_mpio_path_io_duration_seconds_count', label);
    const d0 = value(first, 'iscsi_mpio_device_bytes_total', { device: 'disk', direction: 'write' });
    const w = await fio(uri, ['--rw=write', '--bs=64k', '--iodepth=8', '--size=16M']);
    assert.equal(w.code, 0, w.out);
    const second = await scrape();
    assert.ok(value(second, 'iscsi_mpio_path_bytes_total', label) > w0, 'path 0 write bytes moved');
    assert.ok(value(second, 'iscsi_mpio_path_io_duration_seconds_count', label) > h0, 'path 0 write latency histogram counted');
    assert.equal(value(second, 'iscsi_mpio_device_bytes_total', { device: 'disk', direction: 'write' }) - d0, 16 * 1024 * 1024, 'device write bytes moved by exactly what fio wrote');
    assert.equal(value(second, 'iscsi_mpio_path_state', { device: 'disk', path: '1', state: 'active' }), 1);
  });

  it('a path cut silently during fio: fio sees no error, status shows the failover with its error and time', async function () {
    requireTools(this, 'nft');
    requireRoot(this, 'nft rules on loopback');
    const cuts = new LoopbackCuts();
    try {
      const run = fio(uri, ['--rw=randwrite', '--bs=64k', '--iodepth=32', '--size=128M', '--verify=crc32c', '--verify_fatal=1', '--do_verify=1', '--verify_state_save=0']);
      await new Promise((r) => setTimeout(r, 700));
      cuts.cut(`${NET}.12`);
      const w = await run;
      assert.equal(w.code, 0, w.out);
      const job = JSON.parse(w.out.slice(w.out.indexOf('{'))).jobs[0];
      assert.equal(job.error, 0, 'fio saw no error');
      assert.equal(job.read.io_bytes, 128 * 1024 * 1024, 'every block verified');
      const p1 = (await status(dir)).nodes[0].device!.paths[1];
      assert.equal(p1.state, 'failed');
      assert.ok(p1.failovers >= 1);
      assert.ok(p1.lastError && p1.lastErrorAt, `last error and when: ${p1.lastError} ${p1.lastErrorAt}`);
      cuts.restore(`${NET}.12`);
      const deadline = Date.now() + 20_000;
      while ((await status(dir)).nodes[0].device!.paths[1].state === 'failed') {
        assert.ok(Date.now() < deadline, 'the path came back after the restore');
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      cuts.destroy();
    }
  });

  it('node logout/login and policy act on the running service', async () => {
    const policy = await iscsiMpio(['policy', 'disk', 'failover', '--config', dir]);
    assert.equal(policy.code, 0, policy.out);
    assert.deepEqual((await status(dir)).nodes[0].device!.paths.map((p) => p.state).sort(), ['active', 'standby']);
    const out = await iscsiMpio(['node', 'logout', 'disk', '--config', dir]);
    assert.equal(out.code, 0, out.out);
    assert.equal((await status(dir)).nodes[0].state, 'stopped');
    assert.ok(!fs.existsSync(path.join(dir, 'run', 'disk.nbd')), 'the export\'s socket is gone');
    const again = await iscsiMpio(['node', 'logout', 'disk', '--config', dir]);
    assert.equal(again.code, 1);
    assert.match(again.out, /node disk is not logged in/);
    const login = await iscsiMpio(['node', 'login', 'disk', '--config', dir]);
    assert.equal(login.code, 0, login.out);
    assert.equal((await status(dir)).nodes[0].state, 'up');
    const info = await runTool('nbdinfo', ['--size', uri]);
    assert.equal(info.out.trim(), String(LU_BYTES));
  });

  it('SIGHUP rereads the records: a new automatic node comes up (its own ISIDs on the same paths), a removed one goes', async () => {
    const [m0] = target!.members;
    const add = await iscsiMpio(['node', 'add', `iscsi://${m0.address}:${m0.port}/${IQN}/1`, '--name', 'second', '--path', `${NET}.11`, '--config', dir]);
    assert.equal(add.code, 0, add.out);
    const waitFor = async (what: string, ok: (s: ServiceStatus) => boolean) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (ok(await status(dir))) return;
        assert.ok(Date.now() < deadline, what);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    serve!.child.kill('SIGHUP');
    await waitFor('node "second" up after SIGHUP', (s) => s.nodes.find((n) => n.name === 'second')?.state === 'up');
    // Same source address, same portal, two sessions: the target sees two distinct ISIDs (a shared one would have
    // reinstated, i.e. logged out, the first node's session).
    const sessions = target!.sessions();
    assert.equal(sessions.length, 3);
    assert.equal(new Set(sessions.map((c) => c.isid)).size, 3, `distinct ISIDs: ${sessions.map((c) => c.isid).join(' ')}`);
    assert.equal((await runTool('nbdinfo', ['--size', nbdUri(path.join(dir, 'run'), 'second')])).out.trim(), String(LU_BYTES));
    assert.equal((await iscsiMpio(['node', 'remove', 'second', '--config', dir])).code, 0);
    serve!.child.kill('SIGHUP');
    await waitFor('node "second" gone after SIGHUP', (s) => !s.nodes.some((n) => n.name === 'second'));
    assert.equal(target!.sessions().length, 2);
  });

  it('an automatic node whose target is not there yet shows down with its error, and comes up once the target does', async () => {
    const add = await iscsiMpio(['node', 'add', `iscsi://${NET}.30:3260/${IQN}-late/1`, '--name', 'late', '--path', `${NET}.31`, '--config', dir]);
    assert.equal(add.code, 0, add.out);
    serve!.child.kill('SIGHUP');
    const waitFor = async (what: string, ok: (s: ServiceStatus) => boolean) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const s = await status(dir);
        if (ok(s)) return s;
        assert.ok(Date.now() < deadline, what);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    const down = await waitFor('node "late" down', (s) => s.nodes.find((n) => n.name === 'late')?.state === 'down');
    assert.match(down.nodes.find((n) => n.name === 'late')!.error!.message, /refused the connection/);
    assert.equal(down.nodes.find((n) => n.name === 'disk')!.state, 'up', 'the other node is untouched');
    const late = await Target.start({ iqn: `${IQN}-late`, portals: [`${NET}.30:3260`], luns: [8 * 1024 * 1024] });
    try {
      await waitFor('node "late" up once its target listens', (s) => s.nodes.find((n) => n.name === 'late')?.state === 'up');
      assert.equal((await runTool('nbdinfo', ['--size', nbdUri(path.join(dir, 'run'), 'late')])).out.trim(), String(8 * 1024 * 1024));
      assert.equal((await iscsiMpio(['node', 'remove', 'late', '--config', dir])).code, 0);
      serve!.child.kill('SIGHUP');
      await waitFor('node "late" gone', (s) => !s.nodes.some((n) => n.name === 'late'));
      assert.equal(late.sessions().length, 0, 'logged out');
    } finally {
      await late.stop();
    }
  });

  it('SIGTERM ends serve with 0 after logging out; restarted, the automatic node is back with its paths', async () => {
    const code = await serve!.stop();
    assert.equal(code, 0, serve!.stderr);
    assert.match(serve!.stderr, /disk: logged out\n.*stopped/);
    assert.equal(target!.sessions().length, 0, 'every session logged out');
    assert.ok(!fs.existsSync(path.join(dir, 'run', 'control.sock')));
    serve = await startServe(['--config', dir]);
    const node = (await status(dir)).nodes[0];
    assert.equal(node.state, 'up');
    assert.deepEqual(node.device!.paths.map((p) => p.state), ['active', 'active']);
    const info = await runTool('nbdinfo', ['--size', uri]);
    assert.equal(info.out.trim(), String(LU_BYTES));
  });
});
