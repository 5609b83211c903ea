// Long work on the event loop's thread, in slices. A plan of tens of
// thousands of destinations is validated, planned, encoded and compared on
// this thread; done at once, that work held the host's event loop for
// hundreds of milliseconds under emulation (its timers, its sockets, its
// other requests all waited). Such work is written as a generator that
// yields between small steps; runSliced gives the event loop a turn once a
// slice has run SLICE_MS, and runNow runs it through for callers that need
// the result at once.

import { nowMs } from './clock.js';

/** Work that yields (nothing) between its small steps and returns a T. */
export type Sliced<T> = Generator<void, T, void>;

/** Entries (services, destinations, changes) between two yields of sliced work over a table. */
export const SLICE_ENTRIES = 256;

/** The longest a slice runs before the event loop gets a turn, in ms. */
export const SLICE_MS = 8;

/** Runs `work` to its end at once. */
export function runNow<T>(work: Sliced<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `work`, giving the event loop a turn (setImmediate: timers and I/O
 * first) whenever a slice has run `budgetMs`. What `work` throws rejects.
 */
export async function runSliced<T>(work: Sliced<T>, budgetMs = SLICE_MS): Promise<T> {
  let start = nowMs();
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    if (nowMs() - start >= budgetMs) {
      await turn();
      start = nowMs();
    }
  }
}
