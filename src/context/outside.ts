import { AsyncResource } from 'node:async_hooks';
import { type Clock, systemClock, useClock } from '../clock.js';
import { timerDelayMs } from './timer-due.js';

/**
 * The async context tlob's own deferred work is created in (the budget timer, the microtask that
 * switches out windows bound at the top level): the context this module was loaded in, which holds
 * no window. Entering it emits `before`/`after` synchronously; while `outside.depth` is above 0 the
 * scheduler hooks ignore those events (one field read instead of `executionAsyncResource()` on
 * every continuation), so doing our bookkeeping never switches a window off the thread.
 */
const outsideResource = new AsyncResource('tlob.outside', { requireManualDestroy: true });

/** How deep we are in `runOutside` (0 almost always). */
export const outside = { depth: 0 };

/** Calls `fn(...args)` in the outside context. */
export function runOutside<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
  outside.depth++;
  try {
    return outsideResource.runInAsyncScope(fn, undefined, ...args);
  } finally {
    outside.depth--;
  }
}

/**
 * The system clock with its calls scheduled outside every window: a timer created while a window
 * is current would otherwise run as that window's continuation and charge the window with the
 * engine's work. Its delays come from the loop clock's measured offset (`timer-due.ts`) once it is
 * known, so that a deadline's timer runs at the loop's first tick past the deadline. Every monitor runs on it once this layer is loaded, which happens before any
 * window can open.
 */
const outsideClock: Clock = {
  now: systemClock.now,
  schedule: (fn, delayMs) => runOutside(systemClock.schedule, fn, delayMs),
  cancel: systemClock.cancel,
  delayUntil: timerDelayMs,
};
useClock(outsideClock);
