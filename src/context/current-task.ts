import { AsyncLocalStorage } from 'node:async_hooks';
import type { Task } from './task.js';

/**
 * The innermost open task of the current async context. AsyncLocalStorage carries it across
 * awaits, timers, callbacks and `AsyncResource`s; `syncTask` is the fast path for a call that
 * has not (yet) created a continuation: while it runs synchronously it is the current task
 * without paying for `AsyncLocalStorage.run` (~220 ns on Node 24 and 26).
 */
export const taskStorage = new AsyncLocalStorage<Task>();

let syncTask: Task | undefined;

/**
 * Where Node 22's AsyncLocalStorage (the one before AsyncContextFrame) keeps a store: on each async
 * resource, under a symbol of the storage's own (`kResourceStore`), which `getStore()` reads from
 * `executionAsyncResource()` while the storage is enabled. The scheduler hooks, which need the
 * resource anyway, read the store from it (`storeOf`): `getStore()` costs ~35 ns more per
 * continuation there. Undefined where the storage has no such symbol (AsyncContextFrame: Node 24
 * and 26, or Node 22 under `--experimental-async-context-frame`); `getStore()` is used there.
 */
export const resourceStore: symbol | undefined = (() => {
  const key = (taskStorage as unknown as { kResourceStore?: unknown }).kResourceStore;
  return typeof key === 'symbol' && 'enabled' in taskStorage ? key : undefined;
})();

const storage = taskStorage as unknown as { readonly enabled: boolean };

/** What `taskStorage.getStore()` returns in the continuation running on `resource` (only with `resourceStore`). */
export function storeOf(resource: object): Task | undefined {
  return storage.enabled
    ? ((resource as Record<symbol, unknown>)[resourceStore as symbol] as Task | undefined)
    : undefined;
}

/** The innermost task current on the thread, or undefined. */
export function currentTask(): Task | undefined {
  return syncTask ?? taskStorage.getStore();
}

/** `currentTask()`, for a caller that has read the storage's store already (`store`). */
export function currentTaskFrom(store: Task | undefined): Task | undefined {
  return syncTask ?? store;
}

/** Sets the synchronous current task; returns the previous one, to be restored by `restoreSync`. */
export function enterSync(task: Task | undefined): Task | undefined {
  const previous = syncTask;
  syncTask = task;
  return previous;
}

export function restoreSync(previous: Task | undefined): void {
  syncTask = previous;
}

/** The task of the synchronous call running now, if any (see `syncTask`). */
export function currentSyncTask(): Task | undefined {
  return syncTask;
}

/** The synchronous current task if `task` is it (used by `stop` to unbind a window). */
export function isSyncTask(task: Task): boolean {
  return syncTask === task;
}

/** Nearest task at or above `task` that is still live. */
export function liveTask(task: Task | undefined): Task | undefined {
  while (task !== undefined && !task.live) task = task.parent;
  return task;
}
