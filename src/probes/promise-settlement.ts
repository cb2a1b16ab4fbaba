import { runOutside } from '../context/outside.js';
import {
  holdSettleHook,
  releaseSettleHook,
  releaseWhenCollected,
  type SettleWatcher,
  watchSettled,
} from '../context/settle-watch.js';

/** Receives a promise's outcome once it is known and safe to read. */
interface SettlementObserver {
  /** Called after the promise settled; `at` is when it settled (`performance.now()`). */
  outcome(rejected: boolean, value: unknown, at: number): void;
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
    (value: unknown) => observer.outcome(false, value, at),
    (error: unknown) => observer.outcome(true, error, at),
  );
}

/*
 * Nothing of ours may keep a promise that never settles counted for good: the settle hook would
 * stay registered, and every promise of the process would pay it. A read still pending after
 * 1–2 s is given up on: still watched, but held weakly, it stops counting once collected unsettled
 * (as an expired window's promise). Until then the read is in a list it leaves when its promise
 * settles, and a timer that runs only while the list is not empty gives up, every second, on the
 * reads that were already there at its last run.
 */

/** The reads still held, newest first; `generation` counts the timer's runs. */
let held: PendingRead | undefined;
let generation = 0;
let timerArmed = false;
const HOLD_MS = 1000;

/** Waits for one promise to settle (called inside the promise hook: only a push here). */
class PendingRead implements SettleWatcher {
  /** Neighbours in the list of reads still held (`held`), while this one is in it. */
  prev: PendingRead | undefined = undefined;
  next: PendingRead | undefined = undefined;
  /** The value of `generation` when the read began. */
  generation = generation;
  held = true;
  constructor(
    readonly promise: Promise<unknown>,
    readonly observer: SettlementObserver,
  ) {}

  settled(now: number): void {
    if (this.held) unhold(this);
    enqueue(this.promise, this.observer, now / 1e6);
  }
}

function hold(read: PendingRead): void {
  read.next = held;
  if (held !== undefined) held.prev = read;
  held = read;
  if (!timerArmed) armTimer();
}

function unhold(read: PendingRead): void {
  read.held = false;
  const { prev, next } = read;
  if (prev !== undefined) prev.next = next;
  else held = next;
  if (next !== undefined) next.prev = prev;
  read.prev = read.next = undefined;
}

function armTimer(): void {
  timerArmed = true;
  runOutside(setTimeout, giveUpOnOld, HOLD_MS).unref();
}

function giveUpOnOld(): void {
  timerArmed = false;
  const current = generation++;
  for (let read = held; read !== undefined; ) {
    const next = read.next;
    if (read.generation < current) {
      unhold(read);
      releaseWhenCollected(read.promise);
    }
    read = next;
  }
  if (held !== undefined) armTimer();
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
  if (pending) {
    const read = new PendingRead(promise, observer);
    watchSettled(promise, read);
    hold(read);
  } else enqueue(promise, observer, performance.now());
}
