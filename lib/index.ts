// The public API of iscsi-mpio: the initiator and its multipath devices, sessions, the embedded target, the offload
// view, and every type their signatures use. The PDU layer (codecs, framing, the socket pump) is not here: it is
// `iscsi-mpio/wire` (lib/wire/index.ts). test/public-api.test.ts fails when a public signature names a type that
// neither entry point exports.

// Initiator: discovery, one-path sessions, multipath devices (by URL or by request).
export { Initiator } from './initiator';
export type {
  InitiatorOptions, PathSpec, ChapOptions, DiscoverOptions, SessionRequest, ConnectRequest, ConnectUrlOptions,
} from './initiator';
export { formatPortal } from './portal';
export type { Portal } from './portal';
export { parseIscsiUrl, parsePortal, parsePathSpec, redactUrl, IscsiUrlError } from './url';
export type { IscsiUrl } from './url';
export type { DiscoveredTarget, DiscoveredPortal } from './protocol/discovery-text';
export { ChapAlgorithm } from './protocol/chap';
export type { ChapCredentials, ChapInitiatorOptions } from './protocol/chap';
export type { OperationalValues, NegotiatedParameters, Digest, SessionType } from './protocol/negotiation';

// Devices: the multipath device, its paths, policies and statistics; what a LU says about itself.
export { MultipathDevice } from './mpio/multipath-device';
export type { MultipathOptions, MultipathEvents, PathStateEvent, PathFailedEvent, PolicyEvent } from './mpio/multipath-device';
export { LunDevice } from './session/lun-device';
export type { DeviceIdentity, DeviceCapacity } from './session/lun-device';
export type { FenceStats } from './mpio/write-fence';
export { Path } from './mpio/path';
export type { PathState, PathInfo, SelectablePath } from './mpio/path';
export { PathStats } from './mpio/path-stats';
export type { PathStatsSnapshot } from './mpio/path-stats';
export { IoCounters } from './session/io-counters';
export type { IoCountersSnapshot } from './session/io-counters';
export { POLICY_NAMES } from './mpio/path-selector';
export type { PolicyName, PathSelector } from './mpio/path-selector';
export { createPolicy, isPolicyName } from './mpio/policies';
export type { PolicyOptions, FailoverOptions, RoundRobinOptions, RoundRobinSubsetOptions, ServiceTimeOptions, WeightedPathsOptions } from './mpio/policies';
export type { StandardInquiry, Tpgs } from './scsi/inquiry';
export type { Designator, DesignatorAssociation, DesignatorType, CodeSet, LuIdentity, LuIdentitySource } from './scsi/designators';
export type { LunEntry, LunAddressMethod } from './scsi/report-luns';
export type { ReportTargetPortGroups, TargetPortGroupDescriptor, AluaState } from './scsi/alua';
export type { UnmapRange, UnmapSupport } from './scsi/unmap';

// Sessions: one path, one connection (what a device's paths are made of; usable alone).
export { Session } from './session/session';
export type { SessionOptions, SessionState, SessionInfo, CommandResult } from './session/session';
export type { Redirect } from './session/portal-login';
export { SessionStats } from './session/session-stats';
export type { SessionStatsSnapshot } from './session/session-stats';
export type { ScsiCdb, DataDirection } from './scsi/commands';

// Errors, by layer: each has a `code` (the CLI's exit class follows it).
export { ConnectError, ProtocolError } from './wire/errors';
export { TextFormatError, NegotiationError } from './protocol/errors';
export { LoginError } from './protocol/login-status';
export type { LoginFailureReason } from './protocol/login-status';
export { AuthenticationError } from './protocol/chap';
export type { ChapSide } from './protocol/chap';
export { IsidExhaustedError } from './protocol/isid-registry';
export { PathError, ShortReadError, RedirectLoopError, SessionProtocolError, SessionArgumentError } from './session/errors';
export { ScsiError } from './scsi/scsi-error';
export type { ScsiErrorKind } from './scsi/scsi-error';
export type { Sense, FieldPointer } from './scsi/sense';
export { ScsiArgumentError, ScsiParseError } from './scsi/errors';
export { NoPathError, PathIdentityError, PolicyError } from './mpio/errors';
export { NbdServer } from './nbd/server';
export type { NbdListen, NbdServerOptions } from './nbd/server';
export type { NbdExport, NbdDone } from './nbd/export';
export { deviceExport } from './nbd/device-export';
export type { DeviceExportOptions } from './nbd/device-export';
export { MpioMetrics } from './service/metrics';
export { Service } from './service/service';
export type { ServiceOptions } from './service/service';
export { NodeStore, NodeRecordError } from './service/node-records';
export type { NodeRecord, Startup as NodeStartup } from './service/node-records';
export { serviceDirs, defaultConfigDir } from './service/config-dir';
export type { ServiceDirs } from './service/config-dir';
export type { ServiceStatus, NodeStatus, PathStatus } from './service/status';
export { PathPlanError, TargetNotListedError } from './path-plan';
export type { PortalLayout } from './path-plan';

// Sizes and durations as the CLI takes them.
export { parseSize, parseDuration, UnitError } from './units';
export type { SizeOptions } from './units';

// The embedded target (demos, tests, a scratch array).
export { Target } from './target/target';
export type {
  TargetOptions, TargetCaps, MemberPortalOptions, LunOptions, ChapAccount, AluaAccessState, PortalInfo, LunInfo, SessionFilter,
  MemberPortalInfo, ConnectionInfo, TargetResources,
} from './target/target';

// The offload view: netstat with an Offload State column, NIC features.
export * from './offload';
