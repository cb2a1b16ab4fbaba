import type { Channel } from 'node:diagnostics_channel';
import { epochMs } from '../clock.js';
import { reportInternalError } from '../report/errors.js';
import { RateLimitedLog } from '../report/rate-limited-log.js';
import { pushViolation, type ViolationRing } from '../report/ring.js';
import type { ModelTransitionEvent } from '../report/transition-event.js';
import type { Violation } from '../report/violation.js';
import { type Deadlined, deadlines } from './deadline-queue.js';
import type { CompiledModel } from './model.js';
import { abortReactor, type Reactor } from './reactors.js';

/**
 * One monitored object (the kernel's per-object `da_monitor` storage): where it is in the model,
 * whether it is monitored, and its clock. Monitors extend it with their own data, and say where its
 * monitor, name and limit come from: a field each, or read from an object the instance already
 * holds (a tlob window reads them from its call site, so that each window is three fields smaller).
 */
export abstract class Instance implements Deadlined {
  /** Current state, an index into the model's states. */
  state: number;
  /** False before start and after a violation or a reset: events are ignored. */
  monitoring = false;
  /** `nowNs()` at the last clock reset. */
  clockNs = 0;
  heapIndex = -1;
  /** The monitor that runs this instance. */
  abstract readonly monitor: Monitor<any>;
  /** The name its records and transitions carry. */
  abstract readonly name: string;
  /** The limit of the clock invariant (`clk < limitNs`). */
  abstract readonly limitNs: number;

  constructor(
    monitor: Monitor<any>,
    /** Unique per monitor; an instance that is reused for another object takes a new one. */
    public id: number,
  ) {
    this.state = monitor.model.initial;
  }

  /**
   * The deadline of the clock invariant: the clock's last reset plus the limit. Every reset of a
   * constrained instance re-queues it (`arm`), so this is the deadline it is queued with; a getter,
   * not a field, because a number field is a heap box allocated with each instance.
   */
  get deadlineNs(): number {
    return this.clockNs + this.limitNs;
  }

  expire(now: number): void {
    this.monitor.expire(this, now);
  }
}

/** What a concrete monitor adds to the generic engine. */
interface MonitorGlue<I extends Instance> {
  /** The `event` of a violation found by the deadline timer (no model event came before the deadline). */
  readonly expiredEvent: string;
  /** Where the monitor publishes its violation records (published only while it has subscribers). */
  readonly errors: Channel;
  /** Where the monitor publishes its transitions, as `ModelTransitionEvent`s (only while it has subscribers). */
  readonly events: Channel;
  /** Where the monitor keeps its violation records. */
  readonly ring: ViolationRing;
  /**
   * The violation record of `instance` as of `at` (the moment of the violation, which for an
   * expired invariant is its deadline, possibly before the instance's last accounting): the
   * generic fields of `Violation` with the values given, and the monitor's own, as one object
   * literal (one shape for every record, no copies; the engine freezes it).
   */
  record(
    instance: I,
    at: number,
    state: string,
    event: string,
    atMs: number,
    reportedLateNs: number,
  ): Violation;
  /** One human line for the log reactor. */
  format(violation: Violation): string;
  /**
   * Called once a violation's record is built and the instance reset, before the reactor, the ring
   * and the subscribers get the record (they may act on the instance).
   */
  onViolation?(instance: I, violation: Violation): void;
  /**
   * Called before a violation's record is built: fields of a detection made elsewhere (the
   * watchdog thread), and whether it already wrote the line and acted for `log` and `abort`; or
   * undefined.
   */
  takeover?(instance: I, now: number): { fields: Record<string, unknown>; reported: boolean } | undefined;
}

/**
 * The generic engine (the kernel's da_monitor/ha_monitor): runs any compiled model over
 * instances, checks the clock invariant on every event and on the deadline timer, and on a
 * violation builds an immutable record, reacts, publishes it, and resets the instance. The
 * monitored code is never touched: a violation only ends the monitoring of that instance.
 */
export class Monitor<I extends Instance> {
  /** A disabled monitor ignores every start; instances already running finish normally. */
  enabled = true;
  reactor: Reactor = 'log';
  private readonly log = new RateLimitedLog((line) => process.stderr.write(`${line}\n`));
  private readonly eventCount: number;
  private readonly errors: Channel;
  private readonly events: Channel;

  constructor(
    readonly model: CompiledModel,
    private readonly glue: MonitorGlue<I>,
  ) {
    this.eventCount = model.events.length;
    this.errors = glue.errors;
    this.events = glue.events;
  }

  /** Starts monitoring `instance` in the initial state with its clock reset, without an event. */
  start(instance: I, now: number): void {
    instance.monitoring = true;
    instance.state = this.model.initial;
    instance.clockNs = now;
    if (this.model.constrained[instance.state] === 1) this.arm(instance);
  }

  /** Starts monitoring `instance` and handles `event` from the initial state (`da_handle_start_run_event`). */
  startAndHandle(instance: I, event: number, now: number): boolean {
    instance.monitoring = true;
    instance.state = this.model.initial;
    instance.clockNs = now;
    return this.handle(instance, event, now);
  }

  /**
   * Handles one event. Returns false when the instance is not monitored or the event found a
   * violation (broken invariant, or an event invalid in the current state).
   */
  handle(instance: I, event: number, now: number): boolean {
    if (!instance.monitoring) return false;
    const model = this.model;
    const state = instance.state;
    if (model.constrained[state] === 1 && now - instance.clockNs >= instance.limitNs) {
      this.violate(instance, model.events[event] as string, now);
      return false;
    }
    const next = model.next[state * this.eventCount + event] as number;
    if (next < 0) {
      this.violate(instance, model.events[event] as string, now);
      return false;
    }
    const reset = model.resets[event] === 1;
    if (reset) instance.clockNs = now;
    instance.state = next;
    this.moveDeadline(instance, state, next, reset);
    if (this.events.hasSubscribers) this.publishTransition(instance, state, event, next, now);
    return true;
  }

  /**
   * Moves `instance` to `next` by events the caller has already checked, as `handle` would for
   * them: each valid where it comes, none resetting the clock, the invariant holding at their time,
   * the instance monitored, nobody subscribed to the transitions, and both states under the same
   * clock invariant, so that the deadline stays as queued and only its watcher is told. A monitor's
   * glue uses it where it knows its model (a hot path: no table of the model is read); the engine
   * itself never does.
   */
  moveWithinInvariant(instance: I, next: number): void {
    instance.state = next;
    if (instance.heapIndex === 0 && deadlines.watcher !== undefined) deadlines.watcher.transition(instance);
  }

  /**
   * The deadline after a transition from `state` to `next`: queued on entering a constrained state
   * or on a reset of the clock in one, removed on leaving them; otherwise unchanged, and the
   * deadline watcher told of the transition of the instance it watches.
   */
  private moveDeadline(instance: I, state: number, next: number, reset: boolean): void {
    const constrained = this.model.constrained;
    if (constrained[next] === 1) {
      if (reset || constrained[state] === 0) this.arm(instance);
      else if (instance.heapIndex === 0 && deadlines.watcher !== undefined)
        deadlines.watcher.transition(instance);
    } else if (constrained[state] === 1) {
      deadlines.remove(instance);
    }
  }

  /** The deadline timer's path: the invariant expired while no event came. */
  expire(instance: I, now: number): void {
    if (!instance.monitoring) return;
    if (now - instance.clockNs < instance.limitNs) {
      this.arm(instance); // the clock was reset since the deadline was set
      return;
    }
    this.violate(instance, this.glue.expiredEvent, now);
  }

  /** Stops monitoring `instance` and disarms its deadline (`da_monitor_reset`). */
  reset(instance: I): void {
    instance.monitoring = false;
    instance.state = this.model.initial;
    deadlines.remove(instance);
  }

  /** Queues the instance's deadline, from its clock (a monitor may hold some back). */
  protected arm(instance: I): void {
    deadlines.insert(instance);
  }

  /**
   * Records a violation found at `now`. A broken invariant happened at the deadline, however late
   * it was found (a timer delayed by a busy thread, a synchronous call that returned long after):
   * the record describes the instance at the deadline, with the lateness beside it.
   */
  private violate(instance: I, event: string, now: number): void {
    const deadline = instance.clockNs + instance.limitNs;
    const at = this.model.constrained[instance.state] === 1 && deadline < now ? deadline : now;
    const taken = this.glue.takeover?.(instance, now);
    const state = this.model.states[instance.state] as string;
    const record = this.glue.record(instance, at, state, event, epochMs(at), Math.round(now - at));
    // a detection made elsewhere (rare) overrides the fields it measured itself
    const violation: Violation = Object.freeze(taken === undefined ? record : { ...record, ...taken.fields });
    this.reset(instance);
    // the glue's bookkeeping first: the reactor and the subscribers may act on the instance
    // (stop the window whose violation they are handed)
    if (this.glue.onViolation) {
      try {
        this.glue.onViolation(instance, violation);
      } catch (error) {
        reportInternalError(`${this.model.name} violation handler`, error);
      }
    }
    this.react(violation, taken?.reported === true);
    pushViolation(this.glue.ring, violation);
    if (this.errors.hasSubscribers) publishGuarded(this.errors, violation);
  }

  /** `reported`: the detector already wrote the line and acted for `log` and `abort`. */
  private react(violation: Violation, reported: boolean): void {
    const reactor = this.reactor;
    try {
      if (reactor === 'log') {
        if (!reported) this.log.line(this.glue.format(violation));
      } else if (reactor === 'abort') {
        if (!reported) abortReactor(violation, this.glue.format);
      } else if (typeof reactor === 'function') reactor(violation);
    } catch (error) {
      reportInternalError(`${this.model.name} reactor`, error);
    }
  }

  private publishTransition(instance: I, state: number, event: number, next: number, now: number): void {
    const model = this.model;
    const payload: ModelTransitionEvent = {
      monitor: model.name,
      id: instance.id,
      name: instance.name,
      state: model.states[state] as string,
      event: model.events[event] as string,
      next: model.states[next] as string,
      final: model.final[next] === 1,
      atNs: now,
    };
    publishGuarded(this.events, payload);
  }
}

/**
 * Publishes on a channel. `diagnostics_channel` already keeps a subscriber's exception away from
 * the publisher (it re-throws it on the next tick); this also keeps a failure of the channel
 * machinery itself off the observed call path.
 */
export function publishGuarded(ch: { publish(message: unknown): void }, message: unknown): void {
  try {
    ch.publish(message);
  } catch (error) {
    reportInternalError('channel publish', error);
  }
}
