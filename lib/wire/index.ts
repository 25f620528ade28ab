// `iscsi-mpio/wire`: the PDU layer for the few who need it (tools, other targets, tests): BHS codecs, framing and
// deframing with digests, CRC32C, adapter-bound sockets and a PDU connection on the addon's socket pump. The main
// entry point (`iscsi-mpio`) does not export these: nothing in its API needs them.
export * from './bhs';
export * from './opcodes';
export * from './serial';
export { PduConnection } from './connection';
export type { DataOutBurst, PduConnectionOptions, SendStats } from './connection';
export { Deframer } from './deframer';
export type { DeframerRole, DeframerStats, FastPath, ReceivedPdu } from './deframer';
export { allocHeader, encodeHeader, frameInto, framePdu } from './framer';
export type { Digests } from './framer';
export { connectBound } from './bound-socket';
export type { AdapterBinding, ConnectOptions } from './bound-socket';
export { crc32c, crc32cWith, crc32cImplementations, activeCrc32cImplementation, writeDigest, DIGEST_LENGTH } from './crc32c';
export type { Crc32cImplementation } from './crc32c';
export { ProtocolError, ConnectError } from './errors';
