import { type Clock, nowNs, useClock } from '../src/clock.js';
import { runOutside } from '../src/context/outside.js';
import { deadlines } from '../src/engine/deadline-queue.js';

interface Scheduled {
  atNs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when the test says so (`advance`), for timer paths: deadlines, expiry,
 * the log's rate limit. Scheduled calls run outside every window, as the clock contract asks, in
 * deadline order, each with the clock set to its due time. With `earlyMs`,
 * every call runs that much before it is due, as Node's millisecond timers may against the
 * monotonic clock.
 */
export class SimulatedClock implements Clock {
  /** Calls scheduled so far, cancelled or not. */
  scheduledCount = 0;
  private queue: Scheduled[] = [];

  constructor(
    private nowNsValue: number,
    private readonly earlyMs = 0,
  ) {}

  now(): number {
    return this.nowNsValue;
  }

  schedule(fn: () => void, delayMs: number): unknown {
    const entry: Scheduled = {
      atNs: this.nowNsValue + Math.round(Math.max(0, delayMs - this.earlyMs) * 1e6),
      seq: this.scheduledCount++,
      fn,
      cancelled: false,
    };
    this.queue.push(entry);
    return entry;
  }

  cancel(handle: unknown): void {
    (handle as Scheduled).cancelled = true;
  }

  /** Calls scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.queue.filter((e) => !e.cancelled).length;
  }

  /** Moves the clock `ms` forward, running every call that comes due on the way. */
  advance(ms: number): void {
    const target = this.nowNsValue + Math.round(ms * 1e6); // whole ns: no rounding drift
    for (;;) {
      this.queue = this.queue.filter((e) => !e.cancelled);
      const next = this.queue
        .filter((e) => e.atNs <= target)
        .sort((a, b) => a.atNs - b.atNs || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.queue.splice(this.queue.indexOf(next), 1);
      this.nowNsValue = Math.max(this.nowNsValue, next.atNs);
      runOutside(next.fn);
    }
    this.nowNsValue = target;
  }
}

/**
 * Runs the monitors on a fresh `SimulatedClock` (starting at the real clock's reading) until
 * `restore()`; the deadline queue's timer moves over to it and back.
 */
export function useSimulatedClock(earlyMs = 0): { clock: SimulatedClock; restore(): void } {
  const clock = new SimulatedClock(Math.round(nowNs()), earlyMs);
  const previous = useClock(clock);
  deadlines.reschedule();
  return {
    clock,
    restore() {
      useClock(previous);
      deadlines.reschedule();
    },
  };
}
