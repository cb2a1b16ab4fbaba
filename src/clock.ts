import { performance } from 'node:perf_hooks';
import { clearTimeout, nowMs, setTimeout } from './real-timers.js';

/**
 * Where monitors read the time and schedule their deadline work (the budget timer, the log's
 * rate-limit report). The engine starts on `systemClock`; the context layer replaces it with one
 * that schedules outside every window (`context/outside.ts`), and tests with a simulated clock
 * that moves only when told to.
 */
export interface Clock {
  /** Monotonic time in nanoseconds, as a float. */
  now(): number;
  /**
   * Calls `fn` once, `delayMs` milliseconds from now, without keeping the process alive. Returns a
   * handle for `cancel`. `fn` must not run as a continuation of whatever async context called
   * `schedule` (a window, say): the engine's deadline work belongs to no monitored call.
   */
  schedule(fn: () => void, delayMs: number): unknown;
  /** Cancels a call scheduled on this clock; a handle that already ran is ignored. */
  cancel(handle: unknown): void;
  /**
   * The delay to give `schedule` now for the call to run at the first tick of the timers' own
   * clock at or after `dueNs` (on this clock), never before it; NaN while that clock's relation to
   * this one is not known precisely. Without it, the caller rounds the distance up to whole
   * milliseconds, which fires anywhere from a millisecond early to a millisecond late.
   */
  delayUntil?(dueNs: number): number;
}

/**
 * The real clock. `performance.now()` is the cheapest monotonic clock with sub-microsecond
 * resolution in Node (~40 ns a read); `process.hrtime.bigint()` allocates a bigint per read.
 * Node's timers run on a millisecond loop clock and may fire up to ~1 ms early against it. Its
 * timers run in the context they were created in: without async context tracking (no window
 * layer loaded) that is no monitored call.
 */
export const systemClock: Clock = {
  now: () => nowMs() * 1e6,
  schedule(fn, delayMs) {
    const timer = setTimeout(fn, delayMs);
    timer.unref();
    return timer;
  },
  cancel(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

let clock = systemClock;

/** The monotonic clock of every monitor, in nanoseconds since the process's time origin. */
export function nowNs(): number {
  return clock.now();
}

/** The clock monitors read and schedule on. */
export function currentClock(): Clock {
  return clock;
}

/** Makes `next` the clock of every monitor and returns the one it replaces. */
export function useClock(next: Clock): Clock {
  const previous = clock;
  clock = next;
  return previous;
}

/**
 * The thread's time origin, read once: it never changes, and the `performance.timeOrigin` getter
 * is a native call that allocates its result (each violation record reads it).
 */
const timeOrigin = performance.timeOrigin;

/** Converts a monotonic `nowNs()` reading into a Unix epoch timestamp in milliseconds. */
export function epochMs(ns: number): number {
  return timeOrigin + ns / 1e6;
}
