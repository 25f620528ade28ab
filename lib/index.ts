// The public API of iscsi-mpio (DESIGN.md "Library").
export * from './wire/bhs';
export * from './wire/opcodes';
export { PduConnection } from './wire/connection';
export type { PduConnectionOptions } from './wire/connection';
export { connectBound } from './wire/bound-socket';
export type { AdapterBinding, ConnectOptions } from './wire/bound-socket';
export { crc32c, crc32cImplementations, activeCrc32cImplementation } from './wire/crc32c';
export { ProtocolError, ConnectError } from './wire/errors';
export * from './offload';
export { Initiator } from './initiator';
export type { InitiatorOptions, PathSpec, ChapOptions, DiscoverOptions, SessionRequest, ConnectRequest } from './initiator';
export { Session } from './session/session';
export type { SessionOptions, SessionState, SessionInfo, CommandResult } from './session/session';
export { LunDevice } from './session/lun-device';
export { PathError, RedirectLoopError } from './session/errors';
export { parseIscsiUrl, IscsiUrlError } from './url';
export { Target } from './target/target';
export type { TargetOptions, MemberPortalOptions, LunOptions, ChapAccount, AluaAccessState, PortalInfo, LunInfo, SessionFilter, MemberPortalInfo, ConnectionInfo } from './target/target';
