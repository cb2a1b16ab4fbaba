import { callOrConstruct } from '../../call-or-construct.js';
import { nowNs } from '../../clock.js';
import { currentTask, enterSync, liveTask, restoreSync, taskStorage } from '../../context/current-task.js';
import { noteYield } from '../../context/readiness.js';
import { holdSchedulerHooks, releaseStorageWhenIdle } from '../../context/scheduler-hooks.js';
import {
  holdSettleHook,
  isAsyncFunction,
  isPending,
  releaseSettleHook,
  settledJustNow,
  watchSettled,
} from '../../context/settle-watch.js';
import { publishGuarded } from '../../engine/monitor.js';
import { channels } from '../../report/channels.js';
import { E_SLEEP, E_START, S_RUNNING } from './model.js';
import type { WindowStart } from './result.js';
import type { Site } from './site.js';
import { tlobMonitor } from './tlob-monitor.js';
import { watchdogHooks } from './watchdog-hooks.js';
import { type OnStop, openWindows, Window } from './window.js';

let nextId = 1;

/**
 * Opens a window for `site` whose parent is the current window; it is not bound to any context
 * yet. `synchronous`: the caller holds the thread until it stops the window (or calls
 * `windowYielded`), so the budget deadline need not be queued before then (a watchdog sees such a
 * call through `watchdogHooks.sync` instead).
 */
export function openWindow(
  site: Site,
  onStop: OnStop | undefined = site.onStop,
  synchronous = false,
): Window {
  const now = nowNs();
  const window = new Window(
    nextId++,
    site.name,
    site.budgetNs,
    now,
    openWindows.count === 0 ? undefined : liveTask(currentTask()),
    site.stats,
    onStop,
  );
  openWindows.count++;
  window.deferDeadline = synchronous;
  tlobMonitor.startAndHandle(window, E_START, now);
  if (channels.start.hasSubscribers) publishStart(window, now);
  return window;
}

/** Publishes `tlob:start` (a new object each time, only while someone listens). */
function publishStart(window: Window, startNs: number): void {
  const message: WindowStart = { name: window.name, id: window.id, budgetNs: window.budgetNs, startNs };
  publishGuarded(channels.start, message);
}

/** The window is off the thread until one of its continuations runs (its call returned a pending promise). */
export function windowYielded(window: Window): void {
  if (window.deferDeadline) tlobMonitor.armDeadline(window);
  if (!window.holdsHooks) {
    window.holdsHooks = true;
    holdSchedulerHooks();
  }
  const now = nowNs();
  noteYield(now);
  if (window.state === S_RUNNING) window.step(E_SLEEP, now);
}

/**
 * Calls `fn` with `window` as the async context of the call and of every continuation it creates
 * (AsyncLocalStorage.run). Returns or throws exactly what `fn` does.
 */
export function enterWindow<T>(
  window: Window,
  fn: Function,
  thisArg: unknown,
  args: ArrayLike<unknown>,
  newTarget?: Function,
): T {
  const previous = enterSync(undefined);
  try {
    return taskStorage.run(window, callOrConstruct, fn, thisArg, args, newTarget) as T;
  } finally {
    restoreSync(previous);
  }
}

/** The window's call returned `promise`, still pending: the window is off the thread until it settles. */
export function waitFor(window: Window, promise: Promise<unknown>): void {
  windowYielded(window);
  watchSettled(promise, window);
}

/** Stops a window; with `throwing` and the `'throw'` reactor, throws for an over-budget result. */
function stopWindow(window: Window, throwing: boolean): void {
  window.end();
  if (throwing && window.overBudget && tlobMonitor.throwing) window.stop(); // throws
}

/** The promise `run` returns: the call's own, or with the `'throw'` reactor one that rejects when over budget. */
function returned<T>(window: Window, promise: Promise<unknown>, throwing: boolean): T {
  if (!throwing || !tlobMonitor.throwing) return promise as T;
  return promise.then((value) => {
    window.stop();
    return value;
  }) as T;
}

/** Consecutive synchronous returns after which a site takes the synchronous fast path. */
export const FAST_PATH_AFTER = 16;

/**
 * Runs `fn` in a new window of `site` and closes the window when the call ends: at a synchronous
 * return or throw, or when the native promise it returned settles (observed without marking it
 * handled). Returns or throws exactly what `fn` does.
 *
 * A call that cannot have continuations should not pay for AsyncLocalStorage.run (~220 ns on
 * Node 24 and 26). A site therefore starts on the async path, which is always right, and after
 * `FAST_PATH_AFTER` consecutive synchronous returns takes the synchronous fast path (never for an
 * `async function`). If a fast-path call returns a promise after all, that call's continuations run
 * in the caller's context (the window counts them as sleeping) and the site goes back to the async
 * path.
 *
 * `throwing` (set by `tlob.run`, never by probes) lets the `'throw'` reactor turn an over-budget
 * result into a `TlobBudgetError`; a probed function always returns and throws exactly what it does.
 */
export function runInWindow<T>(
  site: Site,
  fn: Function,
  thisArg: unknown,
  args: ArrayLike<unknown>,
  newTarget?: Function,
  onStop?: OnStop,
  throwing = false,
): T {
  if (!tlobMonitor.enabled) return callOrConstruct(fn, thisArg, args, newTarget) as T;
  const synchronous = site.fast && !isAsyncFunction(fn);
  // On the synchronous path the call holds the thread until it returns, so no budget timer could
  // fire before its stop, which checks the budget: its deadline is queued only if it yields.
  const window = openWindow(site, onStop ?? site.onStop, synchronous);
  if (!synchronous) return runAsync(site, window, fn, thisArg, args, newTarget, throwing);
  const previous = enterSync(window);
  // the watchdog sees a synchronous call through its board's slots, not the deadline queue
  const watch = watchdogHooks.sync;
  const depth = watch === undefined ? 0 : watch.enter(window);
  let result: unknown;
  try {
    result = callOrConstruct(fn, thisArg, args, newTarget);
  } catch (error) {
    restoreSync(previous);
    watch?.leave(depth);
    window.end();
    throw error;
  }
  restoreSync(previous);
  watch?.leave(depth);
  if (result instanceof Promise) {
    // The site turned asynchronous: this call's continuations were not bound to the window (they
    // count as sleeping); its next calls take the async path.
    site.fast = false;
    site.syncStreak = 0;
    if (isPending(result)) waitFor(window, result);
    else window.end();
    return returned<T>(window, result, throwing);
  }
  stopWindow(window, throwing);
  return result as T;
}

function runAsync<T>(
  site: Site,
  window: Window,
  fn: Function,
  thisArg: unknown,
  args: ArrayLike<unknown>,
  newTarget: Function | undefined,
  throwing: boolean,
): T {
  holdSettleHook();
  let result: unknown;
  try {
    result = enterWindow(window, fn, thisArg, args, newTarget);
  } catch (error) {
    releaseSettleHook();
    window.end();
    throw error;
  }
  if (!(result instanceof Promise)) {
    releaseSettleHook();
    if (++site.syncStreak >= FAST_PATH_AFTER) site.fast = true;
    releaseStorageWhenIdle();
    stopWindow(window, throwing);
    return result as T;
  }
  site.syncStreak = 0;
  // An async function's promise is new: if it did not settle during the call, it is pending. Any
  // other function may return an older promise, settled or not, which needs a look at its state,
  // unless the site has shown that its promises are pending (then checked only at the deadline).
  if (settledJustNow(result)) {
    window.end();
  } else if (isAsyncFunction(fn)) {
    waitFor(window, result);
  } else if (site.assumePending) {
    window.unverified = result;
    window.site = site;
    waitFor(window, result);
  } else if (isPending(result)) {
    if (++site.pendingStreak >= FAST_PATH_AFTER) site.assumePending = true;
    waitFor(window, result);
  } else {
    site.pendingStreak = 0;
    window.end();
  }
  releaseSettleHook();
  return returned<T>(window, result, throwing);
}
