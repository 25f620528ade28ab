// The command window's serial arithmetic across the 2^32 wrap, its queue, and the iscsi:// URL and --path forms.
import assert from 'node:assert/strict';
import { CommandWindow } from '../lib/session/command-window';
import { serialLt } from '../lib/wire/serial';
import { IscsiUrlError, parseIscsiUrl, parsePathSpec } from '../lib/url';

describe('session: command window and URL', () => {
  it('compares sequence numbers across the 2^32 wrap', () => {
    assert.ok(serialLt(0xfffffffe, 1));
    assert.ok(!serialLt(1, 0xfffffffe));
    assert.ok(serialLt(5, 6));
  });

  it('issues up to MaxCmdSN across the wrap, queues the rest in order, ignores a stale window', () => {
    const w = new CommandWindow(0xfffffffe, 0xfffffffe, 0); // three slots: fffffffe, ffffffff, 0
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) w.issue((sn) => sent.push(sn));
    assert.deepEqual(sent, [0xfffffffe, 0xffffffff, 0]);
    assert.equal(w.queued, 2);
    w.update(0, 0xfffffff0); // MaxCmdSN < ExpCmdSN - 1: invalid, ignored
    assert.equal(w.queued, 2);
    w.update(1, 1);
    assert.deepEqual(sent, [0xfffffffe, 0xffffffff, 0, 1]);
    w.update(2, 2);
    assert.deepEqual(sent.slice(-1), [2]);
    assert.equal(w.queued, 0);
  });

  it('parses libiscsi URLs and path specs, and rejects bad ones with a typed error', () => {
    assert.deepEqual(parseIscsiUrl('iscsi://u%s3cret@[fe80::1]:3261/iqn.2024-01.x:t/7'), { portal: { address: 'fe80::1', port: 3261 }, target: 'iqn.2024-01.x:t', lun: 7, user: 'u', secret: 's3cret' });
    assert.deepEqual(parseIscsiUrl('iscsi://array.example/iqn.2024-01.x:t/0'), { portal: { address: 'array.example', port: 3260 }, target: 'iqn.2024-01.x:t', lun: 0 });
    assert.throws(() => parseIscsiUrl('iscsi://host/iqn.x'), IscsiUrlError);
    assert.throws(() => parseIscsiUrl('http://host/iqn.x/1'), IscsiUrlError);
    assert.throws(() => parseIscsiUrl('iscsi://host:70000/iqn.x/1'), /port/);
    assert.deepEqual(parsePathSpec('10.0.0.5@eth1'), { sourceAddress: '10.0.0.5', device: 'eth1' });
    assert.deepEqual(parsePathSpec('@eth2'), { device: 'eth2' });
    assert.deepEqual(parsePathSpec('10.0.0.5@eth1=10.0.1.9:3261'), { sourceAddress: '10.0.0.5', device: 'eth1', portal: { address: '10.0.1.9', port: 3261 } });
    assert.deepEqual(parsePathSpec('=[fd00::9]'), { portal: { address: 'fd00::9', port: 3260 } });
    assert.throws(() => parsePathSpec('10.0.0.5='), IscsiUrlError);
    assert.throws(() => parsePathSpec('10.0.0.5@'), IscsiUrlError);
  });
});
