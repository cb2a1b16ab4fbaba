import { inspect } from 'node:util';
import { promiseHooks } from 'node:v8';
import { nowNs } from '../clock.js';
import { setImmediate, setTimeout } from '../real-timers.js';
import { releaseWhenIdle } from './idle-release.js';
import { runOutside } from './outside.js';

/** Called once when a watched promise settles, synchronously at the moment it settles. */
export interface SettleWatcher {
  settled(now: number): void;
  /** Set by `watchSettled` to the promise watched, when the watcher has this field. */
  watchedPromise?: Promise<unknown> | undefined;
}

/**
 * Observes when native promises settle WITHOUT attaching a reaction to them: a `.then` would mark
 * the promise handled, and a rejection nobody handles would no longer raise `unhandledRejection`.
 * `v8.promiseHooks.onSettled` sees every settlement of the process while it is registered, so it is
 * registered only while something is watched or a monitored call that may return a promise runs
 * (`holdSettleHook`), and the callback is a scan of a few slots (and a WeakMap lookup
 * when more promises are watched).
 *
 * It also remembers the last promise that settled, so that a call that returns an
 * already-settled promise (an `async function` that finished without awaiting) is recognised:
 * `settledJustNow(p)` right after the call returns.
 */
const watched = new WeakMap<Promise<unknown>, Watchers | AbandonedEntry>();
type Watchers = SettleWatcher | SettleWatcher[];
/**
 * The promises of a few open windows are kept here instead, found by identity: a `WeakMap` entry per
 * call and a `WeakMap` lookup per settled promise of the process cost more than a scan of a few
 * slots. A slot holds its promise strongly, which is safe only for a watcher that gives it up when
 * it stops waiting (a window: at its deadline, `releaseWhenCollected` moves the promise to the map).
 */
const SLOTS = 16;
const slotPromises: (Promise<unknown> | undefined)[] = new Array(SLOTS).fill(undefined);
const slotWatchers: (Watchers | undefined)[] = new Array(SLOTS).fill(undefined);
let slotsUsed = 0;
/** One past the highest slot in use: a settlement scans only that far. */
let slotsEnd = 0;
/** Promises in the `WeakMap`, so that a settlement looks there only when it can find something. */
let mapped = 0;

/** Whether any promise is watched (in a slot or in the map). */
function watching(): boolean {
  return slotsUsed > 0 || mapped > 0;
}

function slotOf(promise: Promise<unknown>): number {
  for (let i = 0; i < slotsEnd; i++) if (slotPromises[i] === promise) return i;
  return -1;
}

function clearSlot(i: number): void {
  slotPromises[i] = undefined;
  slotWatchers[i] = undefined;
  slotsUsed--;
  while (slotsEnd > 0 && slotPromises[slotsEnd - 1] === undefined) slotsEnd--;
}

/** Takes `promise`'s watchers out of the slots or the map; undefined when it is not watched. */
function takeWatchers(promise: Promise<unknown>): Watchers | undefined {
  const i = slotOf(promise);
  if (i >= 0) {
    const watcher = slotWatchers[i];
    clearSlot(i);
    return watcher;
  }
  if (mapped === 0) return undefined;
  const entry = watched.get(promise);
  if (entry === undefined) return undefined;
  watched.delete(promise);
  mapped--;
  return entry instanceof AbandonedEntry ? entry.settle() : entry;
}

let holds = 0;
let unregister: (() => void) | undefined;
let lastSettled: Promise<unknown> | undefined;

/**
 * Runs for every promise of the process that settles while registered: most are not watched. The
 * last one is remembered only while a call holds the hook (`settledJustNow` is asked then): a
 * promise, new, stored in a module variable, which is old, costs the collector's write barrier a
 * slot to remember, ~20 ns per promise on Node 22 (two settle per await).
 */
function onSettled(promise: Promise<unknown>): void {
  if (holds > 0) lastSettled = promise;
  // the common case inline: a few slots, none of them this promise, nothing in the map
  let i = 0;
  while (i < slotsEnd && slotPromises[i] !== promise) i++;
  if (i === slotsEnd && mapped === 0) return;
  const watcher = takeWatchers(promise);
  if (watcher === undefined) return;
  const now = nowNs();
  if (Array.isArray(watcher)) for (const w of watcher) w.settled(now);
  else watcher.settled(now);
  if (!watching() && holds === 0) stopHook();
}

function startHook(): void {
  unregister ??= promiseHooks.onSettled(onSettled) as () => void;
}

const stopHook = releaseWhenIdle(
  () => watching() || holds > 0,
  () => {
    unregister?.();
    unregister = undefined;
    lastSettled = undefined;
  },
);

/** Keeps the settle hook registered around a call that may return a promise. */
export function holdSettleHook(): void {
  if (holds++ === 0) startHook();
}

export function releaseSettleHook(): void {
  if (holds > 0 && --holds === 0 && !watching()) stopHook();
}

/** Unregisters the settle hook now if nothing holds it or is watched (see `releaseUnheldHooksNow`). */
export function releaseUnheldSettleHookNow(): void {
  stopHook.now();
}

/** True when `promise` is the last promise that settled while the hook was held. */
export function settledJustNow(promise: Promise<unknown>): boolean {
  return lastSettled === promise;
}

/** Calls `watcher.settled(now)` when `promise` settles. The promise must still be pending. */
export function watchSettled(promise: Promise<unknown>, watcher: SettleWatcher): void {
  const releases = 'watchedPromise' in watcher;
  if (releases) watcher.watchedPromise = promise;
  const i = slotOf(promise);
  if (i >= 0) {
    slotWatchers[i] = withWatcher(slotWatchers[i] as Watchers, watcher);
  } else if (mapped > 0 && watched.has(promise)) {
    const entry = watched.get(promise) as Watchers | AbandonedEntry;
    if (entry instanceof AbandonedEntry) entry.watchers = withWatcher(entry.watchers, watcher);
    else watched.set(promise, withWatcher(entry, watcher));
  } else if (releases && slotsUsed < SLOTS) {
    const free = slotPromises.indexOf(undefined);
    slotPromises[free] = promise;
    slotWatchers[free] = watcher;
    slotsUsed++;
    if (free >= slotsEnd) slotsEnd = free + 1;
  } else {
    watched.set(promise, watcher);
    mapped++;
  }
  startHook();
}

/** `existing` with `watcher` added (an array once there are two). */
function withWatcher(existing: Watchers, watcher: SettleWatcher): Watchers {
  if (!Array.isArray(existing)) return [existing, watcher];
  existing.push(watcher);
  return existing;
}

/**
 * %Promise.prototype%, taken from a promise an `async function` made: a global `Promise` replaced
 * before tlob loaded (bluebird, a core-js polyfill, zone.js) does not change it, and nothing can
 * change the prototype such promises get.
 */
export const promisePrototype: Promise<unknown> = Object.getPrototypeOf((async () => {})());

/**
 * Whether `value` is a native promise of this realm (or of a subclass), whatever the global
 * `Promise` is now: only those settle through the engine, and so through the settle hook. A
 * replaced global's promises are thenables.
 */
export function isNativePromise(value: unknown): value is Promise<unknown> {
  return value instanceof NativePromise;
}

/**
 * `instanceof` against a function whose `prototype` is %Promise.prototype%: the walk of `value`'s
 * prototype chain that `instanceof Promise` does, with no `constructor` property read, which a
 * replacement could have changed.
 */
function NativePromise(): void {}
NativePromise.prototype = promisePrototype;

const AsyncFunction = (async () => {}).constructor;
const AsyncGeneratorFunction = async function* () {}.constructor;

/** Whether `fn` is an `async function` (or async generator function): its promise is always new. */
export function isAsyncFunction(fn: Function): boolean {
  const c = fn.constructor;
  return c === AsyncFunction || c === AsyncGeneratorFunction;
}

/**
 * Whether `promise`, just returned by `fn` while the settle hook was held, is still pending. An
 * `async function`'s promise is new: unless it settled during the call, it is pending. Any other
 * function may return an older promise, settled or not, whose state is read (`isPending`).
 */
export function returnedPending(promise: Promise<unknown>, fn: Function): boolean {
  return !settledJustNow(promise) && (isAsyncFunction(fn) || isPending(promise));
}

const PENDING = /^[^{]*\{\s*<pending>/;
const REJECTED = /^[^{]*\{\s*<rejected>/;
const inspectOptions = { depth: 0, customInspect: false, showProxy: false, getters: false } as const;

/**
 * Whether a native promise is still pending, for a promise that did not settle during the call
 * that returned it: a function that is not an `async function` may return a promise made earlier
 * (a cached one), settled or not. V8 exposes a promise's state only through `util.inspect`
 * (~0.7 µs), so this is the slow path, taken only for such functions' promises.
 */
export function isPending(promise: Promise<unknown>): boolean {
  // `Promise { <pending> }`, `Sub [Promise] { <pending> }`; on Node 22 own symbol properties
  // (async ids, AsyncLocalStorage stores) follow the state.
  return PENDING.test(inspect(promise, inspectOptions));
}

/** Whether a native promise has rejected (read as `isPending` reads its state: the slow path). */
export function isRejected(promise: Promise<unknown>): boolean {
  return REJECTED.test(inspect(promise, inspectOptions));
}

/** Stops watching `promise` for `watcher` (a promise that turned out to have settled before it was watched). */
export function unwatchSettled(promise: Promise<unknown>, watcher: SettleWatcher): void {
  const i = slotOf(promise);
  const value = i >= 0 ? slotWatchers[i] : watched.get(promise);
  if (value === undefined) return;
  const existing = value instanceof AbandonedEntry ? value.watchers : value;
  let left: Watchers | undefined;
  if (Array.isArray(existing)) {
    const rest = existing.filter((w) => w !== watcher);
    if (rest.length > 0) left = rest.length === 1 ? (rest[0] as SettleWatcher) : rest;
  } else if (existing !== watcher) return;
  if (left !== undefined) {
    if (i >= 0) slotWatchers[i] = left;
    else if (value instanceof AbandonedEntry) value.watchers = left;
    else watched.set(promise, left);
    return;
  }
  takeWatchers(promise);
  if (!watching() && holds === 0) stopHook();
}

/*
 * A watcher that waits for its promise's outcome however long it takes (a `PatientWatcher`, as the
 * read of a probed call's result) would keep a promise that never settles watched for good, and
 * the settle hook registered: every promise of the process would pay it. So such a promise is held
 * for 1–2 s at most, then given up on (`releaseWhenCollected`): still watched, but held weakly, it
 * stops counting once collected unsettled, as an expired window's promise. Until then its watcher
 * is in a list it leaves when the promise settles, and a timer that runs only while the list is
 * not empty gives up, every second, on the watchers that were already there at its last run.
 */

/** The patient watchers whose promises are still held, newest first; `generation` counts the timer's runs. */
let heldPatients: PatientWatcher | undefined;
let generation = 0;
let timerArmed = false;
const HOLD_MS = 1000;

/** A watcher of one promise that waits for its outcome however long it takes (see above); watched with `watchPatiently`. */
export abstract class PatientWatcher implements SettleWatcher {
  /** Neighbours in the list of watchers whose promises are still held (`heldPatients`), while this one is in it. */
  prev: PatientWatcher | undefined = undefined;
  next: PatientWatcher | undefined = undefined;
  /** The value of `generation` when the watch began. */
  readonly generation = generation;
  constructor(readonly promise: Promise<unknown>) {}

  settled(now: number): void {
    if (this.prev !== undefined || heldPatients === this) unhold(this);
    this.whenSettled(now);
  }

  /** The promise settled at `now` (inside the promise hook: keep it short). */
  protected abstract whenSettled(now: number): void;
}

/** Calls `watcher`'s `whenSettled` when its promise (still pending) settles, holding the promise for 1–2 s at most. */
export function watchPatiently(watcher: PatientWatcher): void {
  watchSettled(watcher.promise, watcher);
  watcher.next = heldPatients;
  if (heldPatients !== undefined) heldPatients.prev = watcher;
  heldPatients = watcher;
  if (!timerArmed) armGiveUpTimer();
}

function unhold(watcher: PatientWatcher): void {
  const { prev, next } = watcher;
  if (prev !== undefined) prev.next = next;
  else heldPatients = next;
  if (next !== undefined) next.prev = prev;
  watcher.prev = watcher.next = undefined;
}

function armGiveUpTimer(): void {
  timerArmed = true;
  runOutside(setTimeout, giveUpOnOld, HOLD_MS).unref();
}

function giveUpOnOld(): void {
  timerArmed = false;
  const current = generation++;
  for (let watcher = heldPatients; watcher !== undefined; ) {
    const next = watcher.next;
    if (watcher.generation < current) {
      unhold(watcher);
      releaseWhenCollected(watcher.promise);
    }
    watcher = next;
  }
  if (heldPatients !== undefined) armGiveUpTimer();
}

/**
 * A watched promise that never settles would keep the settle hook registered for good. Once its
 * watcher has given up waiting (its window expired), the promise is tracked for garbage
 * collection: if it is collected unsettled, it stops counting.
 *
 * Its entry in `watched` becomes an `AbandonedEntry`, and the entries given up on together (in one
 * loop turn) are tracked as one batch: each entry points to the batch's object, which thus lives as
 * long as any of their promises does (an entry is reached only through its promise, the key of a
 * `WeakMap`), and the object alone is registered with the `FinalizationRegistry`. When it is
 * collected, every promise of the batch was, and those that had not settled (`left.count`) stop
 * counting. A promise pays one small object, and no `WeakMap` entry beyond the one it has, instead
 * of a registry cell with itself as the unregister token (~160 B, and 0.2–0.6 µs to unregister
 * when it settles); what survives per window at scale is what the collections that delay expiries
 * have to copy. The cost: a batch's promises stop counting only once the last of them is
 * collected, which delays the hook's release, never a settlement seen.
 */
interface AbandonedBatch {
  /** The registry's holdings: they must not reach the batch, or it would never be collected. */
  readonly left: { count: number };
}

/** The `batch` of an entry whose promise settled before the loop's next check phase: it joins none. */
const SETTLED: AbandonedBatch = { left: { count: 0 } };

/** The value of a given-up promise in `watched`: its watchers, and the batch that tracks it. */
class AbandonedEntry {
  /** Unset until the loop's next check phase tracks it (`registerAbandoned`); `SETTLED` if it settled first. */
  batch: AbandonedBatch | undefined = undefined;
  constructor(public watchers: Watchers) {}

  /** The promise settled: it stops counting (now, or by not joining a batch). Returns its watchers. */
  settle(): Watchers {
    if (this.batch === undefined) this.batch = SETTLED;
    else this.batch.left.count--;
    return this.watchers;
  }
}

const abandoned = new FinalizationRegistry<{ count: number }>((left) => {
  mapped -= left.count;
  if (!watching() && holds === 0) stopHook();
});
/**
 * Entries given up on since the last batch, tracked in the loop's next check phase: windows
 * expire in bursts (one timer serves every deadline that came due), and each expiry that
 * tracked its promise itself would delay the report of every expiry after it in the burst.
 */
const toRegister: (AbandonedEntry | undefined)[] = [];
/** Batches up to this size keep their array for the next one. */
const KEEP_BATCH = 4096;
let toRegisterCount = 0;

/**
 * Tracks the entries given up on since the last batch as one batch. Its array is kept and its
 * slots emptied (it must not hold the entries, which reach the promises), so that a steady stream
 * of expiries allocates no new batch array; an index loop, because this runs once per batch, too
 * rarely to be optimised, and a `for…of` would then allocate an iterator result per entry.
 */
function registerAbandoned(): void {
  const count = toRegisterCount;
  toRegisterCount = 0;
  let batch: AbandonedBatch | undefined;
  for (let i = 0; i < count; i++) {
    const entry = toRegister[i] as AbandonedEntry;
    toRegister[i] = undefined;
    if (entry.batch === SETTLED) continue; // settled meanwhile
    if (batch === undefined) {
      batch = { left: { count: 0 } };
      abandoned.register(batch, batch.left);
    }
    entry.batch = batch;
    batch.left.count++;
  }
  if (count > KEEP_BATCH) toRegister.length = 0; // a rare big burst does not pin its array
}

/** A watcher stopped waiting for `promise`: nothing holds it for us any more, and it stops counting once collected unsettled. */
export function releaseWhenCollected(promise: Promise<unknown>): void {
  let watchers: Watchers | undefined;
  const i = slotOf(promise);
  if (i >= 0) {
    // a slot holds its promise strongly: the entry moves to the map, which does not
    watchers = slotWatchers[i] as Watchers;
    clearSlot(i);
  } else {
    const value = mapped > 0 ? watched.get(promise) : undefined;
    // settled already, or given up on already (another of its watchers gave up on it before)
    if (value === undefined || value instanceof AbandonedEntry) return;
    watchers = value;
    mapped--;
  }
  const entry = new AbandonedEntry(watchers);
  watched.set(promise, entry);
  mapped++;
  toRegister[toRegisterCount] = entry;
  if (toRegisterCount++ === 0) runOutside(setImmediate, registerAbandoned).unref();
}

/** Whether the settle hook is registered now (for tests and diagnostics). */
export function settleHookRegistered(): boolean {
  return unregister !== undefined;
}
