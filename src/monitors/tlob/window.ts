import { nowNs } from '../../clock.js';
import { enterSync, isSyncTask, liveTask, taskStorage } from '../../context/current-task.js';
import { releaseSchedulerHooks } from '../../context/scheduler-hooks.js';
import {
  isPending,
  releaseWhenCollected,
  type SettleWatcher,
  unwatchSettled,
} from '../../context/settle-watch.js';
import type { Task } from '../../context/task.js';
import { Instance, publishGuarded } from '../../engine/monitor.js';
import { channels } from '../../report/channels.js';
import { reportInternalError } from '../../report/errors.js';
import type { StatsRecorder } from '../../report/stats.js';
import { E_SLEEP, E_STOP, E_SWITCH_IN, E_WAKEUP, S_RUNNING, S_SLEEPING, S_WAITING } from './model.js';
import { TlobBudgetError, type WindowResult } from './result.js';
import type { Site } from './site.js';
import { tlobMonitor } from './tlob-monitor.js';
import { watchdogHooks } from './watchdog-hooks.js';

/**
 * Windows opened and neither stopped nor expired. While it is 0 no window can be current, so a
 * new window's parent is known without reading the AsyncLocalStorage (~11 ns on Node 24).
 */
export const openWindows = { count: 0 };

/** Called with the result of every window when it stops. */
export type OnStop = (result: WindowResult) => void;

/**
 * One monitored window: an instance of the tlob automaton plus the accounting of where its time
 * went. It is a context-layer `Task`, so the event loop's continuations switch it onto the thread
 * and off it; the stop comes from `stop()` or from the settlement of the promise its call returned.
 */
export class Window extends Instance implements Task, SettleWatcher {
  readonly budgetNs: number;
  readonly startNs: number;
  /** Time of the last accounted state change. */
  lastNs: number;
  runningNs = 0;
  waitingNs = 0;
  sleepingNs = 0;
  /** Set while the window counts in `openWindows`. */
  counted = true;
  /** When the window stopped (-1 while open). */
  stoppedNs = -1;
  /** The result, built on first request: a `run` whose result nobody reads does not allocate it. */
  private resultObject: WindowResult | undefined = undefined;
  /** True once a violation was reported; the split is then frozen at the violation. */
  overBudget = false;
  /** When the watched promise of the call settled; the window stops at that time. */
  settledNs = -1;
  /** Set while the window holds the scheduler hooks enabled. */
  holdsHooks = false;
  /** Set when `tlob.start` bound the window with `enterWith`: `stop` then restores the context. */
  enteredWith = false;
  /** A returned promise assumed pending without a look at its state; checked at the deadline. */
  unverified: Promise<unknown> | undefined = undefined;
  /** The promise of the call being waited for (set by `watchSettled`). */
  watchedPromise: Promise<unknown> | undefined = undefined;
  /** The site whose assumption `unverified` rests on. */
  site: Site | undefined = undefined;
  /**
   * Set while the window's call holds the thread until its next event (a synchronous call): its
   * deadline is not queued until `tlobMonitor.armDeadline`.
   */
  deferDeadline = false;
  /** Earliest due time of a timer the window created since it last ran (kept for the watchdog), else NaN. */
  readyNs = Number.NaN;

  constructor(
    id: number,
    name: string,
    budgetNs: number,
    now: number,
    readonly parent: Task | undefined,
    readonly stats: StatsRecorder,
    readonly onStop: OnStop | undefined,
  ) {
    super(tlobMonitor, id, name, budgetNs);
    this.budgetNs = budgetNs;
    this.startNs = now;
    this.lastNs = now;
  }

  /** Live while monitored and not yet settled or stopped: only then do scheduler events count. */
  get live(): boolean {
    return this.monitoring && this.settledNs < 0;
  }

  get sleeping(): boolean {
    return this.state === S_SLEEPING;
  }

  /** Adds the time since the last change to the current state's bucket. */
  account(at: number): void {
    const d = at - this.lastNs;
    if (d <= 0) return;
    const state = this.state;
    if (state === S_RUNNING) this.runningNs += d;
    else if (state === S_SLEEPING) this.sleepingNs += d;
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
    if (state === S_RUNNING) this.runningNs -= over;
    else if (state === S_SLEEPING) this.sleepingNs -= over;
    else if (state === S_WAITING) this.waitingNs -= over;
    this.lastNs = at;
  }

  /** Accounts up to `at`, then feeds `event` to the engine. */
  step(event: number, at: number): void {
    this.account(at);
    tlobMonitor.handle(this, event, at);
  }

  switchIn(now: number, readyNs: number): void {
    if (this.readyNs <= now) this.readyNs = Number.NaN;
    if (this.state === S_SLEEPING)
      this.step(E_WAKEUP, readyNs > this.lastNs ? Math.min(readyNs, now) : this.lastNs);
    if (this.state === S_WAITING) this.step(E_SWITCH_IN, now);
  }

  switchOut(now: number): void {
    if (this.state === S_RUNNING) this.step(E_SLEEP, now);
  }

  /**
   * The deadline passed. If the call's promise was only assumed pending and in fact had settled
   * before the call returned, the window ended at the return: it is finished there, with no
   * violation, and its site goes back to looking at every promise's state.
   */
  override expire(now: number): void {
    const promise = this.unverified;
    if (promise !== undefined && !isPending(promise)) {
      this.unverified = undefined;
      if (this.site !== undefined) this.site.assumePending = false;
      unwatchSettled(promise, this);
      this.settledNs = this.lastNs; // the yield at the return
      watchdogHooks.releaseClaim(this);
      scheduleFinish(this);
      return;
    }
    super.expire(now);
  }

  /**
   * The watched promise settled. This runs inside a promise hook, where no user code may run: a
   * window whose stop runs none (no `onStop`, no channel subscriber, within budget so no reactor)
   * ends right here; any other ends in a microtask, outside the hook.
   */
  settled(now: number): void {
    this.unverified = undefined;
    this.watchedPromise = undefined;
    if (this.stoppedNs >= 0 || this.settledNs >= 0) return;
    // from here the window is no longer live: `end()` switches it in and stops it at `now`
    this.settledNs = now;
    if (this.endsQuietly(now)) this.end();
    else scheduleFinish(this);
  }

  /** Whether stopping the window at `now` runs only tlob's own bookkeeping. */
  private endsQuietly(now: number): boolean {
    return (
      this.onStop === undefined &&
      !channels.stop.hasSubscribers &&
      !channels.event.hasSubscribers &&
      (!this.monitoring || now - this.clockNs < this.limitNs)
    );
  }

  /**
   * Stops the window and returns its result. A second call returns the same result and does
   * nothing else. If the window is the current context, the context returns to the nearest open
   * enclosing window. With the `'throw'` reactor an over-budget result is thrown as a
   * `TlobBudgetError` instead.
   */
  stop(): WindowResult {
    const result = this.finish();
    if (result.overBudget && tlobMonitor.throwing) throw new TlobBudgetError(result);
    return result;
  }

  /** True once the window stopped. */
  get stopped(): boolean {
    return this.stoppedNs >= 0;
  }

  /** The result of a stopped window (built once, on first request). */
  get result(): WindowResult | undefined {
    if (this.stoppedNs < 0) return undefined;
    this.resultObject ??= {
      name: this.name,
      id: this.id,
      budgetNs: this.budgetNs,
      elapsedNs: Math.round(this.stoppedNs - this.startNs),
      runningNs: Math.round(this.runningNs),
      waitingNs: Math.round(this.waitingNs),
      sleepingNs: Math.round(this.sleepingNs),
      overBudget: this.overBudget,
      code: this.overBudget ? 'EOVERFLOW' : undefined,
    };
    return this.resultObject;
  }

  /** Stops the window and returns its result. Never throws. */
  finish(): WindowResult {
    this.end();
    return this.result as WindowResult;
  }

  /**
   * Stops the window, at `settledNs` when the call's promise settled, otherwise now; records its
   * stats and hands its result to `onStop` and `tlob:stop`. Does nothing once stopped. Never throws.
   */
  end(): void {
    if (this.stoppedNs >= 0) return;
    const now = this.settledNs >= 0 ? this.settledNs : nowNs();
    if (this.monitoring) {
      // stop() is called by code of the window, so the window is on the thread whatever the
      // scheduler hooks saw (a listener of an EventEmitter runs in its emitter's context).
      this.switchIn(now, now);
      this.step(E_STOP, now);
      tlobMonitor.reset(this); // a stopped window is parked for good: scheduler events skip it
    }
    this.stoppedNs = now;
    // stopped before its call's promise settled (`tlob.current().stop()`): stop holding the promise
    if (this.watchedPromise !== undefined) releaseWhenCollected(this.watchedPromise);
    this.uncount();
    this.unbind();
    this.stats.record(now - this.startNs, this.runningNs, this.waitingNs, this.sleepingNs);
    if (this.onStop !== undefined) {
      try {
        this.onStop(this.result as WindowResult);
      } catch (error) {
        reportInternalError('onStop callback', error);
      }
    }
    if (channels.stop.hasSubscribers) publishGuarded(channels.stop, this.result);
  }

  /** Leaves `openWindows` (at the stop, or at a violation). */
  uncount(): void {
    if (this.counted) {
      this.counted = false;
      openWindows.count--;
    }
  }

  /** Lets the scheduler hooks go, if this window held them. */
  releaseHooks(): void {
    if (this.holdsHooks) {
      this.holdsHooks = false;
      releaseSchedulerHooks();
    }
  }

  /** Leaves the current context and the scheduler hooks. */
  private unbind(): void {
    this.releaseHooks();
    if (isSyncTask(this)) enterSync(liveTask(this.parent));
    if (this.enteredWith && taskStorage.getStore() === this)
      taskStorage.enterWith(liveTask(this.parent) as Task);
  }
}

const finishQueue: Window[] = [];

function drainFinishQueue(): void {
  for (let i = 0; i < finishQueue.length; i++) (finishQueue[i] as Window).end();
  finishQueue.length = 0;
}

/** Finishes settled windows in one microtask, outside the promise hook that saw them settle. */
function scheduleFinish(window: Window): void {
  if (finishQueue.push(window) === 1) queueMicrotask(drainFinishQueue);
}
