// The library side of service mode: device.serveNbd() on TCP and device.metrics(), driven by real clients only
// (qemu-io for WRITE with FUA, WRITE_ZEROES and FLUSH, nbdinfo for LIST/INFO), with the data checked through the
// device itself.
import assert from 'node:assert/strict';
import { Initiator } from '../lib/initiator';
import type { MultipathDevice } from '../lib/mpio/multipath-device';
import type { NbdServer } from '../lib/nbd/server';
import { Target } from '../lib/target/target';
import { requireTools, runTool } from './support/tools';

const NET = '127.61.3';
const IQN = 'iqn.2024-01.io.iscsi-mpio.test:nbd-library';

describe('nbd: device.serveNbd() and device.metrics() with real clients', function () {
  this.timeout(60_000);
  let target: Target | undefined;
  let device: MultipathDevice | undefined;
  let server: NbdServer | undefined;

  before(async function () {
    requireTools(this, 'qemu-io', 'nbdinfo');
    target = await Target.start({ iqn: IQN, portals: [`${NET}.1:0`], luns: [16 * 1024 * 1024] });
    const m = target.members[0];
    device = await new Initiator().connect({ target: IQN, portal: { address: m.address, port: m.port }, lun: 1, paths: [{ sourceAddress: `${NET}.11` }] });
    server = await device.serveNbd({ host: `${NET}.1`, port: 0 }, { name: 'lib' });
  });

  after(async () => {
    await server?.close();
    await device?.close();
    await target?.stop();
  });

  it('serves over TCP under a standard NBD URI; nbdinfo lists the export', async () => {
    const uri = server!.uri();
    assert.match(uri, new RegExp(`^nbd://${NET.replace(/\./g, '\\.')}\\.1:\\d+/lib$`));
    const list = await runTool('nbdinfo', ['--list', '--json', uri]);
    assert.equal(list.code, 0, list.out);
    assert.deepEqual(JSON.parse(list.out).exports.map((e: Record<string, unknown>) => [e['export-name'], e['export-size']]), [['lib', 16 * 1024 * 1024]]);
  });

  it('qemu-io writes (with FUA), zeroes and flushes land on the LU as the device reads them', async () => {
    const io = await runTool('qemu-io', ['-f', 'raw', server!.uri(), '-c', 'write -P 0xab 0 1M', '-c', 'write -f -P 0xcd 1M 64k', '-c', 'write -z 64k 64k', '-c', 'flush']);
    assert.equal(io.code, 0, io.out);
    assert.doesNotMatch(io.out, /error|failed/i);
    const head = await device!.read(0, 2048 + 128); // 1 MiB + 64 KiB
    assert.ok(head.subarray(0, 65536).every((b) => b === 0xab));
    assert.ok(head.subarray(65536, 131072).every((b) => b === 0), 'WRITE_ZEROES zeroed its range');
    assert.ok(head.subarray(131072, 1 << 20).every((b) => b === 0xab));
    assert.ok(head.subarray(1 << 20).every((b) => b === 0xcd), 'the FUA write landed');
    const check = await runTool('qemu-io', ['-f', 'raw', server!.uri(), '-c', 'read -P 0xcd 1M 64k', '-c', 'read -P 0 64k 64k']);
    assert.equal(check.code, 0, check.out);
    assert.doesNotMatch(check.out, /Pattern verification failed/);
  });

  it('device.metrics() gives a prom-client registry whose counters follow the device', async () => {
    const registry = await device!.metrics({ name: 'lib' });
    const bytes = async () => {
      const m = (await registry.getSingleMetric('iscsi_mpio_path_bytes_total')!.get()).values;
      return m.find((v) => v.labels.direction === 'write' && v.labels.device === 'lib')!.value;
    };
    const before = await bytes();
    await device!.write(0, Buffer.alloc(8192, 7));
    assert.equal(await bytes(), before + 8192);
    assert.match(await registry.metrics(), /^# HELP iscsi_mpio_device_info/m);
  });
});
