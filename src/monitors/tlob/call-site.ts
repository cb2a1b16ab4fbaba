import { nowNs } from '../../clock.js';
import { currentTask, enterSync, liveTask, restoreSync, taskStorage } from '../../context/current-task.js';
import { ensureSwitchOut, releaseStorageWhenIdle } from '../../context/scheduler-hooks.js';
import {
  holdSettleHook,
  isAsyncFunction,
  isPending,
  releaseSettleHook,
  settledJustNow,
} from '../../context/settle-watch.js';
import type { Task } from '../../context/task.js';
import { deadlines } from '../../engine/deadline-queue.js';
import { publishGuarded } from '../../engine/monitor.js';
import { channels } from '../../report/channels.js';
import { reportInternalError } from '../../report/errors.js';
import { type StatsRecorder, statsFor } from '../../report/stats.js';
import { isCompletionCallback, wrapCallback } from './completion-callback.js';
import { E_START } from './model.js';
import type { WindowStart } from './result.js';
import { observeThenable } from './thenable-observer.js';
import { tlobMonitor } from './tlob-monitor.js';
import { type OnStop, openWindows, Window } from './window.js';

/** The paths a site runs its calls on (`CallSite.path`), learned from the calls it has seen. */
/** The default: `AsyncLocalStorage` carries the window; every returned promise's state is read. */
const PATH_ASYNC = 0;
/** The synchronous fast path: no `AsyncLocalStorage` (the calls returned synchronously). */
const PATH_SYNC = 1;
/** As `PATH_ASYNC`, but a returned promise is assumed pending, and checked only at its deadline. */
const PATH_PENDING = 2;
/** As `PATH_ASYNC`, and a returned thenable that is not a native promise keeps the window open. */
const PATH_THENABLE = 3;

/** Consecutive calls that confirm a path before a site takes it (`PATH_SYNC`, `PATH_PENDING`). */
export const FAST_PATH_AFTER = 16;

let nextId = 1;

/**
 * A place windows are opened from (a `tlob.run` name, a probe, a `@budget` method, a start/stop
 * pair): its configuration, and the one path its calls take, learned from the calls it has seen.
 * `invoke` runs one call in a window: every entry point goes through it, so a function measures
 * the same under each of them.
 */
export class CallSite {
  readonly stats: StatsRecorder;
  /**
   * How the next call runs: `PATH_ASYNC` until the calls show better. A call that cannot have
   * continuations should not pay for binding the window to its async context (~220 ns on Node 24
   * and 26): after `FAST_PATH_AFTER` consecutive synchronous returns the site takes `PATH_SYNC`
   * (never for an `async function`), and the first promise takes it back. After as many pending
   * promises from a function that is not an `async function`, `PATH_PENDING` skips reading their
   * state (`util.inspect`, ~0.7 µs); a window that reaches its deadline checks it then, and a
   * promise that had in fact settled takes the site back. The first thenable that is not a native
   * promise switches to `PATH_THENABLE` for good.
   */
  path = PATH_ASYNC;
  /**
   * Consecutive calls that argue for a faster path: n > 0, n synchronous returns; n < 0, -n
   * pending promises from a function that is not an `async function`.
   */
  streak = 0;

  constructor(
    readonly name: string,
    readonly budgetNs: number,
    readonly onStop: OnStop | undefined,
    /** The raw budget, to reuse the parse while callers pass the same value. */
    readonly budgetInput: unknown,
    /** `{ callback: true }`: a completion callback in last position closes the window. */
    readonly callback = false,
  ) {
    this.stats = statsFor(name);
  }

  /**
   * Runs one call of `fn` in a new window of this site, and hands how it ended to `ended`: a
   * synchronous throw closes the window and is rethrown. Returns or throws exactly what `fn` does.
   * On the synchronous fast path a call that returns a promise after all has its continuations in
   * the caller's context (the window counts them as sleeping), and the site goes back to the async
   * path. Binds the window with `enterWith` and restores the previous store after the call, as
   * `AsyncLocalStorage.run` does, so that no frame of ours sits between the caller and `fn` but
   * this one (and the wrapper).
   */
  invoke(
    fn: Function,
    thisArg: unknown,
    args: ArrayLike<unknown>,
    newTarget: Function | undefined,
    onStop: OnStop | undefined = this.onStop,
  ): unknown {
    if (!tlobMonitor.enabled) {
      return newTarget === undefined
        ? Reflect.apply(fn, thisArg, args)
        : Reflect.construct(fn, args, newTarget);
    }
    let callback: CallbackEnd | undefined;
    if (this.callback && args.length > 0 && isCompletionCallback(args[args.length - 1])) {
      callback = new CallbackEnd();
      args = callback.replaceCallback(args);
    }
    // On the synchronous path the call holds the thread until it returns, so no budget timer could
    // fire before its stop, which checks the budget: its deadline is queued only if it yields.
    const synchronous = this.path === PATH_SYNC && callback === undefined && !isAsyncFunction(fn);
    const window = this.open(onStop, synchronous);
    if (callback !== undefined) callback.window = window;
    let result: unknown;
    if (synchronous) {
      const previous = enterSync(window);
      try {
        result =
          newTarget === undefined ? Reflect.apply(fn, thisArg, args) : Reflect.construct(fn, args, newTarget);
      } catch (error) {
        restoreSync(previous);
        window.close();
        throw error;
      }
      restoreSync(previous);
    } else {
      holdSettleHook(); // to recognise a promise that settles before the call returns
      const previous = enterSync(undefined);
      const store = taskStorage.getStore();
      taskStorage.enterWith(window);
      try {
        result =
          newTarget === undefined ? Reflect.apply(fn, thisArg, args) : Reflect.construct(fn, args, newTarget);
      } catch (error) {
        taskStorage.enterWith(store as Task);
        restoreSync(previous);
        releaseSettleHook();
        window.close();
        throw error;
      }
      taskStorage.enterWith(store as Task);
      restoreSync(previous);
    }
    try {
      this.ended(window, fn, result, newTarget, callback);
    } catch (error) {
      // an exotic result (a Proxy whose traps throw): the call itself went fine, so it returns
      reportInternalError('observing a returned value', error);
      window.close();
    }
    if (!synchronous) releaseSettleHook();
    return result;
  }

  /**
   * The one classifier of how a call ended, and what the site learns from it. A value closes the
   * window now. A native promise closes it when it settles, observed without marking it handled
   * (now, if it had settled already). A thenable that is not a native promise, once the site knows
   * its function returns them, closes it when it reports an outcome to its first `then` caller. A
   * callback-style call closes it when the callback is first called.
   */
  ended(
    window: Window,
    fn: Function,
    result: unknown,
    newTarget: Function | undefined,
    callback: CallbackEnd | undefined,
  ): void {
    const path = this.path;
    if (callback !== undefined) {
      if (callback.called) window.close();
      else window.yielded();
    } else if (result instanceof Promise) {
      if (path === PATH_SYNC && !isAsyncFunction(fn)) {
        // the fast path's call turned asynchronous (the settle hook was not held: the state is read)
        this.path = PATH_ASYNC;
        this.streak = 0;
        if (isPending(result)) window.waitFor(result, false);
        else window.close();
      } else if (settledJustNow(result)) {
        window.close();
      } else if (isAsyncFunction(fn)) {
        // an async function's promise is new: if it did not settle during the call, it is pending
        this.streak = 0;
        window.waitFor(result, false);
      } else if (path === PATH_PENDING) {
        window.waitFor(result, true);
      } else if (isPending(result)) {
        this.streak = Math.min(this.streak, 0) - 1;
        if (path === PATH_ASYNC && this.streak <= -FAST_PATH_AFTER) this.path = PATH_PENDING;
        window.waitFor(result, false);
      } else {
        // an older promise that had settled (a cached one)
        this.streak = 0;
        window.close();
      }
    } else if (newTarget === undefined && result !== null && typeof result === 'object' && hasThen(result)) {
      if (path !== PATH_THENABLE) {
        // learnt at the return: this call's window closes there, later ones wait for the outcome
        this.path = PATH_THENABLE;
        this.streak = 0;
        window.close();
      } else if (observeThenable(result, (result as { then: Function }).then, window)) {
        window.yielded();
      } else {
        window.close(); // frozen: it cannot be observed
      }
    } else {
      if (path === PATH_ASYNC || path === PATH_PENDING) {
        this.streak = Math.max(this.streak, 0) + 1;
        if (this.streak >= FAST_PATH_AFTER) this.path = PATH_SYNC;
      }
      if (path !== PATH_SYNC) releaseStorageWhenIdle();
      window.close();
    }
  }

  /** A promise this site's calls were assumed to leave pending had settled: back to reading each one's state. */
  distrustPending(): void {
    if (this.path === PATH_PENDING) this.path = PATH_ASYNC;
    this.streak = 0;
  }

  /** The learned path of another site of the same name (a `tlob.run` name whose budget changed). */
  learnFrom(site: CallSite): void {
    if (site.path === PATH_SYNC) this.path = PATH_SYNC;
    this.streak = site.streak;
  }

  /**
   * Opens a window of this site whose parent is the current window; it is not bound to any context
   * yet. `synchronous`: the caller holds the thread until it closes the window (or it yields), so
   * the budget deadline need not be queued before then. The monitor must be enabled.
   */
  open(onStop: OnStop | undefined, synchronous: boolean): Window {
    const now = nowNs();
    const window = new Window(
      nextId++,
      this,
      now,
      openWindows.count === 0 ? undefined : liveTask(currentTask()),
      onStop,
    );
    openWindows.count++;
    // the watchdog must see every deadline, the synchronous call's above all
    window.deferDeadline = synchronous && deadlines.watcher === undefined;
    tlobMonitor.startAndHandle(window, E_START, now);
    if (channels.start.hasSubscribers) publishStart(window, now);
    return window;
  }

  /**
   * Opens a window bound to the current async context like `AsyncLocalStorage.enterWith` (what
   * `tlob.start` and the start probe of a pair do). The monitor must be enabled.
   */
  start(): Window {
    const window = this.open(this.onStop, false);
    window.bindToContext();
    taskStorage.enterWith(window);
    if (currentTask() !== window) enterSync(window);
    ensureSwitchOut(window);
    return window;
  }
}

/** Publishes `tlob:start` (a new object each time, only while someone listens). */
function publishStart(window: Window, startNs: number): void {
  const message: WindowStart = { name: window.name, id: window.id, budgetNs: window.budgetNs, startNs };
  publishGuarded(channels.start, message);
}

/** Whether `value` has a callable `then` (a getter that throws counts as no). */
function hasThen(value: object): boolean {
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/**
 * The end of a callback-style call (`{ callback: true }`): the window closes when the callback (the
 * last argument) is first called. The callee gets a wrapper of the callback that calls the
 * original with the same `this` and arguments, every time.
 */
class CallbackEnd {
  called = false;
  window: Window | undefined = undefined;

  /** The arguments with the callback replaced by its wrapper. */
  replaceCallback(args: ArrayLike<unknown>): unknown[] {
    const callArgs = Array.prototype.slice.call(args) as unknown[];
    const last = callArgs.length - 1;
    callArgs[last] = wrapCallback(callArgs[last] as Function, () => {
      if (this.called) return;
      this.called = true;
      this.window?.close();
    });
    return callArgs;
  }
}
