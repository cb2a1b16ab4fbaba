import { promiseHooks } from 'node:v8';

/** Receives a promise's outcome once it is known and safe to read. */
export interface SettlementObserver {
  /** Called after the promise settled; `at` is when it settled (`performance.now()`). */
  settled(rejected: boolean, value: unknown, at: number): void;
}

/*
 * Reading a promise's value means attaching a reaction (`then`), and a reaction marks the promise
 * handled: a rejection that nobody else handles would no longer raise `unhandledRejection`.
 * So we never attach a reaction while that matters:
 *
 * 1. `v8.promiseHooks.onSettled` tells us *that* a promise settled, without touching it.
 * 2. After settlement we wait for one `setImmediate`: by then Node has run its unhandled-rejection
 *    pass for that tick (`processPromiseRejections` runs after the microtask queue drains, before
 *    the event loop moves on), so the process has already done exactly what it would have done
 *    without us (crash, warn, or call the `unhandledRejection` listeners).
 * 3. Only then do we attach `then` to read the value. Reading a fulfilled promise has no side
 *    effect. Reading a rejected promise that nobody handled makes Node emit `rejectionHandled`
 *    (and, without a listener for it, a `PromiseRejectionHandledWarning`): the one observable
 *    trace, and only in a process that already had an unhandled rejection and survived it.
 *
 * A promise may settle before the call that returns it ends (`Promise.resolve(x)`, an async
 * function that throws before its first await, a cached promise); the hook sees it before we know
 * it is a result, so while the hook is on it remembers every promise that settles (a WeakSet).
 * Known limit: a promise that settled while the hook was off (before the first probe with a `ret`
 * handler was attached) and is returned later is taken for pending, and its `ret` never comes.
 */

let users = 0;
let stopHook: (() => void) | undefined;
const settled = new WeakSet<object>();
const waiting = new WeakMap<object, SettlementObserver | SettlementObserver[]>();
/** Flat triples: promise, observer, settlement time. */
let ready: Array<Promise<unknown> | SettlementObserver | number> = [];
let flushScheduled = false;

function onSettled(promise: Promise<unknown>): void {
  settled.add(promise);
  const observer = waiting.get(promise);
  if (observer !== undefined) {
    waiting.delete(promise);
    enqueue(promise, observer);
  }
}

function enqueue(promise: Promise<unknown>, observer: SettlementObserver | SettlementObserver[]): void {
  const at = performance.now();
  if (Array.isArray(observer)) for (const one of observer) ready.push(promise, one, at);
  else ready.push(promise, observer, at);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush).unref();
  }
}

function flush(): void {
  flushScheduled = false;
  const batch = ready;
  ready = [];
  for (let i = 0; i < batch.length; i += 3) {
    read(batch[i] as Promise<unknown>, batch[i + 1] as SettlementObserver, batch[i + 2] as number);
  }
}

function read(promise: Promise<unknown>, observer: SettlementObserver, at: number): void {
  // Promise.prototype.then, not promise.then: a subclass's own `then` is not ours to run.
  Promise.prototype.then.call(
    promise,
    (value: unknown) => observer.settled(false, value, at),
    (error: unknown) => observer.settled(true, error, at),
  );
}

/** Starts the settlement hook (reference counted: one per attached probe that reads results). */
export function retainSettlementHook(): void {
  if (users++ === 0) stopHook = promiseHooks.onSettled(onSettled) as () => void;
}

/** Stops the settlement hook when the last probe that needed it is detached. */
export function releaseSettlementHook(): void {
  if (users > 0 && --users === 0) {
    stopHook?.();
    stopHook = undefined;
  }
}

/**
 * Calls `observer` with the outcome of `promise`, a native promise returned by an observed call,
 * without marking it handled before Node's unhandled-rejection pass (see the comment above).
 */
export function observeSettlement(promise: Promise<unknown>, observer: SettlementObserver): void {
  if (settled.has(promise)) {
    enqueue(promise, observer);
    return;
  }
  const existing = waiting.get(promise);
  if (existing === undefined) waiting.set(promise, observer);
  else if (Array.isArray(existing)) existing.push(observer);
  else waiting.set(promise, [existing, observer]);
}
