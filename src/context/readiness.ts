import { performance } from 'node:perf_hooks';
import { nowNs } from '../clock.js';
import { Immediate } from '../real-timers.js';
import { timerDueNs } from './timer-due.js';

/**
 * When a continuation of a sleeping task became runnable: the moment its waiting began. Node does
 * not timestamp readiness, so it is derived, per kind of continuation, from what the scheduler
 * hooks see anyway (see docs/accounting.md for each kind, what is estimated and the measured error):
 *
 * - a timer: its due time, from the loop clock (`timer-due.ts`), or when the loop left an idle
 *   wait past it, the later;
 * - `setImmediate` and `process.nextTick` callbacks: queued by the task's own code while it ran,
 *   so runnable before the task yielded;
 * - I/O and threadpool completions, and callbacks of other kinds: runnable since the loop last
 *   left an idle wait (the poll phase hands over everything that completed while the thread was
 *   busy, in order, so a completion waits behind the callbacks that ran since). The first
 *   callback after an idle wait, of a task or not, is taken as the start of the busy period;
 * - a promise reaction: runnable since the promise settled, which happened in the macrotask whose
 *   microtask checkpoint runs the reaction: since that macrotask started.
 *
 * The marks below cost one store or compare per continuation of a task; the loop's idle counter
 * (a native call, ~35 ns) is read by a task's continuation only after a gap of at least `gapNs`
 * since the last one ended, and by every top-level callback of no task (not its promise
 * reactions: the loop never idles right before a microtask checkpoint), which reads the clock
 * only when the loop idled since.
 */
export const marks = {
  /** When the last continuation of a task ended. */
  lastEndNs: 0,
  /** When the last top-level continuation of a task that is not a promise reaction (a macrotask) started. */
  lastStartNs: 0,
  /** When the loop last left an idle wait, as far as can be told: the start of the current busy period. */
  busyStartNs: 0,
  /** A top-level callback of no task (not a promise reaction) ran since the last one of a task started. */
  foreignRan: false,
  /** A top-level callback of no task read the loop's idle counter since the last one of a task started. */
  foreignReadIdle: false,
  /** The loop's cumulative idle time when last read, in ns. */
  idleSeenNs: Number.NaN,
  /** The task whose continuation ended last (undefined after a yield outside the hooks). */
  lastOut: undefined as object | undefined,
};

/**
 * Below this, the thread had no time to wait for I/O between two continuations worth reading the
 * idle counter for. A stream's chunks come after idle waits of a few tens of µs each (a file read
 * in 64 KB chunks): at 50 µs those waits were counted as waiting, 2–5 ms in an 8 MB read of
 * 10–30 ms; at 10 µs the idle time is all sleeping. Back-to-back continuations (sequential
 * awaits, a saturated server) come within a few µs and read nothing.
 */
const gapNs = 10_000;

const nodeTiming = performance.nodeTiming;

/** Starts the marks afresh when the hooks are turned on (nothing of the loop was seen while they were off). */
export function resetMarks(now: number): void {
  marks.lastEndNs = now;
  marks.lastStartNs = now;
  marks.busyStartNs = now;
  marks.foreignRan = false;
  marks.foreignReadIdle = false;
  marks.idleSeenNs = nodeTiming.idleTime * 1e6;
  marks.lastOut = undefined;
}

/**
 * Whether a continuation of `task` starting at `now` follows its own last one directly: that one
 * ended last, no callback of no task ran since, and the loop did not wait idle meanwhile (not read
 * within `gapNs`). The gap is then the task's own (its `await`'s machinery, the hooks, a garbage
 * collection or a compile on the way), not time it waited behind other work or slept.
 */
export function followsOwn(task: object, now: number): boolean {
  if (marks.lastOut !== task || marks.foreignRan) return false;
  // the counter as last read, before the gap: unchanged, no wait ended since (a changed one may
  // be a wait before the gap: then the gap is told apart as any other continuation's)
  return now - marks.lastEndNs <= gapNs || nodeTiming.idleTime * 1e6 === marks.idleSeenNs;
}

/**
 * A top-level continuation of a task starts at `now`. After a gap since the last one ended, asks
 * the loop how long it waited idle meanwhile. If it did, the busy period began when that wait
 * ended: right before this continuation when a callback of no task read the counter since the
 * last one of a task started (so the wait came after that callback); else
 * taken to be right after the last continuation, the only thing of the thread's in the gap (the
 * loop's own work between is counted as waiting: the estimate errs toward waiting by that much).
 */
export function noteTopLevelStart(now: number): void {
  if (now - marks.lastEndNs <= gapNs) return;
  const idle = nodeTiming.idleTime * 1e6;
  const waited = idle - marks.idleSeenNs;
  marks.idleSeenNs = idle;
  if (waited > 0) {
    marks.busyStartNs = marks.foreignReadIdle ? now : Math.min(marks.lastEndNs + waited, now);
  }
}

/**
 * A top-level callback of no task starts (not a promise reaction). If the loop waited idle since
 * its counter was last read, this callback is the first after that wait, and the busy period
 * began now; work of no task before that wait is then never taken for a wait of a task's
 * continuation.
 */
export function noteForeignStart(): void {
  marks.foreignRan = true;
  marks.foreignReadIdle = true;
  const idle = nodeTiming.idleTime * 1e6;
  if (idle > marks.idleSeenNs) {
    marks.idleSeenNs = idle;
    marks.busyStartNs = nowNs();
  }
}

/**
 * A task yielded at `now` outside the hooks (its call returned a pending promise, or a window
 * bound at the top level was switched out): the loop's idle counter must be current as of this
 * moment, or a wait before it would be taken for a wait of this task.
 */
export function noteYield(now: number): void {
  if (now - marks.lastEndNs > gapNs) marks.idleSeenNs = nodeTiming.idleTime * 1e6;
  marks.lastEndNs = now;
  marks.lastOut = undefined; // the caller's code runs on after the yield
}

/**
 * When a promise reaction became runnable: since the macrotask whose checkpoint runs it started
 * (its promise settled in it), or since the busy period began when a callback of no task ran
 * since the last one of a task started.
 */
export function reactionReadyNs(): number {
  return marks.foreignRan ? marks.busyStartNs : Math.max(marks.lastStartNs, marks.busyStartNs);
}

/**
 * Whether `resource` is a `process.nextTick` callback's: a plain object up to Node 24, a
 * `TickObject` from Node 26 on.
 */
export function isTick(resource: object): boolean {
  const proto = Object.getPrototypeOf(resource);
  return proto === Object.prototype || proto?.constructor?.name === 'TickObject';
}

/** When the callback running on `resource` (not a promise reaction) became runnable (0: before its task yielded). */
export function callbackReadyNs(resource: unknown, now: number): number {
  const due = timerDueNs(resource);
  // the loop idled past the due time (Node fires timers on its millisecond clock, its poll wait
  // rounded up): the thread was free until the busy period began, nothing to wait behind
  if (!Number.isNaN(due)) return Math.min(Math.max(due, marks.busyStartNs), now);
  if (resource !== null && typeof resource === 'object') {
    if (resource.constructor === Immediate || isTick(resource)) return 0;
  }
  return marks.busyStartNs;
}
