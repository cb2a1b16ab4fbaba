import { type InspectOptions, inspect } from 'node:util';
import { nowNs } from '../../clock.js';
import { enterSync, isSyncTask, liveTask, taskStorage } from '../../context/current-task.js';
import { noteYield } from '../../context/readiness.js';
import {
  holdSchedulerHooks,
  releaseSchedulerHooks,
  releaseStorage,
  runningTimerDueNs,
} from '../../context/scheduler-hooks.js';
import {
  isPending,
  isRejected,
  releaseWhenCollected,
  type SettleWatcher,
  unwatchSettled,
  watchSettled,
} from '../../context/settle-watch.js';
import type { Task } from '../../context/task.js';
import { timerDueNs } from '../../context/timer-due.js';
import { Instance, publishGuarded } from '../../engine/monitor.js';
import { queueMicrotask } from '../../real-timers.js';
import { channels } from '../../report/channels.js';
import { reportInternalError } from '../../report/errors.js';
import type { CallEndHandler } from './call-path.js';
import type { CallSite } from './call-site.js';
import {
  E_SLEEP,
  E_STOP,
  E_SWITCH_IN,
  E_WAKEUP,
  S_RUNNING,
  S_SLEEPING,
  S_STOPPED,
  S_WAITING,
} from './model.js';
import { TlobBudgetError, type WindowResult } from './result.js';
import { FOLLOW_FULFILLED, FOLLOW_REJECTED } from './thenable-observer.js';
import { tlobMonitor } from './tlob-monitor.js';
import { watchdogHooks } from './watchdog-hooks.js';

/**
 * A Node timer (`Timeout`) or immediate as a window keeps it, or a record standing for one of
 * `timers/promises`' (Node hands those out to nobody): `_destroyed` once cleared or run.
 */
export interface ReadyTimer {
  readonly _destroyed?: boolean;
}

/** How many timers and immediates not yet run a window keeps for the watchdog (see `Window.timersChanged`). */
const READY_TIMERS = 16;

/** `tlob:event`, read at each switch (one property read less than through `channels`). */
const transitions = channels.event;

/** Called with the result of every window when it stops. */
export type OnStop = (result: WindowResult) => void;

/*
 * The phases of a window (`Window.phase`), in the order it goes through them. Whether it broke its
 * budget is a separate fact (`overBudget`): a window that expired is no longer monitored, but its
 * call goes on until it ends, and the window closes then.
 */
/**
 * Opened for a synchronous call, which holds the thread until it returns: no budget timer could
 * fire before its close, which checks the budget, so its deadline is not queued (unless it yields).
 */
const PHASE_HELD = 0;
/** Opened, and its call has not left the thread: it holds no scheduler hooks; its deadline is queued. */
const PHASE_OPEN = 1;
/** Bound to the caller's context by `tlob.start` (`enterWith`): closing it restores the context. Holds the scheduler hooks. */
const PHASE_BOUND = 2;
/** Its call left the thread (it returned a pending promise): it holds the scheduler hooks. */
const PHASE_YIELDED = 3;
/** Its call ended at `endNs` (its promise settled); the close is queued. Scheduler events no longer count. */
const PHASE_ENDED = 4;
/** Closed: the result is final. */
const PHASE_CLOSED = 5;

/**
 * One monitored window: an instance of the tlob automaton plus the accounting of where its time
 * went. It is a context-layer `Task`, so the event loop's continuations switch it onto the thread
 * and off it. It closes (`close`, the one verb) when its call ends: at the return, at the
 * settlement of the promise its call returned, at the outcome of a thenable, or at `stop()`.
 */
export class Window extends Instance implements Task, SettleWatcher, CallEndHandler {
  /**
   * Time of the last accounted state change. Given a number here, not only in the constructor: a
   * field first defined as undefined stays a tagged field in V8, and each time stored in it would
   * then allocate a heap number (two per await); a number field is updated in place.
   */
  lastNs = 0;
  waitingNs = 0;
  sleepingNs = 0;
  /**
   * Where the window is in its life: `PHASE_HELD` or `PHASE_OPEN`, then `PHASE_BOUND` or
   * `PHASE_YIELDED`, `PHASE_ENDED`, `PHASE_CLOSED`.
   */
  phase: number;
  /** True once a violation was reported; the split is then frozen at the violation. */
  overBudget = false;
  /**
   * From `PHASE_ENDED` on, when the call ended (its promise settled): the window closes at that
   * time. Once `PHASE_CLOSED`, when it closed.
   */
  endNs = 0;
  /** The result, built on first request: a `run` whose result nobody reads does not allocate it. */
  private resultObject: WindowResult | undefined = undefined;
  /** A returned promise assumed pending without a look at its state; checked at the deadline. */
  unverified: Promise<unknown> | undefined = undefined;
  /** The promise of the call being waited for (set by `watchSettled`). */
  watchedPromise: Promise<unknown> | undefined = undefined;
  /**
   * Earliest due time of the timers in `readyTimers` (read by the watchdog and at the window's
   * expiry; -Infinity with an immediate among them: ready at once), else undefined: it compares
   * and converts (into the watchdog's `Float64Array`) as NaN does, where a `NaN` in this field
   * would be a 16 B number box allocated with every window.
   */
  readyNs: number | undefined = undefined;
  /**
   * The timers and immediates the window created that have not run yet (kept by the watchdog's
   * `setTimeout` and `setImmediate`; `_destroyed` once cleared or run), at most `READY_TIMERS`;
   * undefined until the first. `readyNs` follows them as they run, are cleared or refreshed (see
   * `timersChanged`).
   */
  readyTimers: ReadyTimer[] | undefined = undefined;

  constructor(
    id: number,
    readonly site: CallSite,
    now: number,
    /** Set again when the window is reopened (`reopen`), like every field below. */
    public parent: Task | undefined,
    public onStop: OnStop | undefined,
    /** Opened for a synchronous call (`PHASE_HELD`). */
    held: boolean,
  ) {
    super(tlobMonitor, id);
    this.clockNs = now;
    this.lastNs = now;
    this.phase = held ? PHASE_HELD : PHASE_OPEN;
  }

  /**
   * Makes a closed window of a synchronous call, that nothing kept a reference to, the window of
   * a new synchronous call of its site (see `CallSite.invoke`): the fields a window's life changes
   * are those of a new window (such a window never yielded nor broke its budget, so the promises
   * and `overBudget` are as new already). It allocates nothing, where a new window is ~215 B (the
   * object and the boxes of its number fields).
   */
  reopen(id: number, now: number, parent: Task | undefined, onStop: OnStop | undefined): void {
    this.id = id;
    this.clockNs = now;
    this.lastNs = now;
    this.waitingNs = 0;
    this.sleepingNs = 0;
    this.phase = PHASE_HELD;
    this.endNs = 0;
    this.resultObject = undefined;
    this.readyNs = undefined;
    this.readyTimers = undefined;
    this.parent = parent;
    this.onStop = onStop;
  }

  /** Whether the window's deadline waits until its synchronous call yields (`PHASE_HELD`). */
  get deadlineHeld(): boolean {
    return this.phase === PHASE_HELD;
  }

  /** Closed within budget, so that its site may reopen it (if nothing kept a reference to it). */
  get reusable(): boolean {
    return this.phase === PHASE_CLOSED && !this.overBudget;
  }

  /**
   * When the window opened: the model resets its clock only at `start`, so the engine's clock
   * field holds it (one field for both).
   */
  get startNs(): number {
    return this.clockNs;
  }

  /** The budget, in nanoseconds: the limit of the model's clock invariant. */
  get budgetNs(): number {
    return this.limitNs;
  }

  /** The limit of the model's clock invariant: the budget (a site's budget never changes). */
  get limitNs(): number {
    return this.site.budgetNs;
  }

  /** The window's name: its site's. */
  get name(): string {
    return this.site.name;
  }

  /** The monitor of every window. */
  get monitor(): typeof tlobMonitor {
    return tlobMonitor;
  }

  /** Live while monitored and its call has not ended: only then do scheduler events count. */
  get live(): boolean {
    return this.monitoring && this.phase < PHASE_ENDED;
  }

  get expired(): boolean {
    return !this.monitoring && this.phase < PHASE_ENDED;
  }

  get sleeping(): boolean {
    return this.state === S_SLEEPING;
  }

  /** True once the window closed. */
  get stopped(): boolean {
    return this.phase === PHASE_CLOSED;
  }

  /**
   * Time running up to `lastNs`. Every accounted moment since the start went to one of the three
   * states (a window is accounted only while monitored, so in one of them), so the running time is
   * what waiting and sleeping did not take: it needs no field of its own, nor the number box that
   * would come with it.
   */
  get runningNs(): number {
    return this.lastNs - this.clockNs - this.waitingNs - this.sleepingNs;
  }

  /** Adds the time since the last change to the current state's bucket (running: `lastNs` alone). */
  account(at: number): void {
    const d = at - this.lastNs;
    if (d <= 0) return;
    const state = this.state;
    if (state === S_SLEEPING) this.sleepingNs += d;
    else if (state === S_WAITING) this.waitingNs += d;
    this.lastNs = at;
  }

  /**
   * Makes the split describe the moment `at`: accounts up to it, or, when the accounting already
   * ran past it (a violation found late, while the window stayed in one state since before `at`),
   * takes the time after `at` back out of the current state.
   */
  accountUntil(at: number): void {
    const over = this.lastNs - at;
    if (over <= 0) {
      this.account(at);
      return;
    }
    const state = this.state;
    if (state === S_SLEEPING) this.sleepingNs -= over;
    else if (state === S_WAITING) this.waitingNs -= over;
    this.lastNs = at;
  }

  /** Accounts up to `at`, then feeds `event` to the engine. */
  step(event: number, at: number): void {
    this.account(at);
    tlobMonitor.handle(this, event, at);
  }

  /**
   * A continuation starts at `now`; it became runnable at `readyNs`. A sleeping window wakes up at
   * that time (or at its last change, if it became runnable before it slept) and waits until `now`.
   * Within budget and with no subscriber to `tlob:event` (who sees each transition at its time), the
   * two accountings and the engine's two events (`wakeup`, `switch_in`) are done as one move: the
   * split and the state are those of the two steps one by one.
   */
  switchIn(now: number, readyNs: number): void {
    // a timer it keeps is due: forgotten if this is its callback, or that of a timer due after it
    // (it ran before). Any other continuation (one queued before the timer came due, which a busy
    // thread ran only after) leaves it kept: once that continuation ends, the timer is still ready
    if (this.readyNs !== undefined && this.readyNs <= now) this.timersChanged(runningTimerDueNs());
    const state = this.state;
    if (state === S_SLEEPING) {
      const last = this.lastNs;
      const wakeNs = readyNs > last ? Math.min(readyNs, now) : last;
      if (now - this.clockNs < this.limitNs && this.monitoring && !transitions.hasSubscribers) {
        // `wakeup` and `switch_in` are valid from `sleeping`, reset nothing, and the invariant
        // holds at `now`, so at `wakeNs` too
        if (wakeNs > last) this.sleepingNs += wakeNs - last;
        if (now > wakeNs) this.waitingNs += now - wakeNs;
        if (now > last) this.lastNs = now;
        tlobMonitor.moveWithinInvariant(this, S_RUNNING);
        return;
      }
      this.step(E_WAKEUP, wakeNs);
      if (this.state === S_WAITING) this.step(E_SWITCH_IN, now);
    } else if (state === S_WAITING) this.step(E_SWITCH_IN, now);
  }

  /**
   * Its own continuation follows the one that just ended, nothing else having run between (see
   * `followsOwn`): it runs on as if it had not yielded, the gap counted as running.
   */
  resume(now: number): void {
    if (this.state !== S_SLEEPING) {
      this.switchIn(now, now);
      return;
    }
    if (this.readyNs !== undefined && this.readyNs <= now) this.timersChanged(runningTimerDueNs());
    const last = this.lastNs;
    if (now - this.clockNs < this.limitNs && this.monitoring && !transitions.hasSubscribers) {
      if (now > last) this.lastNs = now; // the running time grows with it
      tlobMonitor.moveWithinInvariant(this, S_RUNNING);
      return;
    }
    // at the moment it yielded: no sleep, no wait
    this.step(E_WAKEUP, last);
    if (this.state === S_WAITING) this.step(E_SWITCH_IN, last);
  }

  /** The continuation that ran ends: a running window goes to sleep (a violation, past its budget). */
  switchOut(now: number): void {
    if (this.state !== S_RUNNING) return;
    // what ran may have cleared or refreshed a timer, and the one it ran for is done
    if (this.readyTimers !== undefined) this.timersChanged(Number.NEGATIVE_INFINITY);
    if (now - this.clockNs < this.limitNs && this.monitoring && !transitions.hasSubscribers) {
      // `sleep` is valid from `running` and resets nothing, and the invariant holds at `now`
      if (now > this.lastNs) this.lastNs = now; // the running time grows with it
      tlobMonitor.moveWithinInvariant(this, S_SLEEPING);
    } else this.step(E_SLEEP, now);
  }

  /** Bound to the caller's context by `tlob.start` (or a pair's start): it holds the scheduler hooks from now on. */
  bindToContext(): void {
    this.phase = PHASE_BOUND;
    holdSchedulerHooks();
  }

  /** The call left the thread (it returned, not yet done): the window sleeps until a continuation runs. */
  yielded(): void {
    if (this.phase === PHASE_HELD) {
      this.phase = PHASE_OPEN;
      tlobMonitor.armDeadline(this);
    }
    this.holdHooks();
    const now = nowNs();
    noteYield(now);
    this.switchOut(now);
  }

  /**
   * The call returned `promise`, still pending: the window is off the thread until it settles.
   * `assumed`: the promise was not looked at (its site learnt that they are pending); the deadline checks it.
   */
  private waitFor(promise: Promise<unknown>, assumed: boolean): void {
    if (assumed) this.unverified = promise;
    this.yielded();
    watchSettled(promise, this);
    // over its budget at the yield: `violated` ran before there was a promise to give up on
    if (this.overBudget) releaseWhenCollected(promise);
  }

  private holdHooks(): void {
    if (this.phase <= PHASE_OPEN) {
      this.phase = PHASE_YIELDED;
      holdSchedulerHooks();
    }
  }

  /** Whether the window holds the scheduler hooks: it was bound or yielded, and neither closed nor expired. */
  private holdsHooks(): boolean {
    return this.phase >= PHASE_BOUND && this.phase <= PHASE_ENDED && !this.overBudget;
  }

  /**
   * The deadline passed. If the call's promise was only assumed pending and in fact had settled
   * before the call returned, the window ended at the return: it closes there, with no violation,
   * and its site goes back to looking at every promise's state.
   */
  override expire(now: number): void {
    const promise = this.unverified;
    if (promise !== undefined && !isPending(promise)) {
      this.unverified = undefined;
      this.site.distrustPending();
      unwatchSettled(promise, this);
      watchdogHooks.releaseClaim(this);
      this.endAt(this.lastNs, false); // the yield at the return
      return;
    }
    // a timer of its own came due before the deadline, and the busy thread has not run it yet
    // (`readyNs` is kept by the watchdog's `setTimeout`): the window was waiting from then on
    // (another call may have cleared a timer since the window slept)
    if (this.readyTimers !== undefined) this.timersChanged(Number.NEGATIVE_INFINITY);
    const ready = this.readyNs;
    if (ready !== undefined && this.state === S_SLEEPING && ready - this.clockNs < this.limitNs)
      this.step(E_WAKEUP, Math.max(ready, this.lastNs));
    super.expire(now);
  }

  /**
   * A timer of the window was created (`timer`, due at `dueNs`; an immediate, ready at once, at
   * -Infinity), or those kept may have changed (`timer` undefined): forgets the timers that were
   * cleared or have run, and those due by `runNow` (the due time of the timer whose callback starts
   * now: it and those due before it ran), reads the due times again (`refresh()` moves them) and
   * sets `readyNs` to the earliest. An immediate is kept until it runs or is cleared.
   */
  timersChanged(runNow: number, timer?: ReadyTimer, dueNs = Number.NaN): void {
    let timers = this.readyTimers;
    if (timer !== undefined) {
      if (timers === undefined) timers = this.readyTimers = [];
      if (timers.length < READY_TIMERS) {
        timers.push(timer);
        if (!(this.readyNs !== undefined && this.readyNs <= dueNs)) this.readyNs = dueNs;
        return;
      }
    }
    if (timers === undefined) return;
    let earliest = Number.POSITIVE_INFINITY;
    let latest = -1;
    let latestDue = Number.NEGATIVE_INFINITY;
    let kept = 0;
    for (const t of timers) {
      if (t._destroyed === true) continue;
      let due = timerDueNs(t);
      // an immediate has no due time: ready once queued
      if (Number.isNaN(due)) due = Number.NEGATIVE_INFINITY;
      else if (!(due > runNow)) continue;
      if (due < earliest) earliest = due;
      if (latest < 0 || due > latestDue) {
        latest = kept;
        latestDue = due;
      }
      timers[kept++] = t;
    }
    timers.length = kept;
    if (timer !== undefined) {
      // full: the new timer takes the place of the one due last, if it comes due before it
      if (kept < READY_TIMERS) timers.push(timer);
      else if (dueNs < latestDue) timers[latest] = timer;
      if (dueNs < earliest) earliest = dueNs;
    }
    this.readyNs = earliest === Number.POSITIVE_INFINITY ? undefined : earliest;
  }

  /**
   * The watched promise settled. This runs inside a promise hook, where no user code may run: a
   * window whose close runs none (no `onStop`, no channel subscriber, within budget so no reactor)
   * closes right here; any other closes in a microtask, outside the hook.
   */
  settled(now: number): void {
    this.unverified = undefined;
    this.watchedPromise = undefined;
    if (this.phase < PHASE_ENDED) this.endAt(now, this.closesQuietly(now));
  }

  /** The call returned a value: it ended now. */
  returned(): void {
    this.close();
  }

  /** The call returned a native promise: the window waits for it if it is pending, else closes now. */
  promised(promise: Promise<unknown>, pending: boolean, assumed: boolean): void {
    if (pending) this.waitFor(promise, assumed);
    else this.close();
  }

  /** The call returned a thenable now observed: the window is off the thread until its outcome. */
  awaitsThenable(): void {
    this.yielded();
  }

  /** The thenable the call returned reported an outcome to its first `then` caller. */
  outcome(): void {
    this.close();
  }

  /**
   * The first `then` caller of the thenable the call returned passed no callback for an outcome:
   * `promise`, what `then` returned (pending), settles with it; the window ends then, unless
   * `outcome` comes first. A settlement of the kind `counts` leaves out (the caller passed a
   * callback for it) is not the thenable's, and is let pass.
   */
  followPromise(promise: Promise<unknown>, counts: number): void {
    if (this.phase >= PHASE_ENDED) return;
    watchSettled(
      promise,
      counts === (FOLLOW_FULFILLED | FOLLOW_REJECTED) ? this : new FollowedOutcome(this, promise, counts),
    );
    // over its budget already: `violated` ran before there was a promise to give up on
    if (this.overBudget) releaseWhenCollected(promise);
  }

  /** The call ended at `at`: from now on the window is no longer live, and it closes at `at`. */
  private endAt(at: number, now: boolean): void {
    this.endNs = at;
    this.phase = PHASE_ENDED;
    if (now) this.close();
    else closeSoon(this);
  }

  /** Whether closing the window at `now` runs only tlob's own bookkeeping. */
  private closesQuietly(now: number): boolean {
    return (
      this.onStop === undefined &&
      !channels.stop.hasSubscribers &&
      !channels.event.hasSubscribers &&
      (!this.monitoring || now - this.clockNs < this.limitNs)
    );
  }

  /**
   * Stops the window and returns its result (`tlob.start()`'s window). A second call returns the
   * same result and does nothing else. With the `'throw'` reactor an over-budget result is thrown
   * as a `TlobBudgetError` instead: this is one of the two API boundaries that policy lives at.
   */
  stop(): WindowResult {
    this.close();
    const result = this.result as WindowResult;
    if (result.overBudget && tlobMonitor.throwing) throw new TlobBudgetError(result);
    return result;
  }

  /** The result of a closed window (built once, on first request). */
  get result(): WindowResult | undefined {
    if (this.phase !== PHASE_CLOSED) return undefined;
    // frozen: `stop()`, `onStop` and every `tlob:stop` subscriber get this one object; one literal
    // for both kinds of result, `code` set from the same `overBudget`
    this.resultObject ??= Object.freeze({
      name: this.name,
      id: this.id,
      budgetNs: this.budgetNs,
      elapsedNs: Math.round(this.endNs - this.startNs),
      runningNs: Math.round(this.runningNs),
      waitingNs: Math.round(this.waitingNs),
      sleepingNs: Math.round(this.sleepingNs),
      overBudget: this.overBudget,
      code: this.overBudget ? 'EOVERFLOW' : undefined,
    } as WindowResult);
    return this.resultObject;
  }

  /**
   * Closes the window, at `endNs` when its call already ended, otherwise now; records its stats
   * and hands its result to `onStop` and `tlob:stop` (the result is built only for them, or when
   * `result` is read). If the window is the current context, the context returns to the nearest
   * open enclosing window. Does nothing once closed. Never throws.
   */
  close(): void {
    if (this.phase === PHASE_CLOSED) return;
    const now = this.phase === PHASE_ENDED ? this.endNs : nowNs();
    if (this.monitoring) {
      if (this.state === S_RUNNING && now - this.clockNs < this.limitNs && !channels.event.hasSubscribers) {
        // on the thread (a synchronous call, or the continuation its promise settled in) within
        // its budget, with nobody to see its stop
        this.account(now);
        tlobMonitor.stopQuietly(this);
      } else {
        // close() is called by code of the window, so the window is on the thread whatever the
        // scheduler hooks saw (a listener of an EventEmitter runs in its emitter's context).
        // stopped already when a subscriber of its own stop transition (`tlob:event`) stops it again
        if (this.state !== S_STOPPED) {
          this.switchIn(now, now);
          this.step(E_STOP, now); // a stop past the budget is a violation: `violated` runs first
        }
        // closed meanwhile by a subscriber of that transition, its violation's reactor or a
        // `tlob:error` subscriber
        if (this.phase === PHASE_CLOSED) return;
        tlobMonitor.reset(this); // a closed window is parked for good: scheduler events skip it
      }
      // its call ended earlier, but the thread was held before this close: the watchdog may have
      // claimed the window meanwhile (a violation released the claim already), and must watch the
      // thread again
      if (this.phase === PHASE_ENDED) watchdogHooks.releaseClaim(this);
    }
    const heldHooks = this.holdsHooks();
    const bound = this.phase === PHASE_BOUND;
    this.phase = PHASE_CLOSED;
    this.endNs = now;
    // closed before its call's promise settled (`tlob.current().stop()`): stop holding the promise
    if (this.watchedPromise !== undefined) releaseWhenCollected(this.watchedPromise);
    if (!this.overBudget) openWindows.count--;
    if (heldHooks) releaseSchedulerHooks();
    else if (this.overBudget && keptStorage.unregister(this)) releaseStorage();
    this.unbind(bound);
    this.site.stats.record(now - this.startNs, this.runningNs, this.waitingNs, this.sleepingNs);
    if (this.onStop !== undefined) {
      try {
        this.onStop(this.result as WindowResult);
      } catch (error) {
        reportInternalError('onStop callback', error);
      }
    }
    if (channels.stop.hasSubscribers) publishGuarded(channels.stop, this.result);
  }

  /**
   * A violation was found (called by the monitor's glue before the reactor runs): the
   * window leaves `openWindows` and lets the scheduler hooks go, even if it is never closed. On
   * Node 22, where the last window to let them go also turns the storage off, it keeps the storage
   * on until it closes: its call may still ask for `tlob.current()`.
   */
  violated(): void {
    if (this.holdsHooks() && releaseSchedulerHooks(true)) keptStorage.register(this, undefined, this);
    this.overBudget = true;
    openWindows.count--;
    this.site.stats.violations++;
    if (this.watchedPromise !== undefined) releaseWhenCollected(this.watchedPromise);
  }

  /**
   * What `util.inspect` and `console.log` show of a window: what its API offers (`name`, `id`,
   * `budgetNs`, whether it stopped, and its result once it did), not its bookkeeping.
   */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return inspect(this.toJSON(), options);
  }

  /** What `JSON.stringify` writes of a window: the same fields as `util.inspect` shows. */
  toJSON(): WindowView {
    return new WindowView(this.name, this.id, this.budgetNs, this.stopped, this.result);
  }

  /** Leaves the current context. `bound`: `tlob.start` bound the window with `enterWith`. */
  private unbind(bound: boolean): void {
    if (isSyncTask(this)) enterSync(liveTask(this.parent));
    if (bound && taskStorage.getStore() === this) taskStorage.enterWith(liveTask(this.parent) as Task);
  }
}

/**
 * A window as `util.inspect` shows it and `JSON.stringify` writes it (`Window.toJSON`), under the
 * name of its public type.
 */
export class WindowView {
  constructor(
    readonly name: string,
    readonly id: number,
    readonly budgetNs: number,
    readonly stopped: boolean,
    readonly result: WindowResult | undefined,
  ) {}
}
Object.defineProperty(WindowView, 'name', { value: 'TlobWindow' });

/**
 * How many times a window may have been kept beyond its synchronous call: counted when a window
 * is handed out (`tlob.current()`) or opened to be bound to an async context (whose continuations
 * hold it and walk up its parents). A window of a synchronous call that closed at its return is
 * reused by its site only if this did not change during the call: nothing then holds it, nor a
 * window within it. (One that yields is not closed at its return, so it is never reused.)
 */
export const windowsKept = { count: 0 };

/**
 * Windows opened and neither closed nor expired. While it is 0 no window can be current, so a
 * new window's parent is known without reading the AsyncLocalStorage (~11 ns on Node 24).
 */
export const openWindows = { count: 0 };

/**
 * The expired windows that keep Node 22's storage on (see `Window.violated`): one that is collected
 * before it closed (its call's promise never settled) gives it back, as nothing can hold it as a store.
 */
const keptStorage = new FinalizationRegistry<undefined>(() => releaseStorage());

const closeQueue: Window[] = [];

function drainCloseQueue(): void {
  for (let i = 0; i < closeQueue.length; i++) (closeQueue[i] as Window).close();
  closeQueue.length = 0;
}

/** Closes ended windows in one microtask, outside the promise hook that saw them end. */
function closeSoon(window: Window): void {
  if (closeQueue.push(window) === 1) queueMicrotask(drainCloseQueue);
}

/**
 * Watches the promise a thenable's `then` returned for one kind of outcome only (see
 * `Window.followPromise`): its settlement of that kind ends the window, at the time it settled. The
 * settle hook runs before the promise's state is set, so the kind is read in a microtask.
 */
class FollowedOutcome implements SettleWatcher {
  constructor(
    private readonly window: Window,
    private readonly promise: Promise<unknown>,
    private readonly counts: number,
  ) {}

  settled(now: number): void {
    queueMicrotask(() => {
      const kind = isRejected(this.promise) ? FOLLOW_REJECTED : FOLLOW_FULFILLED;
      if ((this.counts & kind) !== 0) this.window.settled(now);
    });
  }
}
