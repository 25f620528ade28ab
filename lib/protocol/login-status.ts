// Login Response Status-Class / Status-Detail (RFC 7143 §11.13.5). Class 0 is success, class 1 a redirect (not an
// error: the caller reconnects to TargetAddress), class 2 an initiator error, class 3 a target error.

/** Stable names of login failures, for callers and the CLI's JSON. */
export type LoginFailureReason =
  | 'initiator-error' | 'authentication-failed' | 'authorization-failure' | 'target-not-found' | 'target-removed'
  | 'unsupported-version' | 'too-many-connections' | 'missing-parameter' | 'cannot-include-in-session'
  | 'session-type-not-supported' | 'session-does-not-exist' | 'invalid-during-login'
  | 'target-error' | 'target-busy' | 'out-of-resources' | 'unknown-status';

export interface LoginStatusCode { statusClass: number; statusDetail: number }

interface StatusInfo { reason: LoginFailureReason; retryable: boolean; text: string }

const FAILURES: ReadonlyMap<number, StatusInfo> = new Map([
  [0x0200, { reason: 'initiator-error', retryable: false, text: 'initiator error' }],
  [0x0201, { reason: 'authentication-failed', retryable: false, text: 'authentication failed' }],
  [0x0202, { reason: 'authorization-failure', retryable: false, text: 'the initiator is not allowed access to the target' }],
  [0x0203, { reason: 'target-not-found', retryable: false, text: 'the target does not exist at this address' }],
  [0x0204, { reason: 'target-removed', retryable: false, text: 'the target was removed and has no forwarding address' }],
  [0x0205, { reason: 'unsupported-version', retryable: false, text: 'the target does not support this iSCSI version' }],
  // Too many connections clears as others log out: worth retrying after a back-off.
  [0x0206, { reason: 'too-many-connections', retryable: true, text: 'too many connections on this session or target' }],
  [0x0207, { reason: 'missing-parameter', retryable: false, text: 'a required login parameter is missing' }],
  [0x0208, { reason: 'cannot-include-in-session', retryable: false, text: 'the target cannot add this connection to the session' }],
  [0x0209, { reason: 'session-type-not-supported', retryable: false, text: 'the session type is not supported' }],
  [0x020a, { reason: 'session-does-not-exist', retryable: false, text: 'the session (TSIH) does not exist' }],
  [0x020b, { reason: 'invalid-during-login', retryable: false, text: 'request not allowed during login' }],
  [0x0300, { reason: 'target-error', retryable: true, text: 'target error' }],
  [0x0301, { reason: 'target-busy', retryable: true, text: 'service unavailable (target busy or not operational)' }],
  [0x0302, { reason: 'out-of-resources', retryable: true, text: 'the target is out of resources' }],
]);

/** Codes a target sends, by name. */
export const LOGIN_STATUS = {
  success: { statusClass: 0, statusDetail: 0 },
  movedTemporarily: { statusClass: 1, statusDetail: 1 },
  movedPermanently: { statusClass: 1, statusDetail: 2 },
  initiatorError: { statusClass: 2, statusDetail: 0 },
  authenticationFailed: { statusClass: 2, statusDetail: 1 },
  authorizationFailure: { statusClass: 2, statusDetail: 2 },
  targetNotFound: { statusClass: 2, statusDetail: 3 },
  targetRemoved: { statusClass: 2, statusDetail: 4 },
  unsupportedVersion: { statusClass: 2, statusDetail: 5 },
  tooManyConnections: { statusClass: 2, statusDetail: 6 },
  missingParameter: { statusClass: 2, statusDetail: 7 },
  cannotIncludeInSession: { statusClass: 2, statusDetail: 8 },
  sessionTypeNotSupported: { statusClass: 2, statusDetail: 9 },
  sessionDoesNotExist: { statusClass: 2, statusDetail: 0x0a },
  invalidDuringLogin: { statusClass: 2, statusDetail: 0x0b },
  targetError: { statusClass: 3, statusDetail: 0 },
  serviceUnavailable: { statusClass: 3, statusDetail: 1 },
  outOfResources: { statusClass: 3, statusDetail: 2 },
} as const satisfies Record<string, LoginStatusCode>;

/** The target refused the login (Status-Class 2 or 3, or an unknown class). */
export class LoginError extends Error {
  override name = 'LoginError';
  readonly code = 'ELOGIN';
  readonly reason: LoginFailureReason;
  /** Whether the same login may succeed later (class 3, too-many-connections). */
  readonly retryable: boolean;
  constructor(readonly statusClass: number, readonly statusDetail: number, detail?: string) {
    const info = FAILURES.get((statusClass << 8) | statusDetail)
      ?? (statusClass === 2 ? FAILURES.get(0x0200)! : statusClass === 3 ? FAILURES.get(0x0300)! : { reason: 'unknown-status' as const, retryable: false, text: 'unknown login status' });
    const hex = `0x${((statusClass << 8) | statusDetail).toString(16).padStart(4, '0')}`;
    super(`login failed (${hex}): ${info.text}${detail ? `: ${detail}` : ''}`);
    this.reason = info.reason;
    this.retryable = info.retryable;
  }
}

export type LoginStatus =
  | { kind: 'success' }
  | { kind: 'redirect'; permanent: boolean }
  | { kind: 'error'; error: LoginError };

/**
 * Interprets a Login Response status. 0x0101 and 0x0102 are redirects; 0x0100 (seen from targets that omit the
 * detail) is treated as temporary. Other class-1 details are treated as temporary redirects too.
 */
export function interpretLoginStatus(statusClass: number, statusDetail: number): LoginStatus {
  if (statusClass === 0) return statusDetail === 0 ? { kind: 'success' } : { kind: 'error', error: new LoginError(statusClass, statusDetail) };
  if (statusClass === 1) return { kind: 'redirect', permanent: statusDetail === 2 };
  return { kind: 'error', error: new LoginError(statusClass, statusDetail) };
}
