import { nowNs } from '../../clock.js';
import {
  currentSyncTask,
  currentTask,
  currentTaskFrom,
  enterSync,
  liveTask,
  restoreSync,
  taskStorage,
} from '../../context/current-task.js';
import { ensureSwitchOut, releaseStorageWhenIdle } from '../../context/scheduler-hooks.js';
import { holdSettleHook, isAsyncFunction, releaseSettleHook } from '../../context/settle-watch.js';
import type { Task } from '../../context/task.js';
import { publishGuarded } from '../../engine/monitor.js';
import { channels } from '../../report/channels.js';
import { reportInternalError } from '../../report/errors.js';
import { type StatsRecorder, statsFor } from '../../report/stats.js';
import { CallPath, PATH_ASYNC, PATH_SYNC, PATH_THENABLE } from './call-path.js';
import { isCompletionCallback, wrapCallback } from './completion-callback.js';
import { E_START } from './model.js';
import type { WindowStart } from './result.js';
import { tlobMonitor } from './tlob-monitor.js';
import {
  SYNC_DEPTH,
  SYNC_FIELDS,
  SYNC_IDLE,
  SYNC_SLOTS,
  type WatchedSite,
  watchdogHooks,
} from './watchdog-hooks.js';
import { type OnStop, openWindows, Window, windowsKept } from './window.js';

let nextId = 1;

/** Runs `fn`, then issues window ids as if the windows it opened had never been. */
export function issuingNoIds(fn: () => void): void {
  const next = nextId;
  try {
    fn();
  } finally {
    nextId = next;
  }
}

/**
 * The store each running synchronous-path call found in the AsyncLocalStorage, recorded only when
 * code inside it binds a window to the context (`CallSite.start`): the synchronous path reads no
 * store of its own, and restores this one when the call returns, so that a window started inside a
 * call stays inside it on every path.
 */
const storesToRestore = new Map<Window, Task | undefined>();

/** Puts back the store `window`'s synchronous call found, if a window was bound inside the call. */
function restoreStoreAfter(window: Window): void {
  const store = storesToRestore.get(window);
  if (storesToRestore.delete(window)) taskStorage.enterWith(store as Task);
}

/**
 * A place windows are opened from (a `tlob.run` name, a probe, a `@budget` method, a start/stop
 * pair): its configuration, and the one path its calls take, learned from the calls it has seen
 * (`CallPath`). `invoke` runs one call in a window: every entry point goes through it, so a
 * function measures the same under each of them.
 */
export class CallSite extends CallPath implements WatchedSite {
  readonly stats: StatsRecorder;
  /** What the watchdog's board learnt of this site (see `WatchedSite`). */
  watchBoard: unknown = undefined;
  watchKey = 0;
  /**
   * The window of this site's last synchronous call, closed within budget and kept by nothing: the
   * next synchronous call reopens it instead of allocating one. Taken while a call uses it.
   */
  private spare: Window | undefined = undefined;
  constructor(
    readonly name: string,
    readonly budgetNs: number,
    readonly onStop: OnStop | undefined,
    /** The raw budget, to reuse the parse while callers pass the same value. */
    readonly budgetInput: unknown,
    /** `{ callback: true }`: a completion callback in last position closes the window. */
    readonly callback = false,
  ) {
    super(PATH_ASYNC);
    this.stats = statsFor(name);
  }

  /**
   * Runs one call of `fn` in a new window of this site, and hands how it ended to `ended`: a
   * synchronous throw closes the window and goes on to the caller. Returns or throws exactly what
   * `fn` does. A throw leaves through `finally`, never caught and thrown again: Node's report of an
   * uncaught error then points at the line that threw it, not at this file.
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
    const kept = windowsKept.count;
    // the caller's store, which the async path restores after the call: the new window's parent
    // is found from it too, with one `getStore()` per call
    let store: Task | undefined;
    let window: Window;
    if (synchronous) window = this.open(onStop, true);
    else {
      store = taskStorage.getStore();
      const parent = openWindows.count === 0 ? undefined : liveTask(currentTaskFrom(store));
      window = this.openWithin(parent, onStop, false);
    }
    if (callback !== undefined) callback.window = window;
    let result: unknown;
    if (synchronous) {
      const previous = enterSync(window);
      // the watchdog sees a synchronous call through its board's slots, not the deadline queue
      // (the protocol is `SyncWatch`'s; written out here, where it costs no inlining budget)
      const watch = watchdogHooks.sync;
      let depth = 0;
      if (watch !== undefined) {
        if (this.watchBoard !== watch) watch.learn(this, this.name, this.budgetNs);
        const header = watch.header;
        depth = header[SYNC_DEPTH] as number;
        if (depth < SYNC_SLOTS) {
          const slots = watch.slots;
          const at = SYNC_FIELDS * depth;
          slots[at] = window.id;
          slots[at + 1] = this.watchKey;
          slots[at + 2] = window.startNs;
        }
        header[SYNC_DEPTH] = depth + 1;
        if (header[SYNC_IDLE] !== 0) watch.wake();
      }
      let returned = false;
      try {
        result =
          newTarget === undefined ? Reflect.apply(fn, thisArg, args) : Reflect.construct(fn, args, newTarget);
        returned = true;
      } finally {
        restoreSync(previous);
        if (storesToRestore.size !== 0) restoreStoreAfter(window);
        if (watch !== undefined) watch.header[SYNC_DEPTH] = depth;
        if (!returned) window.close();
      }
    } else {
      holdSettleHook(); // to recognise a promise that settles before the call returns
      const previous = enterSync(undefined);
      taskStorage.enterWith(window);
      let returned = false;
      try {
        result =
          newTarget === undefined ? Reflect.apply(fn, thisArg, args) : Reflect.construct(fn, args, newTarget);
        returned = true;
      } finally {
        taskStorage.enterWith(store as Task);
        restoreSync(previous);
        if (!returned) {
          releaseSettleHook();
          window.close();
        }
      }
    }
    try {
      if (callback === undefined) this.ended(window, fn, result, newTarget);
      else if (callback.called) window.close();
      else window.yielded();
    } catch (error) {
      // an exotic result (a Proxy whose traps throw): the call itself went fine, so it returns
      reportInternalError('observing a returned value', error);
      window.close();
    }
    if (!synchronous) {
      releaseSettleHook();
      releaseStorageWhenIdle(); // Node 22: the storage goes once no window needs it
    } else if (window.reusable && windowsKept.count === kept) {
      this.spare = window; // nothing was handed a reference to it, nor to a window within it
    }
    return result;
  }

  /** The learned path of another site of the same name (a `tlob.run` name whose budget changed). */
  learnFrom(site: CallSite): void {
    // what the function returns does not depend on the budget: thenables stay observed
    if (site.path === PATH_SYNC || site.path === PATH_THENABLE) this.path = site.path;
    this.streak = site.streak;
  }

  /**
   * Opens a window of this site whose parent is the current window; it is not bound to any context
   * yet. `synchronous`: the caller holds the thread until it closes the window (or it yields), so
   * the budget deadline need not be queued before then (a watchdog sees such a call through
   * `watchdogHooks.sync` instead), and the site's spare window is reopened if it has one. The
   * monitor must be enabled.
   */
  open(onStop: OnStop | undefined, synchronous: boolean): Window {
    return this.openWithin(
      openWindows.count === 0 ? undefined : liveTask(currentTask()),
      onStop,
      synchronous,
    );
  }

  /** `open`, given the new window's parent: the nearest live task of the current context. */
  private openWithin(parent: Task | undefined, onStop: OnStop | undefined, synchronous: boolean): Window {
    const now = nowNs();
    let window = this.spare;
    if (synchronous && window !== undefined) {
      this.spare = undefined;
      window.reopen(nextId++, now, parent, onStop);
    } else {
      // a window bound to an async context is held by its continuations, and so are its parents
      if (!synchronous) windowsKept.count++;
      window = new Window(nextId++, this, now, parent, onStop, synchronous);
    }
    openWindows.count++;
    if (channels.event.hasSubscribers) tlobMonitor.startAndHandle(window, E_START, now);
    else if (synchronous) tlobMonitor.startHeld(window, now);
    else tlobMonitor.startQueued(window, now);
    if (channels.start.hasSubscribers) publishStart(window, now);
    return window;
  }

  /**
   * Opens a window bound to the current async context like `AsyncLocalStorage.enterWith` (what
   * `tlob.start` and the start probe of a pair do). The monitor must be enabled.
   */
  start(): Window {
    const window = this.open(this.onStop, false);
    // inside a call on the synchronous path, which restores no store of its own: it restores this
    // one when it returns
    const held = currentSyncTask();
    if (held instanceof Window && held.deadlineHeld && !storesToRestore.has(held))
      storesToRestore.set(held, taskStorage.getStore());
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
