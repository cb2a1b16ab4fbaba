import { performance } from 'node:perf_hooks';

/**
 * When a Node timer came due, on the `nowNs()` clock. Node keeps a timer's start in libuv's
 * millisecond loop clock (`_idleStart`) and its delay in `_idleTimeout`; we convert that clock to
 * `performance.now()` with an offset measured once at a millisecond edge of the loop clock, so the
 * due time is accurate to about a millisecond. Used to start "waiting" at the moment a timer of a
 * window became ready, even when its callback runs later because the thread was busy.
 */
let offsetMs = Number.NaN;

interface TimeoutLike {
  _idleStart?: unknown;
  _idleTimeout?: unknown;
}

const noop = () => {};

function calibrate(): number {
  const probe = setTimeout(noop, 1 << 30);
  clearTimeout(probe);
  const first = (probe as unknown as TimeoutLike)._idleStart;
  if (typeof first !== 'number') return Number.NaN;
  // Spin (at most ~1 ms, once per process) to a tick of the loop clock, where its truncation error is ~0.
  const limit = performance.now() + 2;
  for (;;) {
    const t = setTimeout(noop, 1 << 30);
    const now = performance.now();
    clearTimeout(t);
    const start = (t as unknown as TimeoutLike)._idleStart as number;
    if (start !== first || now > limit) return start - now;
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
