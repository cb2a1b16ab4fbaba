import { performance } from 'node:perf_hooks';

/**
 * The monotonic clock of every monitor, in nanoseconds since the process's time origin, as a
 * float. `performance.now()` is the cheapest monotonic clock with sub-microsecond resolution in
 * Node (~40 ns a read); `process.hrtime.bigint()` allocates a bigint per read.
 */
export function nowNs(): number {
  return performance.now() * 1e6;
}

/** Converts a monotonic `nowNs()` reading into a Unix epoch timestamp in milliseconds. */
export function epochMs(ns: number): number {
  return performance.timeOrigin + ns / 1e6;
}
