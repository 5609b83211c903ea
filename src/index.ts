// The package entry: re-exports only.
export { open, Ipvs, type OpenOptions } from './client.js';
export { IpvsError } from './errors.js';
export { formatAddress, parseAddress, type Family } from './address.js';
export type { Info } from './info.js';
export type { Stats } from './stats.js';
export type {
  AddressServiceKey,
  FwmarkServiceKey,
  Persistence,
  Protocol,
  SchedulerFlag,
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
