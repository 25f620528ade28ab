// `netstat --iscsi`: this process's connections labelled through the registry (real TCP connections to two
// portals on port 3260), kernel iSCSI sessions and offload HBAs read from a sysfs tree, and `--check offloaded`.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { netstat, notOffloadedIscsiConnections, type NetstatRow } from '../lib/offload/netstat';
import { registerIscsiConnection } from '../lib/offload/iscsi-connections';
import { formatNetstatTable } from '../lib/offload/netstat-table';
import { nics } from '../lib/offload/nics';
import { OffloadArgumentError } from '../lib/offload/errors';
import { closeAll, openPair } from './support/offload-helpers';

const NET = `127.${120 + (process.pid % 60)}.${process.pid % 250}`;
const PORTAL_A = `${NET}.11`;
const PORTAL_B = `${NET}.12`;

function rowOf(rows: NetstatRow[], s: net.Socket): NetstatRow | undefined {
  return rows.find((r) => r.local.address === s.localAddress && r.local.port === s.localPort && r.remote.address === s.remoteAddress && r.remote.port === s.remotePort);
}

async function listen(host: string, port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
  return server;
}

/** A sysfs tree as the iSCSI transport class lays it out: one qla4xxx HBA session, one software (tcp) session. */
function writeSysfs(root: string, softwarePeer: { address: string; port: number; localPort: number }): void {
  const file = (rel: string, text: string): void => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text + '\n');
  };
  file('class/iscsi_transport/qla4xxx/caps', '0x48b8'); // TEXT_NEGO|DATA_PATH_OFFLOAD|HDRDGST|DATADGST|LOGIN_OFFLOAD|MULTI_R2T
  file('class/iscsi_transport/tcp/caps', '0x39');
  file('class/iscsi_host/host7/netdev', 'lo');
  file('class/iscsi_host/host7/ipaddress', '198.18.7.2');
  file('class/scsi_host/host7/proc_name', 'qla4xxx');
  file('class/iscsi_host/host8/netdev', '<NULL>');
  file('class/scsi_host/host8/proc_name', 'iscsi_tcp');
  for (const [session, host] of [['session3', 'host7'], ['session4', 'host8']]) {
    mkdirSync(path.join(root, 'devices/platform', host, session), { recursive: true });
    mkdirSync(path.join(root, 'class/iscsi_session', session), { recursive: true });
    symlinkSync(path.join('../../../devices/platform', host, session), path.join(root, 'class/iscsi_session', session, 'device'));
    file(`class/iscsi_session/${session}/state`, 'LOGGED_IN');
  }
  file('class/iscsi_session/session3/targetname', 'iqn.2001-05.com.example:hba-lun');
  file('class/iscsi_connection/connection3:0/address', '198.18.7.1');
  file('class/iscsi_connection/connection3:0/port', '3260');
  file('class/iscsi_session/session4/targetname', 'iqn.2001-05.com.example:software-lun');
  file('class/iscsi_connection/connection4:0/address', softwarePeer.address);
  file('class/iscsi_connection/connection4:0/port', String(softwarePeer.port));
  file('class/iscsi_connection/connection4:0/local_port', String(softwarePeer.localPort));
}

describe('offload netstat --iscsi', () => {
  let serverA: net.Server;
  let serverB: net.Server;
  let port = 3260;
  const sockets: net.Socket[] = [];
  let first: net.Socket, second: net.Socket, third: net.Socket;
  let unregisterSecond: () => void;
  let sysfs: string;

  before(async function () {
    try {
      serverA = await listen(PORTAL_A, 3260);
      serverB = await listen(PORTAL_B, 3260);
    } catch (error) {
      // Something (tgtd?) holds the wildcard 3260: use our own port and declare it an iSCSI port.
      if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
      await closeAll([serverA]);
      serverA = await listen(PORTAL_A, 0);
      port = (serverA.address() as net.AddressInfo).port;
      serverB = await listen(PORTAL_B, port);
      console.log(`      (port 3260 busy on ${NET}.x: using ${port} as the iSCSI port)`);
    }
    const a = await openPair(PORTAL_A, port, `${NET}.21`, serverA);
    const b = await openPair(PORTAL_B, port, `${NET}.22`, serverB);
    const c = await openPair(PORTAL_A, port, `${NET}.23`, serverA);
    [first, second, third] = [a.client, b.client, c.client];
    sockets.push(a.client, a.accepted, b.client, b.accepted, c.client, c.accepted);
    registerIscsiConnection({ socket: first, target: 'iqn.2001-05.com.example:array', session: 'isid-1', path: 1 });
    unregisterSecond = registerIscsiConnection({
      localAddress: second.localAddress!, localPort: second.localPort!, remoteAddress: second.remoteAddress!, remotePort: second.remotePort!,
      target: 'iqn.2001-05.com.example:array', session: 'isid-2', path: 2,
    });
    sysfs = mkdtempSync(path.join(os.tmpdir(), 'offload-sysfs-'));
    writeSysfs(sysfs, { address: PORTAL_A, port, localPort: third.localPort! });
  });
  after(async () => {
    await closeAll(sockets);
    await closeAll([serverA, serverB]);
    if (sysfs) rmSync(sysfs, { recursive: true, force: true });
  });

  const iscsiPorts = (): number[] => [port];

  it('labels this process\'s connections with target, session and path, to distinct target ports', () => {
    const rows = netstat({ iscsi: true, iscsiPorts: iscsiPorts() });
    assert.ok(rows.every((r) => r.iscsi), 'only iSCSI connections are kept');
    const a = rowOf(rows, first)!;
    const b = rowOf(rows, second)!;
    assert.deepEqual(a.iscsi, { target: 'iqn.2001-05.com.example:array', session: 'isid-1', path: 1, source: 'process', role: 'initiator' });
    assert.deepEqual(b.iscsi, { target: 'iqn.2001-05.com.example:array', session: 'isid-2', path: 2, source: 'process', role: 'initiator' });
    assert.notEqual(`${a.remote.address}:${a.remote.port}`, `${b.remote.address}:${b.remote.port}`);
    assert.equal(a.device, 'lo');
    // An unregistered connection to the iSCSI port is still an iSCSI connection, just unnamed.
    assert.deepEqual(rowOf(rows, third)!.iscsi, { target: null, session: null, path: null, source: 'port', role: 'initiator' });
    // The target ends are there too, as the target side.
    const targetEnds = rows.filter((r) => r.local.port === port && r.state === 'ESTABLISHED' && r.local.address.startsWith(NET));
    assert.equal(targetEnds.length, 3);
    assert.ok(targetEnds.every((r) => r.iscsi?.role === 'target'));
  });

  it('shows Target, Session and Path columns in the --iscsi table', () => {
    const rows = netstat({ iscsi: true, iscsiPorts: iscsiPorts() }).filter((r) => r.local.address.startsWith(NET));
    const text = formatNetstatTable(rows, { iscsi: true });
    assert.match(text, /Offload State +Target +Session +Path/);
    assert.match(text, new RegExp(`${first.localAddress}:${first.localPort} +${PORTAL_A}:${port} +ESTABLISHED +InHost +iqn\\.2001-05\\.com\\.example:array +isid-1 +1`));
  });

  it('drops a label when unregistered and when the socket closes', async () => {
    unregisterSecond();
    assert.equal(rowOf(netstat({ iscsi: true, iscsiPorts: iscsiPorts() }), second)!.iscsi!.source, 'port');
    const extra = await openPair(PORTAL_B, port, `${NET}.24`, serverB);
    sockets.push(extra.accepted);
    const { localAddress, localPort } = extra.client;
    registerIscsiConnection({ socket: extra.client, target: 'iqn.x:y', session: 's9' });
    assert.equal(rowOf(netstat({ iscsi: true, iscsiPorts: iscsiPorts() }), extra.client)!.iscsi!.source, 'process');
    await new Promise<void>((resolve) => { extra.client.once('close', () => resolve()); extra.client.destroy(); });
    // Same 4-tuple, now from an unregistered socket: the stale registration must not label it.
    const again = await openPair(PORTAL_B, port, localAddress, serverB).catch(() => undefined);
    if (again) {
      sockets.push(again.client, again.accepted);
      if (again.client.localPort === localPort) assert.equal(rowOf(netstat({ iscsi: true, iscsiPorts: iscsiPorts() }), again.client)!.iscsi!.source, 'port');
    }
  });

  it('classifies kernel iSCSI sessions from sysfs: an offload HBA is Offloaded, the software transport labels its socket', () => {
    const rows = netstat({ iscsi: true, iscsiPorts: iscsiPorts(), sysfsRoot: sysfs });
    const hba = rows.find((r) => r.remote.address === '198.18.7.1');
    assert.ok(hba, 'the HBA connection is listed although the host stack never sees it');
    assert.equal(hba.offloadState, 'Offloaded');
    assert.equal(hba.engine, 'iscsi-hba:qla4xxx');
    assert.deepEqual(hba.offloads, ['iscsi-data-path', 'iscsi-login']);
    assert.equal(hba.device, 'lo');
    assert.equal(hba.iscsi!.target, 'iqn.2001-05.com.example:hba-lun');
    const software = rowOf(rows, third)!;
    assert.equal(software.offloadState, 'InHost');
    assert.deepEqual(software.iscsi, { target: 'iqn.2001-05.com.example:software-lun', session: 'session4', path: null, source: 'kernel', role: 'initiator' });
    const failing = notOffloadedIscsiConnections(rows);
    assert.ok(!failing.includes(hba) && failing.includes(software));
    const lo = nics({ sysfsRoot: sysfs }).find((n) => n.name === 'lo')!;
    assert.deepEqual(lo.offloadEngines, ['iscsi-hba:qla4xxx (host7)']);
  });

  it('netstat --check offloaded exits non-zero and names every iSCSI connection that is not offloaded', async () => {
    const cli = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
    const args = ['tsx', cli, 'netstat', '--check', 'offloaded', '--iscsi-port', String(port)];
    const runCli = (extra: string[]): Promise<{ code: number; stdout: string }> =>
      new Promise((resolve) => execFile('npx', [...args, ...extra], { cwd: path.join(__dirname, '..') }, (error, stdout) =>
        resolve({ code: error ? (error as { code?: number }).code ?? 1 : 0, stdout })));
    const json = await runCli(['--json']);
    assert.equal(json.code, 1, json.stdout);
    const report = JSON.parse(json.stdout) as { ok: boolean; notOffloaded: NetstatRow[] };
    assert.equal(report.ok, false);
    for (const s of [first, second, third]) {
      assert.ok(report.notOffloaded.some((r) => r.local.port === s.localPort && r.remote.port === s.remotePort), `${s.localPort} not named`);
    }
    const text = await runCli([]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^FAIL: \d+ of \d+ iSCSI connections are not offloaded:/);
    assert.ok(text.stdout.includes(`${first.localAddress}:${first.localPort} -> ${PORTAL_A}:${port} InHost on lo`), text.stdout);
  });

  it('rejects a registration without target, session or endpoints', () => {
    assert.throws(() => registerIscsiConnection({} as never), OffloadArgumentError);
    assert.throws(() => registerIscsiConnection({ target: 'iqn.x', session: '' } as never), /session/);
    assert.throws(() => registerIscsiConnection({ target: 'iqn.x', session: 's', localAddress: '127.0.0.1', localPort: 0, remoteAddress: '127.0.0.1', remotePort: 3260 }), /ports/);
  });
});
