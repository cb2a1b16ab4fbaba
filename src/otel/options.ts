import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { TlobTypeError } from '../index.js';
import { environmentSwitch } from '../probes/preload-config.js';
import { describeValue, refuseUnknownOptions } from '../report/errors.js';
import { DEFAULT_BUCKETS } from './names.js';

/**
 * Where a window's result goes in traces:
 * - `'attributes'`: onto the span that was active when the window opened;
 * - `'child'`: onto a child span of it per window, from the window's start to its stop (created at
 *   the stop, so a window that never stops has none);
 * - `'over-budget'`: a child span only for windows that stop over budget;
 * - `'none'`: no span work at all.
 * Windows opened outside any active span touch no span in every mode.
 */
export type SpanMode = 'attributes' | 'child' | 'over-budget' | 'none';

/** The part of an OpenTelemetry Logs API `LoggerProvider` that tlob uses. */
export interface LoggerProviderLike {
  getLogger(name: string, version?: string): { emit(record: Record<string, unknown>): void };
}

/** Options of `otel()`. */
export interface OtelOptions {
  /**
   * Where the metrics go.
   * @default the global provider (`metrics.getMeterProvider()`), looked up again while none is registered
   */
  meterProvider?: MeterProvider;
  /**
   * Where child spans go (violation span events go on the span a window runs in).
   * @default the global provider (`trace.getTracerProvider()`), followed as it is registered or replaced
   */
  tracerProvider?: TracerProvider;
  /**
   * Where violations go as log-based events (`eventName: 'tlob.budget.violation'`, correlated with
   * the window's span). Without one, a global Logs API provider is used if one is registered,
   * otherwise violations become span events.
   * @default the global logger provider if registered, else span events
   */
  loggerProvider?: LoggerProviderLike;
  /**
   * Record the metrics (`tlob.window.duration`, `tlob.window.violations`, `tlob.window.active`).
   * @default true
   */
  metrics?: boolean;
  /**
   * What a window does to the trace it runs in.
   * @default 'attributes'
   * @example otel({ spans: 'over-budget' })
   */
  spans?: SpanMode;
  /**
   * Explicit bucket boundaries of `tlob.window.duration`, in seconds (0 or more), increasing.
   * @default 1 µs to 10 s in 1-2.5-5 steps
   */
  buckets?: readonly number[];
}

/** Options after checking, with defaults applied. */
export interface CheckedOptions {
  readonly meterProvider: MeterProvider | undefined;
  readonly tracerProvider: TracerProvider | undefined;
  readonly loggerProvider: LoggerProviderLike | undefined;
  readonly metrics: boolean;
  readonly spans: SpanMode;
  readonly buckets: readonly number[];
}

const SPAN_MODES: readonly string[] = ['attributes', 'child', 'over-budget', 'none'];

function invalid(what: string, value: unknown): TlobTypeError {
  return invalidGot(what, describeValue(value));
}

function invalidGot(what: string, got: string): TlobTypeError {
  return new TlobTypeError('ERR_TLOB_INVALID_ARG', `tlob otel: expected ${what}, got ${got}`);
}

function checkProvider<T>(value: unknown, key: string, method: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as Record<string, unknown> | null)?.[method] !== 'function')
    throw invalid(`\`${key}\` to have a ${method}() method`, value);
  return value as T;
}

/** Checks the bucket boundaries: durations, so finite numbers of seconds, 0 or more, increasing. */
function checkBuckets(value: unknown): readonly number[] {
  if (value === undefined) return DEFAULT_BUCKETS;
  if (!Array.isArray(value) || value.length === 0)
    throw invalid('`buckets` to be a non-empty array of increasing finite numbers (seconds)', value);
  // by index, not `forEach`: that skips the holes of a sparse array (`[0.1, , 1]`), which would
  // reach the SDK as `undefined` boundaries
  for (let i = 0; i < value.length; i++) {
    const what = `\`buckets[${i}]\` to be a finite number of seconds, 0 or more`;
    if (!(i in value)) throw invalidGot(what, 'an empty slot (a hole in a sparse array)');
    const bound: unknown = value[i];
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound < 0) throw invalid(what, bound);
    if (i > 0 && bound <= value[i - 1])
      throw invalid(`\`buckets[${i}]\` to be greater than \`buckets[${i - 1}]\` (${value[i - 1]})`, bound);
  }
  return Object.freeze([...value]);
}

/** The options `otel()` takes. */
const OTEL_OPTIONS = [
  'meterProvider',
  'tracerProvider',
  'loggerProvider',
  'metrics',
  'spans',
  'buckets',
] as const;

/** Checks `otel()`'s options; throws `ERR_TLOB_INVALID_ARG` naming the first bad one. */
export function checkOtelOptions(options: unknown): CheckedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options)))
    throw invalid('an options object', options);
  const o = (options ?? {}) as OtelOptions;
  refuseUnknownOptions(o, OTEL_OPTIONS, 'tlob otel');
  if (o.metrics !== undefined && typeof o.metrics !== 'boolean')
    throw invalid('`metrics` to be a boolean', o.metrics);
  if (o.spans !== undefined && !SPAN_MODES.includes(o.spans as string))
    throw invalid('`spans` to be "attributes", "child", "over-budget" or "none"', o.spans);
  return {
    meterProvider: checkProvider<MeterProvider>(o.meterProvider, 'meterProvider', 'getMeter'),
    tracerProvider: checkProvider<TracerProvider>(o.tracerProvider, 'tracerProvider', 'getTracer'),
    loggerProvider: checkProvider<LoggerProviderLike>(o.loggerProvider, 'loggerProvider', 'getLogger'),
    metrics: o.metrics ?? true,
    spans: o.spans ?? 'attributes',
    buckets: checkBuckets(o.buckets),
  };
}

/**
 * The options of the preload, from the environment: `TLOB_OTEL_SPANS` (a span mode, any case) and
 * `TLOB_OTEL_METRICS` (a switch, on by default). Providers are the global ones. Throws
 * `ERR_TLOB_INVALID_ARG` naming the variable for a bad value.
 */
export function optionsFromEnvironment(env: NodeJS.ProcessEnv): OtelOptions {
  const options: OtelOptions = { metrics: environmentSwitch(env, 'TLOB_OTEL_METRICS', true, 'tlob otel') };
  const spans = env.TLOB_OTEL_SPANS;
  if (spans !== undefined && spans !== '') {
    const mode = spans.toLowerCase();
    if (!SPAN_MODES.includes(mode))
      throw invalid('`TLOB_OTEL_SPANS` to be attributes, child, over-budget or none', spans);
    options.spans = mode as SpanMode;
  }
  return options;
}

/**
 * Whether the environment asks for the OpenTelemetry export: `TLOB_OTEL` is `1`, `true`, `yes` or
 * `on` (off when unset, empty, `0`, `false`, `no` or `off`; anything else throws `ERR_TLOB_INVALID_ARG`).
 */
export function exportAskedFor(env: NodeJS.ProcessEnv): boolean {
  return environmentSwitch(env, 'TLOB_OTEL', false, 'tlob otel');
}
