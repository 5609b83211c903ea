// The raw client: the addon's calls on one socket, serialised, with kernel
// failures turned into IpvsError, and nothing else. The layer between the
// addon (src/native.ts) and the facade (src/client.ts), which the command
// line also builds on.
import { constants as osConstants } from 'node:os';

import { cancellable } from './cancel.js';
import { closedError, fromNative, IpvsError } from './errors.js';
import {
  native,
  type NativeSocket,
  type RawBatchOutcome,
  type RawDaemon,
  type RawDest,
  type RawDestKey,
  type RawDestSpec,
  type RawInfo,
  type RawService,
  type RawServiceKey,
  type RawServiceSpec,
  type RawSnapshot,
  type RawTimeouts,
  type SocketOps,
} from './native.js';

/** How a client reaches IPVS: generic netlink, or the legacy socket options (IPv4 only). */
export type Backend = 'netlink' | 'sockopt';

/**
 * The addon's calls on one socket, serialised, with kernel failures turned
 * into IpvsError. No validation and no defaults: values reach the kernel as
 * given, so the kernel's own verdict comes back. `Ipvs` validates and converts
 * on top of it; the command line uses it to send exactly what ipvsadm sends.
 */
export class RawIpvs {
  readonly #sock: NativeSocket;
  readonly #ops: SocketOps;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** The interface this client speaks: generic netlink, or the legacy socket options. */
  readonly backend: Backend;

  /** @internal Use `open()`, then `.raw`. */
  constructor(sock: NativeSocket, backend: Backend) {
    this.#sock = sock;
    this.backend = backend;
    this.#ops = backend === 'sockopt' ? native().sockopt : native();
  }

  /** @internal The socket handle, for readers that only need its namespace. */
  get socket(): NativeSocket {
    return this.#sock;
  }

  /** True once `close()` was called: every call then rejects with EBADF. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one kernel exchange after the ones before it: the socket carries one
   * request at a time, and waiting here keeps worker threads free meanwhile.
   */
  #run<T>(op: string, call: (sock: NativeSocket) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError(op));
    const result = this.#tail
      .then(() => call(this.#sock))
      .catch((e: unknown) => {
        throw fromNative(e);
      });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  // Each call sends the one request its name says and settles with the
  // kernel's answer: an IpvsError with the kernel's errno when refused.

  /** IPVS's version and connection table size (IPVS_CMD_GET_INFO). */
  info = (): Promise<RawInfo> => this.#run('info', (s) => this.#ops.info(s));
  /** Every service with its counters (a dump of IPVS_CMD_GET_SERVICE); `[]` for none. */
  listServices = (): Promise<RawService[]> => this.#run('listServices', (s) => this.#ops.listServices(s));
  /** One service (IPVS_CMD_GET_SERVICE); ESRCH when there is none with this key. */
  getService = (key: RawServiceKey): Promise<RawService> =>
    this.#run('getService', (s) => this.#ops.getService(s, key));
  /** Adds a service (IPVS_CMD_NEW_SERVICE); EEXIST when it exists, ENOENT for an unknown scheduler. */
  addService = (spec: RawServiceSpec): Promise<void> => this.#run('addService', (s) => this.#ops.addService(s, spec));
  /** Replaces a service's settings (IPVS_CMD_SET_SERVICE); ESRCH when it does not exist. */
  editService = (spec: RawServiceSpec): Promise<void> =>
    this.#run('editService', (s) => this.#ops.editService(s, spec));
  /** Deletes a service and its real servers (IPVS_CMD_DEL_SERVICE); ESRCH when it does not exist. */
  deleteService = (key: RawServiceKey): Promise<void> =>
    this.#run('deleteService', (s) => this.#ops.deleteService(s, key));
  /** Deletes every service (IPVS_CMD_FLUSH). */
  clear = (): Promise<void> => this.#run('clear', (s) => this.#ops.clear(s));
  /** Zeroes the counters of one service, or of all with `null` (IPVS_CMD_ZERO). */
  zero = (key: RawServiceKey | null): Promise<void> => this.#run('zero', (s) => this.#ops.zero(s, key));
  /** A service's real servers (a dump of IPVS_CMD_GET_DEST); ESRCH when the service does not exist. */
  listDestinations = (service: RawServiceKey): Promise<RawDest[]> =>
    this.#run('listDestinations', (s) => this.#ops.listDestinations(s, service));
  /** Adds a real server (IPVS_CMD_NEW_DEST); ESRCH without the service, EEXIST when it exists. */
  addDestination = (service: RawServiceKey, dest: RawDestSpec): Promise<void> =>
    this.#run('addDestination', (s) => this.#ops.addDestination(s, service, dest));
  /** Replaces a real server's settings (IPVS_CMD_SET_DEST); ENOENT when it does not exist. */
  editDestination = (service: RawServiceKey, dest: RawDestSpec): Promise<void> =>
    this.#run('editDestination', (s) => this.#ops.editDestination(s, service, dest));
  /** Deletes a real server (IPVS_CMD_DEL_DEST); ENOENT when it does not exist. */
  deleteDestination = (service: RawServiceKey, dest: RawDestKey): Promise<void> =>
    this.#run('deleteDestination', (s) => this.#ops.deleteDestination(s, service, dest));
  /** The TCP, TCP FIN and UDP timeouts (IPVS_CMD_GET_CONFIG). */
  getTimeouts = (): Promise<RawTimeouts> => this.#run('getTimeouts', (s) => this.#ops.getTimeouts(s));
  /** Sets the timeouts (IPVS_CMD_SET_CONFIG); a 0 keeps that one. */
  setTimeouts = (timeouts: RawTimeouts): Promise<void> =>
    this.#run('setTimeouts', (s) => this.#ops.setTimeouts(s, timeouts));
  /** The sync daemons running (a dump of IPVS_CMD_GET_DAEMON); `[]` for none. */
  listDaemons = (): Promise<RawDaemon[]> => this.#run('listDaemons', (s) => this.#ops.listDaemons(s));
  /** Starts a sync daemon (IPVS_CMD_NEW_DAEMON); EEXIST when one in that state runs. */
  startDaemon = (daemon: RawDaemon): Promise<void> => this.#run('startDaemon', (s) => this.#ops.startDaemon(s, daemon));
  /** Stops the sync daemon in `state` (IPVS_CMD_DEL_DAEMON); ESRCH when none runs. */
  stopDaemon = (daemon: Pick<RawDaemon, 'state'>): Promise<void> =>
    this.#run('stopDaemon', (s) => this.#ops.stopDaemon(s, daemon));

  /**
   * Netlink only: the legacy interface has no dumps to spread (EAFNOSUPPORT).
   * Runs on a thread of the addon's; `signal` aborts it.
   */
  snapshot = (poolSize: number, signal?: AbortSignal): Promise<RawSnapshot> =>
    this.backend === 'sockopt'
      ? Promise.reject(
          new IpvsError(
            'snapshot',
            osConstants.errno.EAFNOSUPPORT,
            'snapshots need the netlink back-end; with sockopt use listServices and listDestinations',
            undefined,
            false,
          ),
        )
      : this.#run('snapshot', (s) => cancellable(signal, (c) => native().snapshot(s, poolSize, c)));

  /**
   * Netlink only. Sends the changes of `rows` pipelined (src/batch.ts lays
   * them out), on a thread of the addon's; `signal` ends it after the window
   * in flight, and the outcome says so (`stopped`).
   */
  batch = (
    rows: Uint32Array,
    strings: string[],
    options: { stopOnError: boolean; window: number },
    signal?: AbortSignal,
  ): Promise<RawBatchOutcome> =>
    this.backend === 'sockopt'
      ? Promise.reject(
          new IpvsError(
            'batch',
            osConstants.errno.EAFNOSUPPORT,
            'pipelined changes need the netlink back-end',
            undefined,
            false,
          ),
        )
      : this.#run('batch', (s) => {
          const canceller = signal === undefined ? null : native().canceller();
          const onAbort = () => canceller!.cancel();
          signal?.addEventListener('abort', onAbort, { once: true });
          if (signal?.aborted) canceller!.cancel();
          return native()
            .batch(s, rows, strings, options, canceller)
            .finally(() => signal?.removeEventListener('abort', onAbort));
        });

  // /proc files need no netlink exchange, so they skip the queue.
  /**
   * A whole IPVS /proc file of this client's namespace: `/proc/net/ip_vs*` or
   * `/proc/sys/net/ipv4/vs/NAME` (at most 16 MiB); any other path is a TypeError.
   */
  readProcFile = (path: string): Promise<Buffer> => this.#direct('readProcFile', (s) => native().readProcFile(s, path));
  /** Writes `text` to one of this namespace's IPVS sysctls, `/proc/sys/net/ipv4/vs/NAME`, in one write(). */
  writeProcFile = (path: string, text: string): Promise<void> =>
    this.#direct('writeProcFile', (s) => native().writeProcFile(s, path, text));

  #direct<T>(op: string, call: (sock: NativeSocket) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError(op));
    let pending: Promise<T>;
    try {
      pending = call(this.#sock);
    } catch (e) {
      // A path that is not for this call stays a synchronous TypeError; a
      // failure before the call has a promise (out of memory while its
      // arguments are copied) rejects coded, as it would after.
      if (e instanceof TypeError || e instanceof RangeError) throw e;
      return Promise.reject(fromNative(e));
    }
    return pending.catch((e: unknown) => {
      throw fromNative(e);
    });
  }

  /**
   * Closes the client at once: the socket and its namespace descriptor are
   * released, an exchange in progress and every read or snapshot in flight
   * rejects with EBADF, and so does every later call. Never blocks the event
   * loop; resolves once the calls in flight have settled. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      native().close(this.#sock);
    }
    await this.#tail;
  }
}

/**
 * From now on every call of this JavaScript environment runs on the calling
 * thread and is settled before it returns (its promise and errors unchanged):
 * no start of libuv's pool, no thread hop per call. For a program that owns
 * its process and waits for each call anyway (the `ipvs` command); a host
 * process must not, since a call then blocks its event loop.
 */
export function runCallsInline(): void {
  native().setInline(true);
  inline = true;
}

let inline = false;

/** Whether runCallsInline() was called: a call's promise is then settled before it returns. */
export function callsRunInline(): boolean {
  return inline;
}
