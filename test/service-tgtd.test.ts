// `iscsi-mpio serve` in front of tgtd (two portals, two paths, CHAP with the secret kept out of the record in
// CONFIG/secrets/NAME), used only by real NBD clients: nbdinfo, qemu-img, nbdcopy and fio's nbd engine. The LU is
// thin (thin_provisioning=1), so TRIM is offered, becomes UNMAP, and tgtd punches a hole in its backing file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServiceStatus } from '../lib/service/status';
import { iscsiMpio, nbdUri, randomFile, sha256File, startServe, trimThroughNbd, type ServeProcess } from './support/serve';
import { Tgtd } from './support/tgtd';
import { requireTools, runTool } from './support/tools';

const NET = '127.61.2';
const IQN = 'iqn.2024-01.io.iscsi-mpio.test:service-tgtd';
const LU_BYTES = 256 * 1024 * 1024;
const CHAP = { user: 'svuser', password: 'sv-tgtd-secret-1' };



describe('service: serve over NBD in front of tgtd', function () {
  this.timeout(240_000);
  let tgtd: Tgtd | undefined;
  let serve: ServeProcess | undefined;
  let dir: string;
  let uri: string;

  before(async function () {
    requireTools(this, 'tgtd', 'tgtadm', 'nbdinfo', 'nbdcopy', 'qemu-img', 'fio');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-tgtd-'));
    tgtd = await Tgtd.start([`${NET}.1:3260`, `${NET}.2:3260`], [{ name: IQN, luns: [{ sizeBytes: LU_BYTES, thin: true }], incoming: [CHAP] }]);
    const add = await iscsiMpio(['node', 'add', `iscsi://${CHAP.user}@${NET}.1:3260/${IQN}/1`, '--name', 'tgt',
      '--path', `${NET}.11`, '--path', `${NET}.12=${NET}.2:3260`, '--policy', 'round-robin', '--config', dir]);
    assert.equal(add.code, 0, add.out);
    assert.ok(!fs.readFileSync(path.join(dir, 'nodes', 'tgt.json'), 'utf8').includes(CHAP.password));
    fs.mkdirSync(path.join(dir, 'secrets'), { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'secrets', 'tgt'), `${CHAP.password}\n`, { mode: 0o600 });
    serve = await startServe(['--config', dir], { ISCSI_MPIO_CHAP_SECRET: '' });
    uri = nbdUri(path.join(dir, 'run'), 'tgt');
  });

  after(async () => {
    if (serve) await serve.stop();
    await tgtd?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs in on both paths with the secret from CONFIG/secrets; nbdinfo lists the export with the LU\'s size', async () => {
    const s = JSON.parse((await iscsiMpio(['status', '--json', '--config', dir])).out) as ServiceStatus;
    const node = s.nodes[0];
    assert.equal(node.state, 'up');
    assert.equal(node.device!.vendor, 'IET');
    assert.deepEqual(node.device!.paths.map((p) => [p.local.address, p.remote.address, p.state]), [[`${NET}.11`, `${NET}.1`, 'active'], [`${NET}.12`, `${NET}.2`, 'active']]);
    const info = await runTool('nbdinfo', ['--json', uri]);
    assert.equal(info.code, 0, info.out);
    assert.equal(JSON.parse(info.out).exports[0]['export-size'], LU_BYTES);
  });

  it('qemu-img convert and nbdcopy copy a 256 MiB image in and out unchanged', async () => {
    const image = path.join(dir, 'in.img');
    const back = path.join(dir, 'out.img');
    try {
      for (const tool of ['qemu-img', 'nbdcopy'] as const) {
        randomFile(image, LU_BYTES);
        const want = sha256File(image);
        const [put, get] = tool === 'qemu-img'
          ? [['convert', '-n', '-f', 'raw', '-O', 'raw', image, uri], ['convert', '-f', 'raw', '-O', 'raw', uri, back]]
          : [[image, uri], [uri, back]];
        const w = await runTool(tool, put, 180_000);
        assert.equal(w.code, 0, `${tool} in: ${w.out}`);
        fs.rmSync(back, { force: true });
        const r = await runTool(tool, get, 180_000);
        assert.equal(r.code, 0, `${tool} out: ${r.out}`);
        assert.equal(sha256File(back), want, `${tool}: the image read back is the one written`);
      }
    } finally {
      fs.rmSync(image, { force: true });
      fs.rmSync(back, { force: true });
    }
  });

  it('fio (nbd engine): 64 KiB random writes verified with crc32c at iodepth 32 over both paths, then 4 KiB random reads', async () => {
    const fio = (args: string[]) => runTool('fio', ['--name=sv', '--ioengine=nbd', `--uri=${uri}`, '--output-format=json', ...args], 120_000);
    const w = await fio(['--rw=randwrite', '--bs=64k', '--iodepth=32', '--size=64M', '--verify=crc32c', '--verify_fatal=1', '--do_verify=1', '--verify_state_save=0']);
    assert.equal(w.code, 0, w.out);
    const job = JSON.parse(w.out.slice(w.out.indexOf('{'))).jobs[0];
    assert.equal(job.error, 0);
    assert.equal(job.read.io_bytes, 64 * 1024 * 1024, 'the verify pass read everything back');
    const r = await fio(['--rw=randread', '--bs=4k', '--iodepth=32', '--size=64M', '--time_based', '--runtime=2']);
    assert.equal(r.code, 0, r.out);
    assert.equal(JSON.parse(r.out.slice(r.out.indexOf('{'))).jobs[0].error, 0);
    const s = JSON.parse((await iscsiMpio(['status', '--json', '--config', dir])).out) as ServiceStatus;
    for (const p of s.nodes[0].device!.paths) assert.ok(p.writes > 100 && p.reads > 100, `path ${p.id} carried reads and writes`);
  });

  it('TRIM on the thin LU: 32 MiB trimmed by fio read back as zeros, the rest unchanged, and tgtd freed the blocks', async () => {
    const file = tgtd!.backingFile(1, 1);
    const range = { offset: 128 << 20, bytes: 32 << 20 };
    let allocatedBefore = 0;
    await trimThroughNbd(uri, dir, LU_BYTES, range, () => { allocatedBefore = fs.statSync(file).blocks * 512; });
    const freed = allocatedBefore - fs.statSync(file).blocks * 512;
    assert.ok(freed >= range.bytes * 0.9, `the backing file gave back ${freed} bytes of ${range.bytes} trimmed`);
  });
});
