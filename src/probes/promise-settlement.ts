import {
  holdSettleHook,
  PatientWatcher,
  promisePrototype,
  releaseSettleHook,
  watchPatiently,
} from '../context/settle-watch.js';
import { nowMs, setImmediate } from '../real-timers.js';

/** Receives a promise's outcome once it is known and safe to read. */
export interface SettlementObserver {
  /** Called after the promise settled; `at` is when it settled (`nowMs()`). */
  outcome(rejected: boolean, value: unknown, at: number): void;
  /** False once the outcome is no longer needed: the promise is then not read (no reaction on it). */
  readonly wanted?: boolean;
}

/*
 * Reading a promise's value means attaching a reaction (`then`), and a reaction marks the promise
 * handled: a rejection that nobody else handles would no longer raise `unhandledRejection`.
 * So we never attach a reaction while that matters:
 *
 * 1. The core's settle watcher (`v8.promiseHooks.onSettled`, context/settle-watch.ts) tells us
 *    *that* a promise settled, without touching it. It also tells whether a returned promise had
 *    settled already (during the call, or long before: a cached promise).
 * 2. After settlement we wait for one `setImmediate`: by then Node has run its unhandled-rejection
 *    pass for that tick (`processPromiseRejections` runs after the microtask queue drains, before
 *    the event loop moves on), so the process has already done exactly what it would have done
 *    without us (crash, warn, or call the `unhandledRejection` listeners).
 * 3. Only then do we attach `then` to read the value. Reading a fulfilled promise has no side
 *    effect. Reading a rejected promise that nobody handled makes Node emit `rejectionHandled`
 *    (and, without a listener for it, a `PromiseRejectionHandledWarning`): the one observable
 *    trace, and only in a process that already had an unhandled rejection and survived it.
 */

/** Flat triples: promise, observer, settlement time. */
let ready: Array<Promise<unknown> | SettlementObserver | number> = [];
let flushScheduled = false;

function enqueue(promise: Promise<unknown>, observer: SettlementObserver, at: number): void {
  ready.push(promise, observer, at);
  if (!flushScheduled) {
    flushScheduled = true;
    // not unref'd: a program whose last work was the call still gets its `ret` before it exits
    setImmediate(flush);
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
  if (observer.wanted === false) return;
  // %Promise.prototype%.then, not promise.then: a subclass's own `then` is not ours to run; nor the
  // global `Promise`'s, which may be another implementation (bluebird) that this promise is not of
  promisePrototype.then.call(
    promise,
    (value: unknown) => observer.outcome(false, value, at),
    (error: unknown) => observer.outcome(true, error, at),
  );
}

/** Waits for one promise to settle (called inside the promise hook: only a push here). */
class PendingRead extends PatientWatcher {
  constructor(
    promise: Promise<unknown>,
    readonly observer: SettlementObserver,
  ) {
    super(promise);
  }

  protected whenSettled(now: number): void {
    enqueue(this.promise, this.observer, now / 1e6);
  }
}

/** Marks the start of an observed call whose promise result will be read (see `observeSettlement`). */
export function enterObservedCall(): void {
  holdSettleHook();
}

/** Marks the end of the synchronous part of that call. */
export function leaveObservedCall(): void {
  releaseSettleHook();
}

/**
 * Calls `observer.outcome` with the outcome of `promise`, a native promise just returned by a call
 * (made between `enterObservedCall` and `leaveObservedCall`), without marking it handled before
 * Node's unhandled-rejection pass (see the comment above). `pending`: it had not settled yet.
 */
export function observeSettlement(
  promise: Promise<unknown>,
  observer: SettlementObserver,
  pending: boolean,
): void {
  if (pending) watchPatiently(new PendingRead(promise, observer));
  else enqueue(promise, observer, nowMs());
}
