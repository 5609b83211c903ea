// AbortSignal for long calls: each call gets a native canceller, cancelled
// when the signal aborts, so the addon's threads stop promptly; the call then
// rejects with an AbortError (as Node's own APIs do).
import { abortError } from './errors.js';
import { native, type NativeCanceller } from './native.js';
import { invalidType } from './validate.js';

/** Checks that `value` is an AbortSignal or undefined; TypeError naming `field` otherwise. */
export function signalOption(field: string, value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw invalidType(`${field} must be an AbortSignal, got ${typeof value === 'object' ? 'an object' : String(value)}`);
}

/**
 * Runs `call` with a canceller tied to `signal` (null without one). Rejects
 * with an AbortError at once if the signal has aborted, and when it aborts
 * while the call runs, whatever the native side rejected with.
 */
export async function cancellable<T>(
  signal: AbortSignal | undefined,
  call: (canceller: NativeCanceller | null) => Promise<T>,
): Promise<T> {
  if (signal === undefined) return call(null);
  if (signal.aborted) throw abortError(signal);
  const canceller = native().canceller();
  const onAbort = () => canceller.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(canceller);
  } catch (e) {
    if (signal.aborted) throw abortError(signal);
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
