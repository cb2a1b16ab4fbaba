import { createHook, executionAsyncResource } from 'node:async_hooks';
import { nowNs } from '../engine/clock.js';
import { taskStorage } from './current-task.js';
import { releaseWhenIdle } from './idle-release.js';
import { calibrateTimerClock, timerDueNs } from './timer-due.js';

/**
 * The event loop as the scheduler. `async_hooks` `before`/`after` fire around every continuation
 * (promise reactions, timers, I/O and other callbacks); the task carried by AsyncLocalStorage into
 * that continuation is switched onto the thread in `before` and off it in `after`. Only `before`
 * and `after` are hooked: an `init` or `destroy` hook would cost every async operation of the
 * process about 0.8 µs. The hook is enabled only while at least one task that can have
 * continuations is open, so a process with no window in flight pays nothing.
 *
 * Nested continuations (an `AsyncResource.runInAsyncScope` inside another continuation) are
 * switched in, and switched out only when the outermost one ends.
 */
let depth = 0;

function before(): void {
  depth++;
  const task = taskStorage.getStore();
  if (task === undefined) return;
  const now = nowNs();
  let ready = now;
  const due = timerDueNs(executionAsyncResource());
  if (due < now) ready = due; // a timer (NaN otherwise), runnable since it came due
  for (let t: typeof task | undefined = task; t !== undefined; t = t.parent) {
    if (t.live) t.switchIn(now, ready);
  }
}

function after(): void {
  if (depth > 0) depth--;
  if (depth > 0) return;
  const task = taskStorage.getStore();
  if (task === undefined) return;
  const now = nowNs();
  for (let t: typeof task | undefined = task; t !== undefined; t = t.parent) {
    if (t.live) t.switchOut(now);
  }
}

const hook = createHook({ before, after });
// At load rather than at first use, so that the (at most ~1 ms) measurement is never charged to a window.
calibrateTimerClock();
let holders = 0;
let enabled = false;
const disableWhenIdle = releaseWhenIdle(
  () => holders > 0,
  () => {
    enabled = false;
    hook.disable();
  },
);

const noop = () => {};

/**
 * Makes sure a task bound to the current context is switched off the thread when the current
 * synchronous run ends. Inside a continuation the hook's `after` does that; at the top level of a
 * script (or when the hook was only just enabled) there is no `after` to come, so an empty
 * microtask, which runs in this context once the synchronous code is done, provides one.
 */
export function ensureSwitchOut(): void {
  if (depth === 0) queueMicrotask(noop);
}

/** Number of open tasks holding the hook enabled. */
export function hookHolders(): number {
  return holders;
}

/** One more open task needs scheduler events; enables the hook on the first. */
export function holdSchedulerHooks(): void {
  if (holders++ === 0 && !enabled) {
    enabled = true;
    depth = 0;
    hook.enable();
  }
}

/** A task that held the hook finished; disables the hook with the last. */
export function releaseSchedulerHooks(): void {
  if (holders > 0 && --holders === 0) disableWhenIdle();
}
