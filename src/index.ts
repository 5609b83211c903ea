// The package entry: re-exports only.
export { open, Ipvs, RawIpvs, type Backend, type OpenOptions, type SnapshotOptions } from './client.js';
export type {
  RawBatchOutcome,
  RawSnapshot,
  RawDest,
  RawDestKey,
  RawDestSpec,
  RawInfo,
  RawService,
  RawServiceKey,
  RawServiceSpec,
  RawStats,
  RawTimeouts,
  RawDaemon,
} from './native.js';
export { K as constants } from './constants.js';
export { ApplyError, IpvsError, type UndoFailure } from './errors.js';
export type { BatchChange, Change, DestinationChange, ServiceChange } from './batch.js';
export type { ApplyOptions, ApplyResult, DesiredService, DesiredState, Plan, PlanOptions } from './plan.js';
export type { DestinationField, ServiceField } from './table.js';
export { formatAddress, parseAddress, type Family, type ParsedAddress } from './address.js';
export type { Info } from './info.js';
export { ConnectionBatch } from './connections.js';
export type {
  Connection,
  ConnectionCount,
  ConnectionFilter,
  ConnectionProtocol,
  ConnectionReadOptions,
  ConnectionStatsBy,
  ConnectionStatsKeys,
  ConnectionStatsOptions,
  Endpoint,
  EndpointFilter,
  KnownConnectionProtocol,
  ServiceEndpoint,
} from './connections.js';
export type { Timeouts } from './timeouts.js';
export {
  DEFAULT_DRAIN_INTERVAL,
  DEFAULT_DRAIN_TIMEOUT,
  type DrainOptions,
  type DrainProgress,
  type DrainResult,
} from './drain.js';
export type {
  DestinationAdded,
  DestinationChanged,
  DestinationRemoved,
  ServiceAdded,
  ServiceChanged,
  ServiceRemoved,
  WatchEvent,
  WatchOptions,
} from './watch.js';
export { rates, unpack, COUNTERS, type PackedSnapshot, type PollOptions, type Snapshot } from './snapshot.js';
export type { SysctlName, Sysctls } from './sysctl.js';
export type { DaemonInfo, DaemonSpec, DaemonState } from './daemon.js';
export type { Stats } from './stats.js';
export type {
  AddressServiceKey,
  FwmarkServiceKey,
  Persistence,
  Protocol,
  SchedulerFlag,
  ServiceDetails,
  ServiceInfo,
  ServiceKey,
  ServiceOptions,
  ServiceSpec,
} from './service.js';
export type {
  DestinationInfo,
  DestinationKey,
  DestinationOptions,
  DestinationSpec,
  Forwarding,
  Tunnel,
  TunnelChecksum,
  TunnelType,
} from './destination.js';
