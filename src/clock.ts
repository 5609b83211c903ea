// The time in milliseconds from a monotonic clock, as performance.now()
// gives it, without `performance`: Node loads perf_hooks (eleven of its own
// modules) the first time a program reads that global, which is tens of
// milliseconds of the command line's start-up under emulation.

/** Milliseconds from an arbitrary start, never going back. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
