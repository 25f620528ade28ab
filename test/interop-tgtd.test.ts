// Our initiator against a real tgtd on loopback, with libiscsi's tools as a second opinion: discovery, inquiry,
// authentication (none, CHAP, mutual CHAP, a wrong secret), digests, negotiation combinations, and a random
// read/write verification against a reference copy and tgtd's backing file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { Initiator } from '../lib/initiator';
import { LoginError } from '../lib/protocol/login-status';
import { AuthenticationError, ChapAlgorithm } from '../lib/protocol/chap';
import { readCommand, vpdInquiryCommand } from '../lib/scsi/commands';
import type { LunDevice } from '../lib/session/lun-device';
import { loopbackPortal, requireTools, Tgtd } from './support/tgtd';

const run = promisify(execFile);
const IQN = 'iqn.2024-01.io.iscsi-mpio.test';
const LUN_BYTES = 64 << 20;

describe('interop with tgtd and libiscsi', function () {
  this.timeout(120_000);
  let tgtd: Tgtd;
  let authAdded = false;
  const portalText = loopbackPortal(1, 13300 + (process.pid % 500));
  const [host, portText] = portalText.split(':');
  const portal = { address: host, port: Number(portText) };
  const initiator = new Initiator({ name: `${IQN}:initiator` });
  const url = (target: string, lun: number) => `iscsi://${portalText}/${IQN}:${target}/${lun}`;

  before(async function () {
    requireTools(this, 'tgtd', 'tgtadm', 'iscsi-ls', 'iscsi-inq');
    tgtd = await Tgtd.start([portalText], [
      { name: `${IQN}:plain`, luns: [{ sizeBytes: LUN_BYTES }, { sizeBytes: 8 << 20 }] },
    ]);
  });

  // Added after the discovery test: iscsi-ls -s logs in to every target it lists and fails on CHAP ones.
  async function addAuthTargets(): Promise<void> {
    if (authAdded) return;
    authAdded = true;
    await tgtd.addTarget({ name: `${IQN}:chap`, luns: [{ sizeBytes: 4 << 20 }], incoming: [{ user: 'alice', password: 'alice-secret-1' }] });
    await tgtd.addTarget({
      name: `${IQN}:mutual`, luns: [{ sizeBytes: 4 << 20 }], incoming: [{ user: 'bob', password: 'bob-secret-123' }],
      outgoing: { user: 'tgt-bob', password: 'target-secret-9' },
    });
    await tgtd.addTarget({ name: `${IQN}:digests`, luns: [{ sizeBytes: 8 << 20 }], params: { HeaderDigest: 'CRC32C', DataDigest: 'CRC32C' } });
  }
  after(async () => { await tgtd?.stop(); });

  it('discovers what iscsi-ls -s reports, LUNs included', async () => {
    const ours = await initiator.discover(portalText);
    const { stdout } = await run('iscsi-ls', ['-s', `iscsi://${portalText}`]);
    const theirs = [...stdout.matchAll(/^Target:(\S+) Portal:(\S+):(\d+),(\d+)$/gm)].map((m) => ({ name: m[1], portals: [{ address: m[2], port: Number(m[3]), tpgt: Number(m[4]) }] }));
    assert.deepEqual(ours.map((t) => t.name).sort(), theirs.map((t) => t.name).sort());
    for (const t of theirs) assert.deepEqual(ours.find((o) => o.name === t.name)!.portals, t.portals);
    // iscsi-ls lists each target's LUNs after it; the plain target has LUN 0 (controller), 1 and 2.
    const device = await initiator.connect({ target: `${IQN}:plain`, portal, lun: 1 });
    try {
      const luns = (await device.reportLuns()).map((l) => l.lun).sort();
      const block = stdout.split(`Target:${IQN}:plain`)[1].split('Target:')[0];
      const listed = [...block.matchAll(/Lun:(\d+)/g)].map((m) => Number(m[1])).sort();
      assert.deepEqual(luns, listed);
      assert.deepEqual(listed, [0, 1, 2]);
    } finally {
      await device.close();
    }
  });

  it('reports a short Data-In as an underflow with its residual, and a full one as GOOD without residual', async () => {
    const device = await initiator.connect({ target: `${IQN}:plain`, portal, lun: 1 });
    try {
      const session = device.paths[0].session;
      const page = Buffer.alloc(1024);
      const short = await session.execute(1, vpdInquiryCommand(0x80, 1024), page);
      const sent = 4 + page.readUInt16BE(2); // the VPD page's own length
      assert.equal(short.status, 0);
      assert.ok(short.underflow && !short.overflow, 'the target sent less than the allocation length');
      assert.equal(short.residual, 1024 - sent);
      const full = await session.execute(1, readCommand(0, 8, 512), Buffer.alloc(4096));
      assert.deepEqual({ ...full }, { status: 0, residual: 0, underflow: false, overflow: false });
    } finally {
      await device.close();
    }
  });

  it('reports the INQUIRY and VPD 0x80 that iscsi-inq reports', async () => {
    const device = await initiator.connect({ target: `${IQN}:plain`, portal, lun: 1 });
    let identity;
    try {
      identity = await device.inquiry();
    } finally {
      await device.close();
    }
    const std = (await run('iscsi-inq', [url('plain', 1)])).stdout;
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(std)![1].trim();
    assert.equal(identity.vendor, field('Vendor'));
    assert.equal(identity.product, field('Product'));
    assert.equal(identity.revision, field('Revision'));
    const serialPage = (await run('iscsi-inq', ['-e', '1', '-c', '128', url('plain', 1)])).stdout;
    assert.equal(identity.serial, /Unit Serial Number:\[?([^\]\n]+)/i.exec(serialPage)?.[1].trim());
    assert.ok(identity.identity, 'an LU identity from VPD 0x83');
    assert.match(identity.identity!.id, /^3[0-9a-f]{32}$/, 'tgtd gives an NAA-6 designator');
  });

  it('logs in with CHAP, and with mutual CHAP, and moves data', async () => {
    await addAuthTargets();
    for (const [target, chap] of [
      ['chap', { user: 'alice', secret: 'alice-secret-1' }],
      ['mutual', { user: 'bob', secret: 'bob-secret-123', mutual: { user: 'tgt-bob', secret: 'target-secret-9' } }],
    ] as const) {
      const device = await initiator.connect({ target: `${IQN}:${target}`, portal, lun: 1, chap });
      try {
        assert.equal(device.session.info().authMethod, 'CHAP');
        const data = randomBytes(64 * 1024);
        await device.write(8, data);
        assert.ok((await device.read(8, 128)).equals(data));
      } finally {
        await device.close();
      }
    }
  });

  it('falls back to MD5 once when tgt mistakes CHAP_A=7 (SHA-256) for SHA-1, and only when MD5 was offered', async () => {
    await addAuthTargets();
    const alice = { user: 'alice', secret: 'alice-secret-1' };
    // SHA-256 alone: tgt picks 7, hashes it as SHA-1, refuses our SHA-256 answer; nothing to fall back to.
    await assert.rejects(initiator.connect({ target: `${IQN}:chap`, portal, lun: 1, chap: { ...alice, algorithms: [ChapAlgorithm.SHA256] } }),
      (e: unknown) => e instanceof AuthenticationError);
    // The default offer (SHA-256, MD5) gets in with one MD5-only retry.
    const device = await initiator.connect({ target: `${IQN}:chap`, portal, lun: 1, chap: alice });
    try {
      assert.ok((await device.read(0, 1)).length === 512);
    } finally {
      await device.close();
    }
  });

  it('fails a wrong secret with one clear authentication error, no retry storm', async () => {
    await addAuthTargets();
    const started = Date.now();
    // tgtd answers a wrong CHAP response with 0x0200; we name it for what it is.
    await assert.rejects(initiator.connect({ target: `${IQN}:chap`, portal, lun: 1, chap: { user: 'alice', secret: 'not-the-secret' } }), (e: unknown) => {
      assert.ok(e instanceof AuthenticationError, `AuthenticationError expected, got ${String(e)}`);
      assert.equal(e.side, 'initiator');
      assert.equal(e.code, 'EAUTH');
      assert.match(e.message, /alice.*refused our CHAP response/);
      return true;
    });
    assert.ok(Date.now() - started < 5000, 'a refused login returns at once');
    // The target must also prove itself: a wrong mutual secret is our AuthenticationError, naming the target side.
    await assert.rejects(initiator.connect({
      target: `${IQN}:mutual`, portal, lun: 1, chap: { user: 'bob', secret: 'bob-secret-123', mutual: { user: 'tgt-bob', secret: 'wrong-target-secret' } },
    }), (e: unknown) => e instanceof AuthenticationError && e.side === 'target');
    // No CHAP for a target that needs it: refused as an authentication failure too.
    await assert.rejects(initiator.connect({ target: `${IQN}:chap`, portal, lun: 1 }), (e: unknown) => e instanceof LoginError && e.statusClass === 2);
    // An unknown target is named as such.
    await assert.rejects(initiator.connect({ target: `${IQN}:nobody`, portal, lun: 1 }), (e: unknown) => e instanceof LoginError && e.reason === 'target-not-found');
  });

  it('negotiates CRC32C digests and moves data with them', async () => {
    await addAuthTargets();
    const device = await initiator.connect({ target: `${IQN}:digests`, portal, lun: 1, digests: true });
    try {
      const p = device.session.parameters;
      assert.equal(p.headerDigest, 'CRC32C');
      assert.equal(p.dataDigest, 'CRC32C');
      const data = randomBytes(1 << 20);
      await device.write(0, data);
      assert.ok((await device.read(0, 2048)).equals(data));
    } finally {
      await device.close();
    }
  });

  it('verifies 256 MiB of random reads and writes (512 B to 1 MiB, QD 1 to 64) against a reference copy and the backing file', async () => {
    const device = await initiator.connect({ target: `${IQN}:plain`, portal, lun: 1 });
    const reference = Buffer.alloc(LUN_BYTES);
    let moved = 0;
    try {
      const { blockSize, blocks } = await device.capacity();
      assert.equal(blockSize, 512);
      // Start from a known state: zeros everywhere (tmpfs file is sparse zeros already, so is the reference).
      const sizes = [512, 4096, 8192, 65536, 131072, 262144 + 512, 1 << 20];
      let seed = 12345;
      const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
      const locked = new Set<number>(); // 1 MiB regions with an I/O in flight: no overlapping I/Os at once
      for (const depth of [1, 8, 32, 64]) {
        const until = moved + (64 << 20);
        const workers = Array.from({ length: depth }, async () => {
          while (moved < until) {
            const bytes = sizes[rand(sizes.length)];
            const region = rand(LUN_BYTES / (1 << 20) - 1);
            if (locked.has(region) || locked.has(region + 1)) {
              await new Promise((r) => setImmediate(r)); // let the holder finish; never spin the event loop
              continue;
            }
            locked.add(region); locked.add(region + 1);
            const lba = region * 2048 + rand(2048);
            assert.ok(lba + bytes / blockSize <= blocks);
            const at = lba * blockSize;
            if (rand(2) === 0) {
              const data = randomBytes(bytes);
              await device.write(lba, data);
              data.copy(reference, at);
            } else {
              const data = await device.read(lba, bytes / blockSize);
              assert.ok(data.equals(reference.subarray(at, at + bytes)), `read at LBA ${lba} (${bytes} bytes, QD ${depth}) differs`);
            }
            moved += bytes;
            locked.delete(region); locked.delete(region + 1);
          }
        });
        await Promise.all(workers);
      }
      await device.flush();
      // Read the whole LU back through us and straight from tgtd's backing file.
      const whole = Buffer.alloc(LUN_BYTES);
      await Promise.all(Array.from({ length: 64 }, (_, i) => device.read(i * 2048, 2048, whole.subarray(i << 20, (i + 1) << 20))));
      assert.ok(whole.equals(reference), 'the whole LU read back equals the reference');
      assert.ok(fs.readFileSync(tgtd.backingFile(1, 1)).equals(reference), "tgtd's backing file equals the reference");
      assert.ok(moved >= 256 << 20, `moved ${moved} bytes`);
      assert.equal(device.session.stats.snapshot().failures, 0);
    } finally {
      await device.close();
    }
  });

  describe('negotiation combinations', () => {
    const combos: Array<{ name: string; target: Record<string, string | number>; ours: Record<string, unknown> }> = [
      { name: 'small segments, InitialR2T, no immediate data', target: { MaxRecvDataSegmentLength: 4096, InitialR2T: 'Yes', ImmediateData: 'No' }, ours: { maxRecvDataSegmentLength: 8192 } },
      { name: 'unsolicited data, small first burst', target: { InitialR2T: 'No', ImmediateData: 'Yes', FirstBurstLength: 16384, MaxRecvDataSegmentLength: 8192 }, ours: { initialR2T: false, firstBurstLength: 16384 } },
      { name: 'immediate only, big segments', target: { InitialR2T: 'Yes', ImmediateData: 'Yes', MaxRecvDataSegmentLength: 262144, FirstBurstLength: 262144 }, ours: { maxRecvDataSegmentLength: 16384 } },
      { name: 'small bursts', target: { MaxBurstLength: 16384, FirstBurstLength: 8192, InitialR2T: 'No' }, ours: { maxBurstLength: 16384, firstBurstLength: 8192, initialR2T: false } },
      { name: 'our side refuses immediate and unsolicited data', target: { InitialR2T: 'No', ImmediateData: 'Yes' }, ours: { initialR2T: true, immediateData: false, maxRecvDataSegmentLength: 4096 } },
    ];
    let tid = 4;
    before(async () => { await addAuthTargets(); });
    for (const combo of combos) {
      it(combo.name, async () => {
        const name = `${IQN}:combo${++tid}`;
        await tgtd.addTarget({ name, luns: [{ sizeBytes: 8 << 20 }], params: combo.target });
        const device: LunDevice = await initiator.connect({ target: name, portal, lun: 1, operational: combo.ours as never });
        try {
          const p = device.session.parameters;
          if (combo.target.MaxRecvDataSegmentLength) assert.equal(p.targetMaxRecvDataSegmentLength, combo.target.MaxRecvDataSegmentLength);
          if (combo.ours.maxRecvDataSegmentLength) assert.equal(p.initiatorMaxRecvDataSegmentLength, combo.ours.maxRecvDataSegmentLength);
          const data = randomBytes(3 << 20);
          const sizes = [512, 3584, 8192, 65536, 200704, 1 << 20];
          let at = 0;
          const ops: Array<Promise<void>> = [];
          for (let i = 0; at + sizes[i % sizes.length] <= data.length; i++) {
            const size = sizes[i % sizes.length];
            ops.push(device.write(at / 512, data.subarray(at, at + size)));
            at += size;
          }
          await Promise.all(ops);
          assert.ok((await device.read(0, at / 512)).equals(data.subarray(0, at)));
          assert.ok(fs.readFileSync(tgtd.backingFile(tid, 1)).subarray(0, at).equals(data.subarray(0, at)));
        } finally {
          await device.close();
        }
      });
    }
  });
});
