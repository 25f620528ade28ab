import { strict as assert } from 'node:assert';
import {
  formatSendTargets, formatTargetAddress, parseSendTargets, parseTargetAddress, selectSendTargets,
} from '../lib/protocol/discovery-text';
import { TextFormatError } from '../lib/protocol/errors';

describe('protocol/discovery-text: TargetAddress', () => {
  it('parses IPv4, bracketed IPv6 and DNS names, with and without port and tag', () => {
    assert.deepEqual(parseTargetAddress('192.0.2.10:3260,1'), { address: '192.0.2.10', port: 3260, tpgt: 1 });
    assert.deepEqual(parseTargetAddress('192.0.2.10'), { address: '192.0.2.10', port: 3260 });
    assert.deepEqual(parseTargetAddress('192.0.2.10,7'), { address: '192.0.2.10', port: 3260, tpgt: 7 });
    assert.deepEqual(parseTargetAddress('[::1]:3261,2'), { address: '::1', port: 3261, tpgt: 2 });
    assert.deepEqual(parseTargetAddress('[fe80::1]'), { address: 'fe80::1', port: 3260 });
    assert.deepEqual(parseTargetAddress('2001:db8::5'), { address: '2001:db8::5', port: 3260 });
    assert.deepEqual(parseTargetAddress('array.example.com:860'), { address: 'array.example.com', port: 860 });
  });
  it('rejects malformed addresses with a typed error', () => {
    for (const bad of ['', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4:x', '[::1', '[nothost]:3260', '[::1]3260', 'bad_host:3260', 'h:1,70000', 'h:1,']) {
      assert.throws(() => parseTargetAddress(bad), TextFormatError, bad);
    }
  });
  it('formats with IPv6 brackets and round-trips', () => {
    for (const a of [{ address: '10.0.0.1', port: 3260, tpgt: 1 }, { address: '::1', port: 3260, tpgt: 3 }, { address: 'h.example', port: 3261 }]) {
      assert.deepEqual(parseTargetAddress(formatTargetAddress(a)), a);
    }
    assert.equal(formatTargetAddress({ address: '::1', port: 3260, tpgt: 1 }), '[::1]:3260,1');
  });
});

describe('protocol/discovery-text: SendTargets', () => {
  const targets = [
    { name: 'iqn.2001-05.com.equallogic:vol1', portals: [{ address: '10.1.1.1', port: 3260, tpgt: 1 }, { address: 'fd00::1', port: 3260, tpgt: 1 }] },
    { name: 'iqn.2001-05.com.equallogic:vol2', portals: [{ address: '10.1.1.2', port: 3261, tpgt: 2 }] },
  ];
  it('generates the RFC text and parses it back into the DESIGN.md shape', () => {
    const text = formatSendTargets(targets);
    assert.equal(text.toString(), 'TargetName=iqn.2001-05.com.equallogic:vol1\0TargetAddress=10.1.1.1:3260,1\0TargetAddress=[fd00::1]:3260,1\0'
      + 'TargetName=iqn.2001-05.com.equallogic:vol2\0TargetAddress=10.1.1.2:3261,2\0');
    assert.deepEqual(parseSendTargets(text), targets);
  });
  it('ignores aliases, keeps targets without addresses, and rejects an address without a tag or a target', () => {
    assert.deepEqual(parseSendTargets(Buffer.from('TargetName=iqn.a:b\0TargetAlias=disk\0')), [{ name: 'iqn.a:b', portals: [] }]);
    assert.throws(() => parseSendTargets(Buffer.from('TargetName=iqn.a:b\0TargetAddress=10.0.0.1:3260\0')), /portal group tag/);
    assert.throws(() => parseSendTargets(Buffer.from('TargetAddress=10.0.0.1:3260,1\0')), /before any TargetName/);
    assert.deepEqual(parseSendTargets(Buffer.alloc(0)), []);
  });
  it('selects what a target answers to All, a name, or empty', () => {
    assert.equal(selectSendTargets('All', { sessionType: 'Discovery', targets }).length, 2);
    assert.equal(selectSendTargets('All', { sessionType: 'Normal', targets }).length, 0);
    assert.deepEqual(selectSendTargets('iqn.2001-05.com.equallogic:vol2', { sessionType: 'Discovery', targets }), [targets[1]]);
    assert.deepEqual(selectSendTargets('', { sessionType: 'Normal', targets, currentTarget: targets[0].name }), [targets[0]]);
  });
});
