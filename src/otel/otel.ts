import { tlob, type Violation, type WindowResult, type WindowStart } from '../index.js';
import { loadApi } from './api.js';
import { WindowMetrics } from './metrics.js';
import {
  type CheckedOptions,
  checkOtelOptions,
  isOn,
  type OtelOptions,
  optionsFromEnvironment,
} from './options.js';
import { WindowSpans } from './spans.js';

/** The running OpenTelemetry export of tlob's windows. */
export interface OtelExport {
  /** The options in force (defaults applied; providers `undefined` mean the global ones). */
  readonly options: CheckedOptions;
  /** Stops exporting: unsubscribes from tlob's channels. Idempotent. */
  disable(): void;
}

/** The export in force, shared by every copy of tlob/otel in the process. */
const ACTIVE = Symbol.for('tlob.otel.active');
type Registry = { [ACTIVE]?: OtelExport };

/**
 * Exports tlob's windows to OpenTelemetry: metrics of every finished window and violation, and
 * the result and violations of windows that run inside an active span. It subscribes to
 * `tlob:start`, `tlob:stop` and `tlob:error`; nothing is added to the monitored calls while it is
 * off. A second call replaces the first. Throws `ERR_TLOB_MISSING_PEER` when `@opentelemetry/api`
 * is not installed and `ERR_TLOB_INVALID_ARG` for bad options.
 * @example
 * import { otel } from 'tlob/otel';
 * otel({ spans: 'over-budget' }); // global providers
 */
export function otel(options?: OtelOptions): OtelExport {
  const checked = checkOtelOptions(options);
  const api = loadApi();
  const metrics = checked.metrics
    ? new WindowMetrics(api, checked.meterProvider, checked.buckets)
    : undefined;
  // with `spans: 'none'` it still turns violations into log-based events when a logger provider is there
  const spans = new WindowSpans(api, checked.tracerProvider, checked.spans, checked.loggerProvider);
  const spansTrackStarts = checked.spans !== 'none';

  const unsubscribe: (() => void)[] = [];
  if (metrics !== undefined || spansTrackStarts) {
    unsubscribe.push(
      tlob.subscribe('start', (message) => {
        metrics?.start(message as WindowStart);
        if (spansTrackStarts) spans.start(message as WindowStart);
      }),
    );
  }
  unsubscribe.push(
    tlob.subscribe('stop', (message) => {
      metrics?.stop(message as WindowResult);
      spans.stop(message as WindowResult);
    }),
    tlob.subscribe('error', (message) => {
      metrics?.violation(message as Violation);
      spans.violation(message as Violation);
    }),
  );

  const registry = globalThis as Registry;
  registry[ACTIVE]?.disable();
  const handle: OtelExport = {
    options: checked,
    disable() {
      for (const off of unsubscribe.splice(0)) off();
      if (registry[ACTIVE] === handle) delete registry[ACTIVE];
    },
  };
  registry[ACTIVE] = handle;
  return handle;
}

/**
 * What the preload (`tlob/register`) calls: with `TLOB_OTEL=1` starts the export with the global
 * providers and the options of `TLOB_OTEL_SPANS` and `TLOB_OTEL_METRICS`; otherwise does nothing.
 */
export function otelFromEnvironment(env: NodeJS.ProcessEnv = process.env): OtelExport | undefined {
  if (!isOn(env.TLOB_OTEL)) return undefined;
  return otel(optionsFromEnvironment(env));
}
