// Kernel failures as one error class, with the message ipvsadm prints for the
// same operation and errno, so operators read what they already know.
import { constants } from 'node:os';

import type { Change } from './batch.js';
import type { NativeError } from './native.js';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // ENOTSUP and EOPNOTSUPP share a number on Linux; IPVS speaks of the latter.
  if (!errnoNames.has(value) || name === 'EOPNOTSUPP') errnoNames.set(value, name);
}

/** The symbolic name of an errno (`ESRCH`), or `E<number>` for one Node does not know. */
export function errnoCode(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** Messages for one operation and errno, looked up before the errno-only ones. */
const byOperation: Record<string, Partial<Record<string, string>>> = {
  addService: { EEXIST: 'Service already exists', ENOENT: 'Scheduler or persistence engine not found' },
  editService: { ESRCH: 'No such service', ENOENT: 'Scheduler or persistence engine not found' },
  deleteService: { ESRCH: 'No such service' },
  getService: { ESRCH: 'No such service' },
  listDestinations: { ESRCH: 'No such service' },
  zero: { ESRCH: 'No such service' },
  addDestination: { ESRCH: 'Service not defined', EEXIST: 'Destination already exists' },
  editDestination: { ESRCH: 'Service not defined', ENOENT: 'No such destination' },
  deleteDestination: { ESRCH: 'Service not defined', ENOENT: 'No such destination' },
  startDaemon: { EEXIST: 'Daemon has already run' },
  stopDaemon: { ESRCH: 'No daemon is running' },
};

const byErrno: Partial<Record<string, string>> = {
  EPERM: 'Permission denied (you must be root)',
  EINVAL: 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
  ENOPROTOOPT: 'Protocol not available',
  ENOMEM: 'Memory allocation problem',
  EOPNOTSUPP: 'Operation not supported with IPv6',
  EAFNOSUPPORT: 'Operation not supported with specified address family',
  EMSGSIZE: 'Module is wrong version',
};

/**
 * The message ipvsadm 1.31 prints for `op` failing with `errno`: the
 * operation's own entry, then the errno's, then the C library's text.
 */
export function ipvsadmMessage(op: string, errno: number, fallback: string): string {
  const code = errnoCode(errno);
  return byOperation[op]?.[code] ?? byErrno[code] ?? fallback;
}

/** A failure reported by the kernel (or by the transport to it). */
export class IpvsError extends Error {
  /** `'IpvsError'` (`'ApplyError'` for that subclass). */
  override readonly name: string = 'IpvsError';
  /** The kernel's errno, positive (3 for ESRCH). */
  readonly errno: number;
  /** The errno's symbolic name, such as `'ESRCH'`. */
  readonly code: string;
  /** The library method that failed, such as `'addService'`. */
  readonly op: string;
  /** The kernel's extended-ACK text, when it sent one. */
  readonly kernelMessage: string | undefined;
  /** The C library's description of the errno (`No such process`) or the transport's own. */
  readonly detail: string;

  /**
   * True when the errno is IPVS's verdict on the request; false for a local
   * failure (opening the socket, a malformed reply), whose message is its own.
   */
  readonly fromKernel: boolean;

  constructor(op: string, errno: number, detail: string, kernelMessage?: string, fromKernel = true) {
    super(fromKernel ? ipvsadmMessage(op, errno, detail) : detail);
    this.fromKernel = fromKernel;
    this.errno = errno;
    this.code = errnoCode(errno);
    this.op = op;
    this.detail = detail;
    this.kernelMessage = kernelMessage;
  }
}

/** Turns what the addon rejected with into an IpvsError; anything else passes through. */
function isNativeError(error: unknown): error is NativeError {
  const e = error as Partial<NativeError> | null;
  return error instanceof Error && typeof e?.errno === 'number' && typeof e.op === 'string';
}

export function fromNative(error: unknown): unknown {
  if (isNativeError(error)) {
    const e = error;
    const out = new IpvsError(e.op, e.errno, e.message, e.kernelMessage, e.fromKernel);
    out.stack = `${out.name}: ${out.message}\n    at ${e.op} (native)`;
    return out;
  }
  return error;
}

/**
 * The same failure as made by the facade's method `op` (its message follows
 * the new op): a call that failed in a primitive it uses (`totals` reading a
 * /proc file, a parallel read planning from a snapshot) names itself.
 */
export function withOp(error: unknown, op: string): unknown {
  if (!(error instanceof IpvsError) || error.op === op) return error;
  const out = new IpvsError(op, error.errno, error.detail, error.kernelMessage, error.fromKernel);
  out.stack = `${out.name}: ${out.message}\n    at ${op} (native)`;
  return out;
}

/** A reply the library could not make sense of: EBADMSG. */
export function badMessage(op: string, detail: string): IpvsError {
  return new IpvsError(op, constants.errno.EBADMSG, detail, undefined, false);
}

/** What every call on a closed client rejects with: EBADF, from every path. */
export function closedError(op: string): IpvsError {
  return new IpvsError(op, constants.errno.EBADF, 'this IPVS client is closed', undefined, false);
}

/**
 * What a call rejects with when its AbortSignal aborts: an Error named
 * `AbortError` with code `ABORT_ERR` and the signal's reason as its cause,
 * as Node's own APIs do.
 */
export function abortError(signal: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason });
  return Object.assign(error, { name: 'AbortError', code: 'ABORT_ERR' });
}

/** An undo that failed after a refused change: the table keeps that change. */
export interface UndoFailure {
  /** The change that could not be undone. */
  change: Change;
  /** The command of its undo that failed (`'deleteService'`, …). */
  command: string;
  /** Why the undo failed (an IpvsError, usually). */
  error: unknown;
}

/**
 * A plan or batch that did not go through (op `'apply'` or `'batch'`): the
 * change the kernel refused (or the failure that ended it), and what was
 * done about the changes already made. `errno`, `code` and `kernelMessage`
 * are the refusal's; `cause` is the refused command's own IpvsError.
 */
export class ApplyError extends IpvsError {
  /** `'ApplyError'`. */
  override readonly name: string = 'ApplyError';
  /** The change the kernel refused; undefined when something else ended the run. */
  readonly change: Change | undefined;
  /** Its position in the plan (0-based), or -1. */
  readonly index: number;
  /** How many changes had been made, and were then undone (or tried to be). */
  readonly undone: number;
  /** True when every change made was undone: the table is as it was before the call. */
  readonly restored: boolean;
  /** The undos that failed: each one's change is still in the table. */
  readonly undoFailures: readonly UndoFailure[];
  /** The part of the message that says what state the table is in. */
  readonly restoredText: string;

  constructor(
    op: string,
    cause: unknown,
    what: {
      change: Change | undefined;
      index: number;
      total: number;
      undone: number;
      undoFailures: UndoFailure[];
      describe: (c: Change) => string;
    },
  ) {
    const c = cause instanceof IpvsError ? cause : undefined;
    const errno = c?.errno ?? constants.errno.EIO;
    super(op, errno, c?.detail ?? String(cause), c?.kernelMessage, c?.fromKernel ?? false);
    this.cause = cause;
    this.change = what.change;
    this.index = what.index;
    this.undone = what.undone;
    this.undoFailures = what.undoFailures;
    this.restored = what.undoFailures.length === 0;
    const failures = what.undoFailures.map((f) => {
      const reason = f.error instanceof Error ? f.error.message : String(f.error);
      return `${what.describe(f.change)} stays (its undo, ${f.command}, failed: ${reason})`;
    });
    this.restoredText = this.restored
      ? what.undone === 0
        ? 'nothing was changed'
        : `the table was restored (${what.undone} change${what.undone === 1 ? '' : 's'} undone)`
      : `the table was NOT restored: ${failures.join('; ')}`;
    const refusal = c ? `${c.message}${c.kernelMessage ? ` (${c.kernelMessage})` : ''} [${c.code}]` : String(cause);
    const where =
      what.change !== undefined
        ? `change ${what.index + 1} of ${what.total} (${what.describe(what.change)}) was refused: ${refusal}`
        : `stopped: ${cause instanceof Error ? cause.message : String(cause)}`;
    this.message = `${op}: ${where}; ${this.restoredText}`;
  }
}
