// The classification rules on their own: kTLS modes (this kernel has no TLS ULP to test with), iSCSI transport
// capabilities, per-family stateless offloads, and TCP state names.
import { strict as assert } from 'node:assert';
import { classifySocket } from '../lib/offload/offload-state';
import { describeTransport, CAP_DATA_PATH_OFFLOAD, CAP_LOGIN_OFFLOAD, CAP_DIGEST_OFFLOAD, CAP_PADDING_OFFLOAD } from '../lib/offload/kernel-iscsi';
import { statelessOffloads } from '../lib/offload/stateless-offloads';
import { tcpStateName, CONNECTED_STATES } from '../lib/offload/tcp-states';

describe('offload classification', () => {
  it('is InHost for plain sockets and software or inline-crypto kTLS, Offloaded only for TLS record offload (TOE)', () => {
    assert.deepEqual(classifySocket({}), { offloadState: 'InHost' });
    assert.deepEqual(classifySocket({ ulp: { name: 'tls', tls: { tx: 'sw', rx: 'none' } } }), { offloadState: 'InHost', ktls: { tx: 'sw', rx: 'none' } });
    assert.equal(classifySocket({ ulp: { name: 'tls', tls: { tx: 'hw', rx: 'hw' } } }).offloadState, 'InHost');
    assert.deepEqual(classifySocket({ ulp: { name: 'tls', tls: { tx: 'hw-record', rx: 'hw-record' } } }),
      { offloadState: 'Offloaded', engine: 'tls-toe', ktls: { tx: 'hw-record', rx: 'hw-record' } });
    assert.equal(classifySocket({ ulp: { name: 'mptcp' } }).offloadState, 'InHost');
  });

  it('decides iSCSI offload from transport caps, plus the Chelsio TCP-on-chip transports', () => {
    const qla = describeTransport('qla4xxx', 0x48b8);
    assert.equal(qla.offloaded, true);
    assert.deepEqual(qla.offloads, ['iscsi-data-path', 'iscsi-login']);
    assert.equal(describeTransport('bnx2i', CAP_DATA_PATH_OFFLOAD | 0x80).offloaded, true);
    const cxgb = describeTransport('cxgb4i', CAP_DIGEST_OFFLOAD | CAP_PADDING_OFFLOAD | 0x80);
    assert.equal(cxgb.offloaded, true);
    assert.deepEqual(cxgb.offloads, ['iscsi-data-path', 'iscsi-digest', 'iscsi-padding']);
    assert.equal(describeTransport('tcp', 0x39).offloaded, false);
    assert.equal(describeTransport('iser', 0x39).offloaded, false);
    assert.deepEqual(describeTransport('x', CAP_DATA_PATH_OFFLOAD | CAP_LOGIN_OFFLOAD).offloads, ['iscsi-data-path', 'iscsi-login']);
  });

  it('maps kernel features to the offloads that apply to the connection\'s address family', () => {
    const features = ['tx-tcp6-segmentation', 'tx-checksum-ipv4', 'rx-gro', 'rx-lro', 'tls-hw-tx-offload', 'tx-scatter-gather', 'highdma'];
    assert.deepEqual(statelessOffloads(features, 4), ['gro', 'lro', 'tx-csum', 'sg', 'tls-tx']);
    assert.deepEqual(statelessOffloads(features, 6), ['tso', 'gro', 'lro', 'sg', 'tls-tx']);
    assert.deepEqual(statelessOffloads(features), ['tso', 'gro', 'lro', 'tx-csum', 'sg', 'tls-tx']);
    assert.deepEqual(statelessOffloads([]), []);
  });

  it('names TCP states as Windows netstat does; the default view leaves out listeners and closed sockets', () => {
    assert.equal(tcpStateName(1), 'ESTABLISHED');
    assert.equal(tcpStateName(10), 'LISTENING');
    assert.equal(tcpStateName(12), 'SYN_RECEIVED');
    assert.equal(CONNECTED_STATES & (1 << 10), 0);
    assert.notEqual(CONNECTED_STATES & (1 << 6), 0);
  });
});
