import { AsyncResource, createHook, executionAsyncResource } from 'node:async_hooks';
import { promiseHooks } from 'node:v8';
import { nowNs } from '../clock.js';
import { queueMicrotask } from '../real-timers.js';
import { liveTask, resourceStore, storeOf, taskStorage } from './current-task.js';
import { releaseWhenIdle } from './idle-release.js';
import { outside, runOutside } from './outside.js';
import {
  callbackReadyNs,
  followsOwn,
  isTick,
  marks,
  noteForeignStart,
  noteTopLevelStart,
  noteYield,
  reactionReadyNs,
  resetMarks,
} from './readiness.js';
import { isNativePromise } from './settle-watch.js';
import type { Task } from './task.js';
import { calibrateTimerClock, timerDueNs } from './timer-due.js';

/**
 * The event loop as the scheduler. `async_hooks` `before`/`after` fire around every continuation
 * (promise reactions, timers, I/O and other callbacks); the task carried by AsyncLocalStorage into
 * that continuation is switched onto the thread in `before` and off it in `after`. Only `before`
 * and `after` are hooked: an `init` or `destroy` hook would cost every async operation of the
 * process about 0.8 µs. The hook is enabled only while at least one task that can have
 * continuations is open, so a process with no window in flight pays nothing.
 *
 * A nested continuation (an `AsyncResource.runInAsyncScope` inside another continuation: a
 * callback bound with `AsyncResource.bind`, an `EventEmitterAsyncResource`'s listener, a stream's
 * `finished` callback) of the task already on the thread changes nothing; one of another task
 * switches that task in for its length, the one it interrupted waiting meanwhile (see `nested`).
 */
let depth = 0;

/**
 * Per nested continuation running now (outermost first), the task it switched onto the thread and
 * the one it took the thread from, with when; undefined for one that switched nothing.
 */
const nested: ({ task: Task; from: Task | undefined; at: number } | undefined)[] = [];

/**
 * The symbol under which an `AsyncResource` keeps the context it runs its callbacks in (an
 * `AsyncContextFrame`: a `Map` from each storage to its store), where AsyncContextFrame is used.
 * `runInAsyncScope` emits `before` before it enters that context, and `after` once it left it, so
 * the hooks read the store from it (`scopeStore`).
 */
const contextFrame = Object.getOwnPropertySymbols(
  new AsyncResource('tlob', { requireManualDestroy: true }),
).find((s) => s.description === 'context_frame');

/**
 * The live task the current top-level continuation started with (undefined: none), so that its end
 * need not read the store again; null when not known (the hooks were enabled during the
 * continuation, or a window was bound to the context with `enterWith` since it started). Any other
 * change of the store within a continuation is undone before it ends (`CallSite.invoke` restores the
 * caller's), or leaves a task of that chain current (a window closing unbinds itself to its parent).
 */
let running: Task | undefined | null = null;

/**
 * The task last bound with `enterWith` in the synchronous run going on (`ensureSwitchOut`), read
 * only while `running` is null, which only that binding makes it inside a continuation: where the
 * storage reads a store from the running resource (Node 22), a nested continuation's `before` no
 * longer sees the enclosing context, so it is kept here. Let go with the run's tasks.
 */
let bound: Task | undefined;

/**
 * Whether `createHook` can leave promises out (`trackPromises: false`, Node 24 and 26; Node checks
 * the option's type, which tells whether it knows it). Promise reactions are then hooked through
 * `v8.promiseHooks` directly, which hands over the promise and skips what `async_hooks` does for
 * every reaction: an async id stored on each promise, the resource stack, the hook dispatch loop
 * and `executionAsyncResource()`. Elsewhere (Node 22) the one hook sees every continuation.
 */
function promisesApart(): boolean {
  try {
    createHook({ trackPromises: 0 } as never);
    return false;
  } catch {
    return true;
  }
}

/** Promise reactions come through `promiseBefore`, never through `before` (Node 24 and 26). */
const apart = promisesApart();

/**
 * While the watchdog is on, a word of its board that counts the callbacks the event loop starts
 * (its macrotasks; see `startedByLoop`) as they start: it tells a thread that is busy, moving from
 * callback to callback, from one that is blocked (see the watchdog's `I_PROGRESS`). Undefined
 * otherwise: one read per continuation.
 */
export const macrotasks: { counter: Int32Array | undefined } = { counter: undefined };

/**
 * Whether a callback on `resource` is one the event loop started (a timer's, an immediate's, I/O's),
 * not one that JavaScript ran: a promise reaction, a `process.nextTick` callback, `queueMicrotask`'s
 * or any other `AsyncResource`'s `runInAsyncScope`. A chain of those never lets the loop turn.
 */
function startedByLoop(resource: object): boolean {
  return !isNativePromise(resource) && !isTick(resource) && !(resource instanceof AsyncResource);
}

/**
 * A continuation starts. `promise`: the promise whose reaction it is, when the caller knows it;
 * otherwise the resource is read from `executionAsyncResource()`: first, where the store is read
 * from it (`resourceStore`, Node 22), else only for a task's continuation, and it is a promise
 * reaction only where `before` sees them (Node 22).
 */
function switchIn(promise: Promise<unknown> | undefined): void {
  if (outside.depth > 0) return;
  if (++depth > 1) {
    switchInNested(promise);
    return;
  }
  let resource: object | undefined = promise;
  let store: Task | undefined;
  if (resourceStore === undefined) store = taskStorage.getStore();
  else {
    resource = promise ?? executionAsyncResource();
    store = storeOf(resource);
  }
  const counter = macrotasks.counter;
  if (counter !== undefined && promise === undefined) {
    resource ??= executionAsyncResource();
    if (startedByLoop(resource)) counter[0] = (counter[0] as number) + 1;
  }
  // a stopped window stays in the context of what its call left behind (a response's write
  // callbacks, say): only a live task is worth a clock read
  const task = liveTask(store);
  running = task;
  if (task === undefined) {
    // a promise reaction almost never comes right after an idle wait (it runs in the checkpoint
    // of the macrotask that settled its promise; one settled by a V8 platform task, such as
    // `Atomics.waitAsync`'s, is the exception): only other callbacks read the loop's idle
    // counter. Where `before` sees reactions too (Node 22), the resource read above tells them
    // apart (a promise of another realm is read as a callback). A reaction runs in the checkpoint
    // of the macrotask whose start `marks` hold: it leaves the readiness of the reactions after it
    // as it is, but another task's continuation no longer follows its own last one.
    if (promise !== undefined || isNativePromise(resource)) marks.lastOut = undefined;
    else if (store !== undefined && expiredCall(store)) noteExpiredStart();
    else noteForeignStart();
    return;
  }
  const now = nowNs();
  if (followsOwn(task, now)) {
    // back-to-back continuations of one task (a loop of awaits): no waiting between them
    for (let t: Task | undefined = task; t !== undefined; t = liveTask(t.parent)) t.resume(now);
    if (promise === undefined && (apart || !isNativePromise(resource ?? executionAsyncResource())))
      marks.lastStartNs = now;
    return;
  }
  noteTopLevelStart(now);
  resource ??= executionAsyncResource();
  const reaction = promise !== undefined || (!apart && isNativePromise(resource));
  let ready = -1; // when the continuation became runnable: only a sleeping task needs it
  for (let t: Task | undefined = task; t !== undefined; t = liveTask(t.parent)) {
    if (ready < 0 && t.sleeping) ready = reaction ? reactionReadyNs() : callbackReadyNs(resource, now);
    t.switchIn(now, ready < 0 ? now : ready);
  }
  // a promise reaction runs in the checkpoint of the macrotask that settled its promise: only
  // a macrotask's start is a readiness for the reactions after it
  if (!reaction) marks.lastStartNs = now;
  marks.foreignRan = false;
  marks.foreignReadIdle = false;
}

/**
 * The task on the thread as a nested continuation starts: that of the innermost nested continuation
 * that switched one in, else the outermost's, or, when that is not known (a window bound with
 * `enterWith` since it started), the enclosing context's: on Node 24 and 26 a nested `before` still
 * runs in it; on Node 22 the task bound last.
 */
function onThread(): Task | undefined {
  for (let i = nested.length - 1; i >= 0; i--) {
    const entry = nested[i];
    if (entry !== undefined) return liveTask(entry.task);
  }
  if (running !== null) return liveTask(running);
  return liveTask(resourceStore === undefined ? taskStorage.getStore() : bound);
}

/** The store of the context `resource`, an `AsyncResource`, runs its callback in. */
function scopeStore(resource: AsyncResource): Task | undefined {
  // a Map, but of Node's own primordials: not `instanceof Map`
  const frame = (resource as unknown as Record<symbol, { get?: unknown } | undefined>)[
    contextFrame as symbol
  ];
  return typeof frame?.get === 'function' ? (frame.get(taskStorage) as Task | undefined) : undefined;
}

/** Whether `task` is `of` or one of its live parents. */
function within(task: Task, of: Task | undefined): boolean {
  for (let t = of; t !== undefined; t = liveTask(t.parent)) if (t === task) return true;
  return false;
}

/**
 * A continuation starts inside another (`runInAsyncScope`). If it belongs to a live task other
 * than the one on the thread, that task's chain (but what the new one's shares) leaves the thread
 * and the new one's comes on; `after` undoes it when the nested continuation ends.
 */
function switchInNested(promise: Promise<unknown> | undefined): void {
  let store: Task | undefined;
  let resource: object | undefined = promise;
  if (resourceStore !== undefined) {
    resource = promise ?? executionAsyncResource();
    store = storeOf(resource);
  } else if (promise === undefined) {
    resource = executionAsyncResource();
    store = resource instanceof AsyncResource ? scopeStore(resource) : taskStorage.getStore();
  } else store = taskStorage.getStore();
  const task = liveTask(store);
  const from = onThread();
  if (task === undefined || task === from) {
    nested.push(undefined);
    return;
  }
  const now = nowNs();
  for (let t = from; t !== undefined; t = liveTask(t.parent)) if (!within(t, task)) t.switchOut(now);
  const reaction = promise !== undefined || isNativePromise(resource);
  let ready = -1;
  for (let t: Task | undefined = task; t !== undefined; t = liveTask(t.parent)) {
    if (ready < 0 && t.sleeping) ready = reaction ? reactionReadyNs() : callbackReadyNs(resource, now);
    t.switchIn(now, ready < 0 ? now : ready);
  }
  nested.push({ task, from, at: now });
}

/**
 * A nested continuation ends: the task it switched in leaves the thread, and the one it took the
 * thread from comes back, ready since then (it waited while the nested one ran).
 */
function switchOutNested(): void {
  const entry = nested.pop();
  if (entry === undefined) return;
  const { task, from, at } = entry;
  const now = nowNs();
  for (let t = liveTask(task); t !== undefined; t = liveTask(t.parent))
    if (!within(t, from)) t.switchOut(now);
  for (let t = liveTask(from); t !== undefined; t = liveTask(t.parent))
    if (!within(t, task)) t.switchIn(now, at);
}

/** Whether `store` or a task above it broke its budget while its call goes on. */
function expiredCall(store: Task): boolean {
  for (let t: Task | undefined = store; t !== undefined; t = t.parent) if (t.expired) return true;
  return false;
}

/**
 * A macrotask of a call that broke its budget starts (a timer or I/O callback of its own): it is
 * not accounted, but its start is read as a task's would be, so that a promise it settles (another
 * window awaits it) is ready from that start, not from the start of the busy period as behind a
 * callback of no task. Another task's continuation after it does not follow its own last one.
 */
function noteExpiredStart(): void {
  const now = nowNs();
  noteTopLevelStart(now);
  marks.lastStartNs = now;
  marks.foreignRan = false;
  // its end is not noted (`after` sees no task): the counter read here dates a later idle wait
  marks.foreignReadIdle = true;
  marks.lastOut = undefined;
}

function before(): void {
  switchIn(undefined);
}

function promiseBefore(promise: Promise<unknown>): void {
  switchIn(promise);
}

function after(): void {
  if (outside.depth > 0) return;
  if (depth > 1) {
    depth--;
    switchOutNested();
    return;
  }
  depth = 0;
  if (nested.length !== 0) nested.length = 0; // defensive: a nested `after` that never came
  const started = running;
  running = null;
  const task = liveTask(started === null ? taskStorage.getStore() : started);
  if (task === undefined) return;
  const now = nowNs();
  marks.lastEndNs = now;
  marks.lastOut = task;
  for (let t: Task | undefined = task; t !== undefined; t = liveTask(t.parent)) t.switchOut(now);
}

/** The hooks of every continuation, enabled and disabled together. */
const hooks = apart ? createPromiseApartHooks() : createHook({ before, after });

function createPromiseApartHooks(): { enable(): void; disable(): void } {
  const hook = createHook({ before, after, trackPromises: false } as Parameters<typeof createHook>[0]);
  let stopBefore: (() => void) | undefined;
  let stopAfter: (() => void) | undefined;
  return {
    enable() {
      hook.enable();
      stopBefore = promiseHooks.onBefore(promiseBefore) as () => void;
      stopAfter = promiseHooks.onAfter(after) as () => void;
    },
    disable() {
      hook.disable();
      stopBefore?.();
      stopAfter?.();
      stopBefore = stopAfter = undefined;
    },
  };
}
// At load rather than at first use, so that the (at most ~1 ms) measurement is never charged to a window.
calibrateTimerClock();
let holders = 0;
let enabled = false;
/**
 * Node 22's AsyncLocalStorage (before AsyncContextFrame, which 24 and 26 use) installs an init hook
 * once it has held a store, taxing every await of the process by ~115 ns. With no window left that
 * needs it, the storage is disabled, which removes that hook (stopped windows left as stores do
 * nothing anyway); the next `run` or `enterWith` enables it again.
 */
const storageTaxesAwaits = Number(process.versions.node.split('.')[0]) < 24;

/**
 * Tasks that let the hooks go but may still be current: an expired window whose call goes on
 * (`tlob.current()` returns it until it closes). Node 22's storage stays on for them.
 */
let storageKeepers = 0;

const disableWhenIdle = releaseWhenIdle(
  () => holders > 0,
  () => {
    if (enabled) hooks.disable();
    enabled = false;
    if (storageTaxesAwaits && storageKeepers === 0) taskStorage.disable();
  },
);

/**
 * Turns the scheduler hooks (and Node 22's storage) off now if no task holds them, rather than in
 * the next check phase: for tlob's own first run at load, which no await of the program should pay for.
 */
export function releaseUnheldHooksNow(): void {
  disableWhenIdle.now();
}

/**
 * The due time (ns) of the timer whose callback is the continuation that runs now, or -Infinity
 * when it is not a timer's callback (a promise reaction, an immediate, an I/O callback). Read only
 * by a window that keeps timers one of which is due: only that timer's callback, or that of one due
 * after it, tells that it ran.
 */
export function runningTimerDueNs(): number {
  const due = timerDueNs(executionAsyncResource());
  return Number.isNaN(due) ? Number.NEGATIVE_INFINITY : due;
}

/** After a call that used the storage but left no continuation: lets Node 22's storage go when idle. */
export function releaseStorageWhenIdle(): void {
  if (storageTaxesAwaits && holders === 0) disableWhenIdle();
}

/** Tasks bound outside any continuation during the current synchronous run. */
let unswitched: Task[] = [];

function switchOutUnswitched(): void {
  const tasks = unswitched;
  unswitched = [];
  bound = undefined;
  const now = nowNs();
  noteYield(now);
  for (const task of tasks) if (task.live) task.switchOut(now);
}

/**
 * Makes sure `task`, just bound to the current context with `enterWith`, is switched off the
 * thread when the current synchronous run ends. The hook's `after` cannot be relied on for that:
 * at the top level of a script there is none, and inside a call's synchronous part the `after`
 * that comes belongs to the caller's context, not to the one the task was bound in. One
 * microtask per synchronous run, which runs once that code is done, switches such tasks out.
 */
export function ensureSwitchOut(task: Task): void {
  running = null; // the continuation now running ends in `task`'s context
  bound = task;
  const n = unswitched.push(task);
  if (n === 1) runOutside(queueMicrotask, switchOutUnswitched);
  else if (n % 64 === 0) unswitched = unswitched.filter((t) => t.live); // a loop of start/stop
}

/** One more open task needs scheduler events; enables the hook on the first. */
export function holdSchedulerHooks(): void {
  if (holders++ === 0 && !enabled) {
    calibrateTimerClock(); // nothing once the offset is precise; one more sample until it is
    enabled = true;
    depth = 0;
    nested.length = 0;
    running = null;
    resetMarks(nowNs());
    hooks.enable();
  }
}

/**
 * A task that held the hook finished; disables the hook with the last. `keepStorage`: the task
 * may still be current (see `storageKeepers`); returns whether it then keeps the storage on, until
 * it calls `releaseStorage` (on Node 22: elsewhere the storage is never turned off).
 */
export function releaseSchedulerHooks(keepStorage = false): boolean {
  const keeps = keepStorage && storageTaxesAwaits;
  if (keeps) storageKeepers++;
  if (holders > 0 && --holders === 0) disableWhenIdle();
  return keeps;
}

/** A task that let the hooks go but kept the storage (`releaseSchedulerHooks(true)`) closed. */
export function releaseStorage(): void {
  if (storageKeepers > 0 && --storageKeepers === 0) releaseStorageWhenIdle();
}

/** How many expired tasks keep Node 22's storage on now (for tests and diagnostics). */
export function storageKeptFor(): number {
  return storageKeepers;
}

/** Whether the scheduler hooks are enabled now (for tests and diagnostics). */
export function schedulerHooksEnabled(): boolean {
  return enabled;
}
