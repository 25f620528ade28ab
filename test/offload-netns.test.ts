// Across a real veth into a network namespace: the connection's egress NIC is the veth, its offloads follow
// `ethtool -K DEV tso off`, and netstat run inside the namespace agrees with `ss` there. Root only.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { netstat, type NetstatRow } from '../lib/offload/netstat';
import { nics } from '../lib/offload/nics';
import { statelessOffloads } from '../lib/offload/stateless-offloads';
import { offloadNative } from '../lib/offload/native-offload';
import { closeAll, ethtoolFeatures, rowKey, run, ss, ssKey } from './support/offload-helpers';
import { requireRoot, requireTools } from './support/tools';

const ID = process.pid % 100000;
const NS = `offl${ID}`;
const HOST_DEV = `ofh${ID}`;
const NS_DEV = `ofn${ID}`;
// 198.18.0.0/15, one /30 per run keyed by the pid.
const SUBNET = `198.${18 + ((ID >> 8) & 1)}.${ID & 0xff}`;
const HOST_ADDR = `${SUBNET}.1`;
const NS_ADDR = `${SUBNET}.2`;

describe('offload netstat across a veth into a netns', function () {
  let server: net.Server;
  let child: ChildProcess | undefined;
  let accepted: net.Socket;
  let created = false;

  before(async function () {
    requireRoot(this, 'network namespaces, veth, ethtool -K');
    requireTools(this, 'ip', 'ethtool', 'ss');
    run('ip', ['netns', 'add', NS]);
    created = true;
    run('ip', ['link', 'add', HOST_DEV, 'type', 'veth', 'peer', 'name', NS_DEV, 'netns', NS]);
    run('ip', ['addr', 'add', `${HOST_ADDR}/30`, 'dev', HOST_DEV]);
    run('ip', ['link', 'set', HOST_DEV, 'up']);
    run('ip', ['-n', NS, 'addr', 'add', `${NS_ADDR}/30`, 'dev', NS_DEV]);
    run('ip', ['-n', NS, 'link', 'set', NS_DEV, 'up']);
    run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);

    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, HOST_ADDR, () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    const connected = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    // The peer lives in the namespace; it connects, prints "up" and waits for stdin to close.
    const script = `const s=require('net').connect(${port},'${HOST_ADDR}',()=>console.log('up'));process.stdin.on('end',()=>s.destroy());process.stdin.resume()`;
    child = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.once('data', () => resolve());
      child!.once('exit', (code) => reject(new Error(`peer in ${NS} exited with ${code}`)));
    });
    accepted = await connected;
  });

  after(async () => {
    child?.stdin?.end();
    child?.kill();
    await closeAll([accepted, server]);
    // Deleting the namespace removes its veth end and with it the pair.
    if (created) {
      try { run('ip', ['link', 'del', HOST_DEV]); } catch { /* already gone with the namespace */ }
      run('ip', ['netns', 'del', NS]);
    }
  });

  const ourRow = (): NetstatRow => {
    const row = netstat().find((r) => r.local.address === HOST_ADDR && r.local.port === accepted.localPort && r.remote.port === accepted.remotePort);
    assert.ok(row, 'the veth connection is missing');
    return row;
  };

  it('puts the connection on the veth and reports its offloads as ethtool -k does, before and after tso off', () => {
    const before = ourRow();
    assert.equal(before.device, HOST_DEV);
    assert.equal(before.remote.address, NS_ADDR);
    const activeNow = (): string[] => [...ethtoolFeatures(HOST_DEV)].filter(([, on]) => on).map(([n]) => n);
    assert.deepEqual(before.offloads, statelessOffloads(activeNow(), 4));
    assert.ok(before.offloads.includes('tso'), `veth starts with TSO: ${before.offloads}`);

    run('ethtool', ['-K', HOST_DEV, 'tso', 'off']);
    const after = ourRow();
    assert.ok(!after.offloads.includes('tso'), `tso still reported: ${after.offloads}`);
    assert.deepEqual(after.offloads, statelessOffloads(activeNow(), 4));
    // Every kernel feature ethtool lists agrees with the ioctl view, active or not.
    const ours = new Set(offloadNative.offloadNetdevFeatures(HOST_DEV).active);
    for (const [name, active] of ethtoolFeatures(HOST_DEV)) assert.equal(ours.has(name), active, name);
    const nic = nics().find((n) => n.name === HOST_DEV)!;
    assert.ok(!nic.features.includes('tx-tcp-segmentation'));
    assert.deepEqual(nic.addresses.filter((a) => a.family === 4), [{ family: 4, address: HOST_ADDR, prefixLength: 30 }]);
    run('ethtool', ['-K', HOST_DEV, 'tso', 'on']);
    assert.ok(ourRow().offloads.includes('tso'));
  });

  it('run inside the namespace, netstat --json equals ss there', async () => {
    const cli = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
    const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const before = ss(true, NS);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('ip', ['netns', 'exec', NS, tsx, cli, 'netstat', '-a', '--json'], (error, out) => (error ? reject(error) : resolve(out))));
    const after = ss(true, NS);
    const rows = JSON.parse(stdout) as NetstatRow[];
    assert.deepEqual(new Set(rows.map(rowKey)), new Set(before.map(ssKey)));
    assert.deepEqual(new Set(after.map(ssKey)), new Set(before.map(ssKey)), 'nothing else runs in our namespace');
    const peer = rows.find((r) => r.remote.address === HOST_ADDR)!;
    assert.equal(peer.device, NS_DEV);
    assert.equal(peer.state, 'ESTABLISHED');
  });
});
