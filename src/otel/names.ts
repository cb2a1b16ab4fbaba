/**
 * The names tlob gives its OpenTelemetry metrics, attributes and events, in one place (the table
 * of docs/opentelemetry.md). They follow OpenTelemetry's naming rules for custom instrumentation:
 * a `tlob.` namespace, lowercase dot-separated words, durations in seconds (`s`), counts in
 * `{annotation}` units, no `_total` or unit in a name.
 */

/** Instrumentation scope of the meter, tracer and logger. */
export const SCOPE = 'tlob';

/** Histogram, `s`: time of each finished window, one point per state (`tlob.window.state`). */
export const WINDOW_DURATION = 'tlob.window.duration';
/** Counter, `{violation}`: budget violations, by window name and the state the window was in. */
export const WINDOW_VIOLATIONS = 'tlob.window.violations';
/** UpDownCounter, `{window}`: windows opened and not yet stopped, by window name. */
export const WINDOW_ACTIVE = 'tlob.window.active';

export const ATTR_NAME = 'tlob.window.name';
export const ATTR_STATE = 'tlob.window.state';
export const ATTR_ID = 'tlob.window.id';
export const ATTR_BUDGET = 'tlob.window.budget';
export const ATTR_ELAPSED = 'tlob.window.elapsed';
export const ATTR_RUNNING = 'tlob.window.running';
export const ATTR_WAITING = 'tlob.window.waiting';
export const ATTR_SLEEPING = 'tlob.window.sleeping';
export const ATTR_OVER_BUDGET = 'tlob.window.over_budget';
export const ATTR_VIOLATION_EVENT = 'tlob.violation.event';
/** Seconds: how long after the deadline (or the event) the violation was found. */
export const ATTR_REPORTED_LATE = 'tlob.violation.reported_late';
/** `watchdog` when the watchdog thread found the violation while the thread was blocked. */
export const ATTR_DETECTED_BY = 'tlob.violation.detected_by';
/** Stable OpenTelemetry attribute for a stack trace. */
export const ATTR_STACKTRACE = 'code.stacktrace';

/** Span event name, and log record `eventName`, of a violation. */
export const VIOLATION_EVENT = 'tlob.budget.violation';

/** The values of `tlob.window.state` in the duration histogram. */
export const DURATION_STATES = ['elapsed', 'running', 'waiting', 'sleeping'] as const;

/**
 * Default histogram buckets, in seconds: 1-2.5-5 steps from 1 µs to 10 s, so that a 100 µs
 * query and a 2 s batch job both land in buckets a few times narrower than their value.
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);
