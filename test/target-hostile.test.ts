// Hostile initiator input against the embedded target over real TCP: each bad connection gets a Reject or a login
// error and is closed; the process and the other sessions keep running.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { type BhsInit, decodeBhs, encodeBhs } from '../lib/wire/bhs';
import { Opcode, RESERVED_TAG } from '../lib/wire/opcodes';
import { decodeTextKeys, encodeText } from '../lib/protocol/text';
import { Target } from '../lib/target/target';
import { RawPeer } from './support/raw-initiator';

const ISID: Buffer = Buffer.from('80aabbcc0001', 'hex');

function login(peer: RawPeer, keys: Array<[string, string]>, stage: { csg: number; nsg: number; transit: boolean }, isid: Buffer = ISID): void {
  peer.send({
    opcode: Opcode.LoginRequest, transit: stage.transit, cont: false, csg: stage.csg, nsg: stage.nsg, versionMax: 0, versionMin: 0,
    isid, tsih: 0, itt: 1, cid: 0, cmdSN: 1, expStatSN: 0,
  }, encodeText(keys));
}

async function fullFeature(target: Target, member: number, isid: Buffer): Promise<RawPeer> {
  const m = target.members[member];
  const peer = await RawPeer.connect(m.address, m.port);
  login(peer, [['InitiatorName', 'iqn.2025-01.test:hostile'], ['SessionType', 'Normal'], ['TargetName', target.iqn],
    ['HeaderDigest', 'None'], ['DataDigest', 'None']], { csg: 1, nsg: 3, transit: true }, isid);
  const reply = await peer.next();
  assert.ok(reply && reply.bhs.opcode === Opcode.LoginResponse && reply.bhs.statusClass === 0 && reply.bhs.transit, 'login reached Full Feature Phase');
  return peer;
}

async function ping(peer: RawPeer, itt: number): Promise<boolean> {
  peer.send({ opcode: Opcode.NopOut, immediate: true, lun: 0, itt, ttt: RESERVED_TAG, cmdSN: 1, expStatSN: 0 }, Buffer.from('ping'));
  const reply = await peer.next();
  return !!reply && reply.bhs.opcode === Opcode.NopIn && reply.bhs.itt === itt && reply.data.toString() === 'ping';
}

describe('target under hostile input', function () {
  this.timeout(30_000);
  let target: Target;
  let bystander: RawPeer;
  const warnings: Error[] = [];

  before(async () => {
    target = await Target.start({ portals: ['127.0.0.81:0', '127.0.0.82:0'], luns: ['16M'], nopInterval: 0 });
    target.on('warning', (e: Error) => warnings.push(e));
    bystander = await fullFeature(target, 1, Buffer.from('80aabbcc00ff', 'hex'));
  });
  afterEach(async () => {
    // The process and the other session are still fine after each attack.
    assert.ok(await ping(bystander, 0x1000 + Math.floor(Math.random() * 1000)), 'the bystander session still answers');
  });
  after(async () => {
    bystander?.destroy();
    await target?.stop();
  });

  it('closes a connection that sends garbage', async () => {
    const m = target.members[0];
    const peer = await RawPeer.connect(m.address, m.port);
    peer.socket.write(randomBytes(4096));
    await peer.closedByTarget();
    assert.ok(peer.closed);
  });

  it('closes a login that declares an oversized data segment', async () => {
    const m = target.members[0];
    const peer = await RawPeer.connect(m.address, m.port);
    const header = Buffer.alloc(48);
    encodeBhs({ opcode: Opcode.LoginRequest, transit: false, cont: false, csg: 0, nsg: 0, versionMax: 0, versionMin: 0, isid: ISID, tsih: 0, itt: 1, cid: 0, cmdSN: 1, expStatSN: 0, dataLength: 0xffffff } as BhsInit, header);
    peer.socket.write(header);
    await peer.closedByTarget();
    assert.ok(peer.closed);
  });

  it('answers a Data-Out for a task that does not exist with a Reject and closes only that connection', async () => {
    const peer = await fullFeature(target, 0, ISID);
    assert.ok(await ping(peer, 7));
    peer.send({ opcode: Opcode.DataOut, final: true, lun: 1, itt: 0x4242, ttt: 5, expStatSN: 0, dataSN: 0, bufferOffset: 0 }, Buffer.alloc(512));
    const seen = await peer.closedByTarget();
    const reject = seen.find((p) => p.bhs.opcode === Opcode.Reject);
    assert.ok(reject, `expected a Reject, got opcodes ${seen.map((p) => p.bhs.opcode).join(', ')}`);
    assert.equal(decodeBhs(reject.data).itt, 0x4242, 'the Reject carries the offending header');
  });

  it('answers a PDU other than Login before login with a Reject and closes', async () => {
    const m = target.members[0];
    const peer = await RawPeer.connect(m.address, m.port);
    peer.send({ opcode: Opcode.ScsiCommand, immediate: false, final: true, read: true, write: false, attr: 1, lun: 1, itt: 9, expectedDataTransferLength: 512, cmdSN: 1, expStatSN: 0, cdb: Buffer.from('280000000000000001000000000000', 'hex').subarray(0, 16) });
    const seen = await peer.closedByTarget();
    assert.ok(seen.some((p) => p.bhs.opcode === Opcode.Reject));
  });

  it('fails a wrong CHAP secret with authentication failure (0201) and closes', async () => {
    const secured = await Target.start({ portals: ['127.0.0.83:0'], luns: ['1M'], chap: { user: 'alice', secret: 'correct-horse-battery' }, nopInterval: 0 });
    try {
      const m = secured.members[0];
      const peer = await RawPeer.connect(m.address, m.port);
      login(peer, [['InitiatorName', 'iqn.2025-01.test:hostile'], ['SessionType', 'Normal'], ['TargetName', secured.iqn], ['AuthMethod', 'CHAP']], { csg: 0, nsg: 1, transit: false });
      let reply = await peer.next();
      assert.equal(reply?.bhs.opcode === Opcode.LoginResponse && reply.bhs.statusClass, 0);
      assert.equal(decodeTextKeys(reply!.data).get('AuthMethod'), 'CHAP');
      login(peer, [['CHAP_A', '5']], { csg: 0, nsg: 1, transit: false });
      reply = await peer.next();
      assert.ok(decodeTextKeys(reply!.data).get('CHAP_C'));
      login(peer, [['CHAP_N', 'alice'], ['CHAP_R', '0x' + '00'.repeat(16)]], { csg: 0, nsg: 1, transit: true });
      reply = await peer.next();
      assert.ok(reply && reply.bhs.opcode === Opcode.LoginResponse);
      assert.deepEqual([reply.bhs.statusClass, reply.bhs.statusDetail], [2, 1]);
      await peer.closedByTarget();
    } finally {
      await secured.stop();
    }
  });
});

describe('target stop', () => {
  it('drops every connection, those still on the group portal and on members included', async () => {
    const target = await Target.start({ group: '127.0.0.83:0', portals: ['127.0.0.84:0'], luns: ['1M'], nopInterval: 0 });
    const g = target.group!;
    const onGroup = await RawPeer.connect(g.address, g.port); // a login that never comes
    const onMember = await fullFeature(target, 0, ISID);
    const closed = (peer: RawPeer) => new Promise<void>((resolve) => peer.socket.once('close', () => resolve()));
    const both = Promise.all([closed(onGroup), closed(onMember)]);
    await target.stop();
    await both;
  });
});
