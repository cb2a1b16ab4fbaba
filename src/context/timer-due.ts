import { nowMs, setTimeout } from '../real-timers.js';

/**
 * When a Node timer came due, on the `nowNs()` clock. Node keeps a timer's start in libuv's
 * millisecond loop clock (`_idleStart`, read fresh when the timer is created) and its delay in
 * `_idleTimeout`. Both that clock and `nowMs()` count the same monotonic clock from
 * different origins, so they differ by a constant `K` (ms), up to the loop clock's truncation to
 * whole milliseconds. Used to start "waiting" at the moment a timer of a window became ready, even
 * when its callback runs later because the thread was busy.
 *
 * `K` is never estimated from one reading: each sample (a `nowMs()` before and after
 * creating a timer) proves that `K` lies in an interval, and the samples' intersection only
 * narrows. A sample taken while the process is descheduled gives a wide interval, never a wrong
 * one, so a busy machine at start-up slows the measurement down instead of skewing it.
 */
let lo = Number.NEGATIVE_INFINITY;
let hi = Number.POSITIVE_INFINITY;
let offsetMs = Number.NaN;

interface TimeoutLike {
  _idleStart?: unknown;
  _idleTimeout?: unknown;
}

const noop = () => {};

/** Precise enough: the offset is known within ±10 µs. */
const preciseMs = 0.02;

/**
 * One far-off, unref'd timer, created once and restarted for each sample (`refresh()` reads the
 * loop clock as creating a timer does, ~40 ns, and creates no new resource).
 */
let probe: NodeJS.Timeout | undefined;

/** Narrows [lo, hi] by one sample; returns false when Node's timers do not expose `_idleStart`. */
function sample(): boolean {
  probe ??= setTimeout(noop, 1 << 30).unref();
  const before = nowMs();
  probe.refresh();
  const after = nowMs();
  const start = (probe as unknown as TimeoutLike)._idleStart;
  if (typeof start !== 'number') return false;
  // The loop clock read inside the timer, L = floor(perf + K) at some perf in [before, after]:
  // L <= perf + K < L + 1, so K lies in (start - after, start + 1 - before].
  const low = start - after;
  const high = start + 1 - before;
  if (low > hi || high < lo) {
    // No common point: the clocks are not related as assumed (a Node that changed how it keeps
    // timers). Start over from this sample rather than keep an offset that is proven wrong.
    lo = low;
    hi = high;
  } else {
    if (low > lo) lo = low;
    if (high < hi) hi = high;
  }
  offsetMs = (lo + hi) / 2;
  return true;
}

/** Samples until the offset is precise or `budgetMs` has been spent (a sample takes ~0.5 µs). */
function narrow(budgetMs: number): void {
  const limit = nowMs() + budgetMs;
  while (hi - lo > preciseMs && nowMs() < limit) {
    if (!sample()) return;
  }
}

/** The due time in ns of `resource` if it is a Node timer (Timeout), otherwise NaN. */
export function timerDueNs(resource: unknown): number {
  const r = resource as TimeoutLike | null;
  if (r === null || typeof r !== 'object') return Number.NaN;
  const start = r._idleStart;
  const delay = r._idleTimeout;
  if (typeof start !== 'number' || typeof delay !== 'number' || delay < 0) return Number.NaN;
  return (start + delay - offsetMs) * 1e6;
}

/**
 * The delay to give `setTimeout` now for its callback to run at the first tick of the loop clock
 * at or after `dueNs` (on the `nowNs()` clock), never before it; NaN until the offset is precise.
 * Node runs a timer once the loop clock reaches its start plus its delay; its start is the loop
 * clock when it is created, at least floor(now + lo), and the loop clock passes `dueNs` when it
 * reaches `dueNs` + K, at most `dueNs` + hi.
 */
export function timerDelayMs(dueNs: number): number {
  if (!(hi - lo <= preciseMs)) return Number.NaN;
  const startMs = Math.floor(nowMs() + lo);
  return Math.max(1, Math.ceil(dueNs / 1e6 + hi) - startMs);
}

/**
 * Measures the loop clock's offset: up to ~2 ms of samples when first called (samples across a
 * millisecond edge of the loop clock pin it within microseconds), then one more sample per call
 * for as long as it is not yet precise (a machine so busy that the first measurement was
 * descheduled past its time budget).
 */
export function calibrateTimerClock(): void {
  if (Number.isNaN(offsetMs)) narrow(2);
  else if (hi - lo > preciseMs) sample();
}

/** How well the offset is known: the interval proven to hold it, in ms (for tests and diagnostics). */
export function timerClockBounds(): { lowMs: number; highMs: number; offsetMs: number } {
  return { lowMs: lo, highMs: hi, offsetMs };
}
