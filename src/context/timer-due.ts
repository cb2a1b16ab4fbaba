import { performance } from 'node:perf_hooks';

/**
 * When a Node timer came due, on the `nowNs()` clock. Node keeps a timer's start in libuv's
 * millisecond loop clock (`_idleStart`) and its delay in `_idleTimeout`; we convert that clock to
 * `performance.now()` with an offset measured once (`calibrate`), so the due time is accurate to
 * about a millisecond. Used to start "waiting" at the moment a timer of a
 * window became ready, even when its callback runs later because the thread was busy.
 */
let offsetMs = Number.NaN;

interface TimeoutLike {
  _idleStart?: unknown;
  _idleTimeout?: unknown;
}

const noop = () => {};

/**
 * The offset from `performance.now()` to the loop clock, in ms. Every sample `start - now` is at
 * most the true offset (the loop clock is truncated to whole ms, and `now` is read after it), and
 * comes within microseconds of it just after the loop clock ticks; a sample taken while the
 * process was descheduled between the two reads is too small by that pause. So the estimate is
 * the largest sample over two ticks of the loop clock (at most ~3 ms of spinning, once per
 * process): one preempted sample on a loaded machine cannot skew it.
 */
function calibrate(): number {
  const probe = setTimeout(noop, 1 << 30);
  clearTimeout(probe);
  let last = (probe as unknown as TimeoutLike)._idleStart;
  if (typeof last !== 'number') return Number.NaN;
  let best = Number.NEGATIVE_INFINITY;
  let ticks = 0;
  const limit = performance.now() + 3;
  for (;;) {
    const t = setTimeout(noop, 1 << 30);
    const now = performance.now();
    clearTimeout(t);
    const start = (t as unknown as TimeoutLike)._idleStart as number;
    if (start - now > best) best = start - now;
    if (start !== last) {
      last = start;
      if (++ticks === 2) return best;
    }
    if (now > limit) return best;
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

/** Measures the loop clock's offset, once (the scheduler hooks call it when their module loads). */
export function calibrateTimerClock(): void {
  if (Number.isNaN(offsetMs)) offsetMs = calibrate();
}
