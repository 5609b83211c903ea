// The facade: one client owns one netlink socket (in one network namespace),
// serialises its requests, and speaks in keys, specs and infos.
import {
  destinationFromRaw,
  destinationKeyToRaw,
  destinationSpecToRaw,
  type DestinationInfo,
  type DestinationKey,
  type DestinationSpec,
} from './destination.js';
import { fromNative } from './errors.js';
import { infoFromRaw, type Info } from './info.js';
import { native, type NativeSocket } from './native.js';
import { serviceFromRaw, serviceKeyToRaw, serviceSpecToRaw, type ServiceInfo, type ServiceKey, type ServiceSpec } from './service.js';
import { describe } from './validate.js';

export interface OpenOptions {
  /**
   * The network namespace to manage: a path such as `/run/netns/NAME` or
   * `/proc/PID/ns/net`. Default: the caller's. The calling thread never moves.
   */
  netns?: string;
}

export class Ipvs implements AsyncDisposable {
  readonly #sock: NativeSocket;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Use `open()`. */
  private constructor(sock: NativeSocket) {
    this.#sock = sock;
  }

  /** @internal */
  static async create(options: OpenOptions): Promise<Ipvs> {
    if (options.netns !== undefined && (typeof options.netns !== 'string' || options.netns === '')) {
      throw new TypeError(`netns must be a path to a network namespace, got ${describe(options.netns)}`);
    }
    try {
      return new Ipvs(await native().open(options.netns ?? null));
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * Runs one kernel exchange after the ones before it: the socket carries one
   * request at a time, and waiting here keeps worker threads free meanwhile.
   */
  #run<T>(call: (sock: NativeSocket) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('this IPVS client is closed'));
    const result = this.#tail.then(() => call(this.#sock)).catch((e: unknown) => {
      throw fromNative(e);
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** The IPVS version and connection table size (IPVS_CMD_GET_INFO). */
  async info(): Promise<Info> {
    return infoFromRaw(await this.#run((s) => native().info(s)));
  }

  /** Every virtual service, in the kernel's order. An empty table gives `[]`. */
  async listServices(): Promise<ServiceInfo[]> {
    return (await this.#run((s) => native().listServices(s))).map(serviceFromRaw);
  }

  /** One service. Rejects with ESRCH (`No such service`) when it does not exist. */
  async getService(key: ServiceKey): Promise<ServiceInfo> {
    const raw = serviceKeyToRaw(key);
    return serviceFromRaw(await this.#run((s) => native().getService(s, raw)));
  }

  /** Adds a service. EEXIST: it exists; ENOENT: no such scheduler or persistence engine. */
  async addService(spec: ServiceSpec): Promise<void> {
    const raw = serviceSpecToRaw(spec);
    await this.#run((s) => native().addService(s, raw));
  }

  /**
   * Replaces every setting of a service with `spec` (options left out take
   * their defaults, as in `ipvsadm -E`). ESRCH: no such service.
   */
  async editService(spec: ServiceSpec): Promise<void> {
    const raw = serviceSpecToRaw(spec);
    await this.#run((s) => native().editService(s, raw));
  }

  /** Deletes a service and its destinations. ESRCH: no such service. */
  async deleteService(key: ServiceKey): Promise<void> {
    const raw = serviceKeyToRaw(key);
    await this.#run((s) => native().deleteService(s, raw));
  }

  /** Removes every service and destination (`ipvsadm -C`). */
  async clear(): Promise<void> {
    await this.#run((s) => native().clear(s));
  }

  /** Zeroes the counters of one service, or of all services and the totals. */
  async zero(key?: ServiceKey): Promise<void> {
    const raw = key === undefined ? null : serviceKeyToRaw(key);
    await this.#run((s) => native().zero(s, raw));
  }

  /** The destinations of a service; `[]` when it has none or does not exist. */
  async listDestinations(service: ServiceKey): Promise<DestinationInfo[]> {
    const raw = serviceKeyToRaw(service);
    return (await this.#run((s) => native().listDestinations(s, raw))).map(destinationFromRaw);
  }

  /** Adds a destination. ESRCH: no such service; EEXIST: it exists. */
  async addDestination(service: ServiceKey, spec: DestinationSpec): Promise<void> {
    const svc = serviceKeyToRaw(service);
    const raw = destinationSpecToRaw(spec, svc);
    await this.#run((s) => native().addDestination(s, svc, raw));
  }

  /** Replaces every setting of a destination (as `ipvsadm -e`). ENOENT: no such destination. */
  async editDestination(service: ServiceKey, spec: DestinationSpec): Promise<void> {
    const svc = serviceKeyToRaw(service);
    const raw = destinationSpecToRaw(spec, svc);
    await this.#run((s) => native().editDestination(s, svc, raw));
  }

  /** Deletes a destination. ESRCH: no such service; ENOENT: no such destination. */
  async deleteDestination(service: ServiceKey, key: DestinationKey): Promise<void> {
    const svc = serviceKeyToRaw(service);
    const raw = destinationKeyToRaw(key, svc);
    await this.#run((s) => native().deleteDestination(s, svc, raw));
  }

  /** Closes the socket after the requests already made. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    native().close(this.#sock);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Opens a client: one generic netlink socket with the IPVS family resolved,
 * reused for every call until `close()`. Needs CAP_NET_ADMIN for any call.
 */
export function open(options: OpenOptions = {}): Promise<Ipvs> {
  return Ipvs.create(options);
}
