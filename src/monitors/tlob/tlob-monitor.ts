import { deadlines } from '../../engine/deadline-queue.js';
import { formatNs } from '../../engine/duration.js';
import { Monitor } from '../../engine/monitor.js';
import type { Reactor } from '../../engine/reactors.js';
import { channels } from '../../report/channels.js';
import type { ModelTransitionEvent } from '../../report/transition-event.js';
import type { Violation } from '../../report/violation.js';
import { violationRing } from '../../report/violation-ring.js';
import { S_RUNNING, type TlobEvent, type TlobState, tlobModel } from './model.js';
import type { TlobReactor } from './tlob-reactor.js';
import { watchdogHooks } from './watchdog-hooks.js';
import type { Window } from './window.js';

/**
 * The violation record of tlob: the generic fields (`Violation`'s, with tlob's states and events)
 * plus the budget and the split at the violation. A type rather than an interface: it is a
 * `Violation` too, without the generic record's open index of details (a misspelt field does not
 * type-check).
 */
export type TlobViolation = {
  readonly monitor: 'tlob';
  /** The window's name. */
  readonly name: string;
  /** The window's id, unique per process. */
  readonly id: number;
  /** The state the window was in at the violation. */
  readonly state: TlobState;
  /** The event that found it, or `'budget_expired'` when the budget timer (or the watchdog) did. */
  readonly event: TlobEvent | 'budget_expired';
  /** When it happened (Unix epoch ms): for an expiry, the deadline, however late it was found. */
  readonly at: number;
  /** How long after it happened it was found, in ns (0 when found on time). */
  readonly reportedLateNs: number;
  readonly budgetNs: number;
  readonly elapsedNs: number;
  readonly runningNs: number;
  readonly waitingNs: number;
  readonly sleepingNs: number;
  /** `'watchdog'` when the watchdog thread caught it while the thread was blocked; absent otherwise. */
  readonly detectedBy?: 'watchdog';
  /** With the watchdog: the blocked thread's JS stack when it was caught, if it could be read. */
  readonly stack?: string;
};

/** What `tlob:event` carries: one transition of a window in tlob's model. */
export type TransitionEvent = ModelTransitionEvent<TlobState, TlobEvent, 'tlob'>;

function format(v: Violation): string {
  const t = v as TlobViolation;
  return (
    `tlob: "${t.name}" #${t.id} over budget ${formatNs(t.budgetNs)}: elapsed ${formatNs(t.elapsedNs)} ` +
    `(running ${formatNs(t.runningNs)}, waiting ${formatNs(t.waitingNs)}, sleeping ${formatNs(t.sleepingNs)}) ` +
    `state=${t.state} event=${t.event}` +
    (t.reportedLateNs >= 1e6 ? ` (found ${formatNs(t.reportedLateNs)} late)` : '')
  );
}

/** The `event` of a violation found by the budget timer rather than by a model event. */
export const BUDGET_EXPIRED = 'budget_expired';

/**
 * The generic engine running the tlob model over windows, plus what only tlob does: the `'throw'`
 * reactor, and synchronous calls that hold their deadline back.
 */
class TlobMonitor extends Monitor<Window> {
  /**
   * Set by the `'throw'` reactor: `stop()` and `tlob.run` throw a `TlobBudgetError` for an
   * over-budget window. Nothing reacts at the violation itself (the engine's reactor is `'nop'`).
   */
  throwing = false;

  /** The reactor as `tlob.reactor()` names it. */
  get tlobReactor(): TlobReactor {
    return this.throwing ? 'throw' : this.reactor;
  }

  set tlobReactor(reactor: TlobReactor) {
    this.throwing = reactor === 'throw';
    // the tlob monitor reacts to its own records only, which are all `TlobViolation`s
    this.reactor = reactor === 'throw' ? 'nop' : (reactor as Reactor);
    watchdogHooks.sync?.reactorChanged(reactor);
  }

  /**
   * A window of a synchronous call holds the thread until its next event, which checks the
   * budget: no timer could fire before it, so its deadline is queued only if it yields
   * (`armDeadline`), and most synchronous windows never touch the deadline queue.
   */
  protected override arm(window: Window): void {
    if (!window.deadlineHeld) super.arm(window);
  }

  /**
   * Starts a window of a synchronous call while nobody subscribes to `tlob:event`: what
   * `startAndHandle(window, E_START, now)` does then (`start` leads from `stopped` to `running`,
   * resets the clock, and queues no deadline for a window that holds it back), without the step.
   */
  startHeld(window: Window, now: number): void {
    window.monitoring = true;
    window.state = S_RUNNING;
    window.clockNs = now;
  }

  /** As `startHeld`, for a window whose deadline is queued from its start (its call may leave the thread). */
  startQueued(window: Window, now: number): void {
    this.startHeld(window, now);
    super.arm(window);
  }

  /**
   * Stops a running window within its budget while nobody subscribes to `tlob:event`: what its
   * `stop` (valid from `running`, the invariant holding) and the reset after it do then, without
   * the step: the window leaves monitoring and its deadline leaves the queue (a synchronous call's
   * was never queued).
   */
  stopQuietly(window: Window): void {
    window.monitoring = false;
    window.state = this.model.initial;
    deadlines.remove(window);
  }

  /** Queues the deadline a window held back (it left `PHASE_HELD`), if it is still monitored in a constrained state. */
  armDeadline(window: Window): void {
    if (window.monitoring && this.model.constrained[window.state] === 1) super.arm(window);
  }
}

/** The tlob monitor: its violations go to the process's ring and to `tlob:error`, its transitions to `tlob:event`. */
export const tlobMonitor = new TlobMonitor(tlobModel, {
  expiredEvent: BUDGET_EXPIRED,
  errors: channels.error,
  events: channels.event,
  ring: violationRing,
  record(window, at, state, event, atMs, reportedLateNs): TlobViolation {
    window.accountUntil(at); // the split at the violation (detail_env_tlob), frozen there
    return {
      monitor: 'tlob',
      name: window.name,
      id: window.id,
      budgetNs: window.budgetNs,
      elapsedNs: Math.round(at - window.startNs),
      runningNs: Math.round(window.runningNs),
      waitingNs: Math.round(window.waitingNs),
      sleepingNs: Math.round(window.sleepingNs),
      state: state as TlobState,
      event: event as TlobViolation['event'],
      at: atMs,
      reportedLateNs,
    };
  },
  format,
  takeover: (window, now) => watchdogHooks.takeover(window, now),
  onViolation(window) {
    watchdogHooks.releaseClaim(window);
    window.violated();
  },
});
