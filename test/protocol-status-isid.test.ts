import { strict as assert } from 'node:assert';
import { LOGIN_STATUS, LoginError, interpretLoginStatus } from '../lib/protocol/login-status';
import { deriveIsid, formatIsid, isidFormat, parseIsid } from '../lib/protocol/isid';

describe('protocol/login-status', () => {
  it('success and redirects are not errors', () => {
    assert.deepEqual(interpretLoginStatus(0, 0), { kind: 'success' });
    assert.deepEqual(interpretLoginStatus(1, 1), { kind: 'redirect', permanent: false });
    assert.deepEqual(interpretLoginStatus(1, 2), { kind: 'redirect', permanent: true });
    assert.deepEqual(interpretLoginStatus(1, 0), { kind: 'redirect', permanent: false });
  });
  const table: [number, number, string, boolean][] = [
    [2, 0, 'initiator-error', false], [2, 1, 'authentication-failed', false], [2, 2, 'authorization-failure', false],
    [2, 3, 'target-not-found', false], [2, 4, 'target-removed', false], [2, 5, 'unsupported-version', false],
    [2, 6, 'too-many-connections', true], [2, 7, 'missing-parameter', false], [2, 8, 'cannot-include-in-session', false],
    [2, 9, 'session-type-not-supported', false], [2, 10, 'session-does-not-exist', false], [2, 11, 'invalid-during-login', false],
    [3, 0, 'target-error', true], [3, 1, 'target-busy', true], [3, 2, 'out-of-resources', true],
    [2, 0x55, 'initiator-error', false], [3, 0x55, 'target-error', true], [9, 9, 'unknown-status', false],
  ];
  for (const [cls, detail, reason, retryable] of table) {
    it(`0x${((cls << 8) | detail).toString(16).padStart(4, '0')} -> ${reason}${retryable ? ' (retryable)' : ''}`, () => {
      const s = interpretLoginStatus(cls, detail);
      assert.equal(s.kind, 'error');
      const e = (s as { error: LoginError }).error;
      assert.ok(e instanceof LoginError);
      assert.equal(e.reason, reason);
      assert.equal(e.retryable, retryable);
      assert.equal(e.statusClass, cls);
      assert.equal(e.statusDetail, detail);
      assert.match(e.message, new RegExp(`0x${((cls << 8) | detail).toString(16).padStart(4, '0')}`));
    });
  }
  it('LOGIN_STATUS codes round-trip to reasons', () => {
    assert.equal(new LoginError(LOGIN_STATUS.authenticationFailed.statusClass, LOGIN_STATUS.authenticationFailed.statusDetail).reason, 'authentication-failed');
  });
});

describe('protocol/isid', () => {
  const base = { initiatorName: 'iqn.2024-01.test:host', targetName: 'iqn.2001-05.com.equallogic:vol1', portal: '10.0.0.1:3260' };
  it('is stable for the same path and uses the Random format', () => {
    const a = deriveIsid({ ...base, sourceAddress: '10.0.0.11' });
    assert.deepEqual(deriveIsid({ ...base, sourceAddress: '10.0.0.11' }), a);
    assert.equal(a.length, 6);
    assert.equal(a[0], 0x80);
    assert.equal(isidFormat(a), 'random');
  });
  it('differs between paths (source address, device, portal, initiator) and with a salt', () => {
    const seen = new Set<string>();
    for (const key of [
      { ...base, sourceAddress: '10.0.0.11' }, { ...base, sourceAddress: '10.0.0.12' }, { ...base, device: 'eth1' },
      { ...base, device: 'eth2' }, { ...base, portal: '10.0.0.2:3260' }, { ...base, initiatorName: 'iqn.2024-01.test:other' },
    ]) seen.add(formatIsid(deriveIsid(key)));
    seen.add(formatIsid(deriveIsid({ ...base, sourceAddress: '10.0.0.11' }, 1)));
    assert.equal(seen.size, 7);
  });
  it('formats and parses 12 hex digits', () => {
    assert.deepEqual(parseIsid('400001370000'), Buffer.from('400001370000', 'hex'));
    assert.equal(isidFormat(parseIsid('0x400001370000')), 'enterprise-number');
    assert.throws(() => parseIsid('4000013700'), RangeError);
    assert.throws(() => formatIsid(Buffer.alloc(5)), RangeError);
  });
});
