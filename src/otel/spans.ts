import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import type { Violation, WindowResult, WindowStart } from '../index.js';
import { apiGlobals, type OtelApi } from './api.js';
import {
  ATTR_BUDGET,
  ATTR_DETECTED_BY,
  ATTR_ELAPSED,
  ATTR_ID,
  ATTR_NAME,
  ATTR_OVER_BUDGET,
  ATTR_REPORTED_LATE,
  ATTR_RUNNING,
  ATTR_SLEEPING,
  ATTR_STACKTRACE,
  ATTR_STATE,
  ATTR_VIOLATION_EVENT,
  ATTR_WAITING,
  SCOPE,
  VIOLATION_EVENT,
} from './names.js';
import type { LoggerProviderLike, SpanMode } from './options.js';

/**
 * Windows in flight inside a span are tracked by id until they stop; a window never stopped would
 * stay, so past this many the oldest is forgotten (its stop then touches no span).
 */
const MAX_TRACKED = 10_000;

/** A window opened inside an active span. */
interface Tracked {
  /** The OpenTelemetry context active when the window opened. */
  readonly context: Context;
  /** The span active then. */
  readonly parent: Span;
  readonly startNs: number;
}

/** The global Logs API provider, if an application registered one (`logs.setGlobalLoggerProvider`). */
export function globalLoggerProvider(): LoggerProviderLike | undefined {
  const getter = (globalThis as Record<symbol, unknown>)[Symbol.for('io.opentelemetry.js.api.logs')];
  return typeof getter === 'function' ? (getter(1) as LoggerProviderLike | undefined) : undefined;
}

/** Seconds from nanoseconds, as OpenTelemetry wants durations. */
const seconds = (ns: number): number => ns / 1e9;

function resultAttributes(result: WindowResult): Attributes {
  return {
    [ATTR_NAME]: result.name,
    [ATTR_ID]: result.id,
    [ATTR_BUDGET]: seconds(result.budgetNs),
    [ATTR_ELAPSED]: seconds(result.elapsedNs),
    [ATTR_RUNNING]: seconds(result.runningNs),
    [ATTR_WAITING]: seconds(result.waitingNs),
    [ATTR_SLEEPING]: seconds(result.sleepingNs),
    [ATTR_OVER_BUDGET]: result.overBudget,
  };
}

function violationAttributes(violation: Violation): Attributes {
  const attributes: Attributes = {
    [ATTR_NAME]: violation.name,
    [ATTR_ID]: violation.id,
    [ATTR_STATE]: violation.state,
    [ATTR_VIOLATION_EVENT]: violation.event,
  };
  const ns = violation as Violation & Partial<Record<string, number>>;
  if (typeof ns.budgetNs === 'number') attributes[ATTR_BUDGET] = seconds(ns.budgetNs);
  if (typeof ns.elapsedNs === 'number') attributes[ATTR_ELAPSED] = seconds(ns.elapsedNs);
  if (typeof ns.runningNs === 'number') attributes[ATTR_RUNNING] = seconds(ns.runningNs);
  if (typeof ns.waitingNs === 'number') attributes[ATTR_WAITING] = seconds(ns.waitingNs);
  if (typeof ns.sleepingNs === 'number') attributes[ATTR_SLEEPING] = seconds(ns.sleepingNs);
  if (typeof violation.reportedLateNs === 'number')
    attributes[ATTR_REPORTED_LATE] = seconds(violation.reportedLateNs);
  if (typeof violation.detectedBy === 'string') attributes[ATTR_DETECTED_BY] = violation.detectedBy;
  if (typeof violation.stack === 'string') attributes[ATTR_STACKTRACE] = violation.stack;
  return attributes;
}

/**
 * Windows in traces. A window opened inside an active span remembers that span and its context.
 * At its stop the result becomes attributes of the span, or of a child span created then, after
 * the fact, from tlob's own clock readings: no span of tlob's is ever left open. A violation
 * becomes an event at the moment it is found, in every mode on the span the window opened in (so
 * it is exported with that span even if the window never stops): a log-based event correlated with
 * the span when a Logs API provider is there, else a span event.
 *
 * A window may outlive its span (a request that gave up on a call, a call left to run on). Once the
 * span has ended nothing is written onto it: an ended span takes nothing more (the SDK drops the
 * write and warns through its diagnostic logger). The rest goes on: the metrics count the window
 * and its violation, a log-based event still carries the span's context, and the window's own
 * child span (`'child'`, `'over-budget'`) is still made at its stop, under the ended span.
 */
export class WindowSpans {
  private readonly tracked = new Map<number, Tracked>();
  private tracer: Tracer;
  /** The API's global TracerProvider slot as last seen; the tracer moves when it changes. */
  private seenGlobal: unknown = apiGlobals()?.trace;

  constructor(
    private readonly api: OtelApi,
    private readonly explicitProvider: TracerProvider | undefined,
    private readonly mode: SpanMode,
    private readonly loggerProvider: LoggerProviderLike | undefined,
  ) {
    this.tracer = (explicitProvider ?? api.trace.getTracerProvider()).getTracer(SCOPE);
  }

  /** Windows tracked now (for tests). */
  get size(): number {
    return this.tracked.size;
  }

  start(start: WindowStart): void {
    const context = this.api.context.active();
    const parent = this.api.trace.getSpan(context);
    if (parent === undefined || !parent.isRecording()) return;
    if (this.tracked.size >= MAX_TRACKED) this.tracked.delete(this.tracked.keys().next().value as number);
    this.tracked.set(start.id, { context, parent, startNs: start.startNs });
  }

  stop(result: WindowResult): void {
    const tracked = this.tracked.get(result.id);
    if (tracked === undefined) return;
    this.tracked.delete(result.id);
    if (this.mode === 'attributes') {
      if (tracked.parent.isRecording()) tracked.parent.setAttributes(resultAttributes(result));
      return;
    }
    if (this.mode === 'over-budget' && !result.overBudget) return;
    const span = this.tracerInForce().startSpan(
      result.name,
      {
        startTime: tracked.startNs / 1e6,
        kind: this.api.SpanKind.INTERNAL,
        attributes: resultAttributes(result),
      },
      tracked.context,
    );
    span.end((tracked.startNs + result.elapsedNs) / 1e6);
  }

  violation(violation: Violation): void {
    const tracked = this.tracked.get(violation.id);
    const attributes = violationAttributes(violation);
    const loggerProvider = this.loggerProvider ?? globalLoggerProvider();
    if (loggerProvider !== undefined) {
      loggerProvider.getLogger(SCOPE).emit({
        eventName: VIOLATION_EVENT,
        timestamp: violation.at,
        severityNumber: 13, // WARN
        severityText: 'WARN',
        body: `tlob: window "${violation.name}" broke its budget`,
        attributes,
        // a window tied to no span has none: not whatever context is active where tlob reports
        context: tracked?.context ?? this.api.ROOT_CONTEXT,
      });
    } else if (tracked?.parent.isRecording()) {
      tracked.parent.addEvent(VIOLATION_EVENT, attributes, violation.at);
    }
  }

  /**
   * The tracer of the provider in force. Without an explicit provider it follows the global one,
   * as `WindowMetrics` does: one property read per child span while it stays the same, a new
   * tracer when an application registers another (a `ProxyTracer` keeps the delegate it found).
   */
  private tracerInForce(): Tracer {
    if (this.explicitProvider !== undefined) return this.tracer;
    const registered = apiGlobals()?.trace;
    if (registered !== this.seenGlobal) {
      this.seenGlobal = registered;
      this.tracer = this.api.trace.getTracerProvider().getTracer(SCOPE);
    }
    return this.tracer;
  }
}
