import { AsyncLocalStorage } from 'node:async_hooks';
import { tlob, type Violation, type WindowResult, type WindowStart } from '../index.js';
import { checkEnvironment, type Environment } from '../probes/preload-config.js';
import { clearInterval, setInterval } from '../real-timers.js';
import { apiGlobals, loadApi } from './api.js';
import { WindowMetrics } from './metrics.js';
import {
  type CheckedOptions,
  checkOtelOptions,
  exportAskedFor,
  type OtelOptions,
  optionsFromEnvironment,
} from './options.js';
import { globalLoggerProvider, WindowSpans } from './spans.js';

/**
 * Whether an application registered any global OpenTelemetry provider (meter, tracer or Logs API
 * logger). The API keeps them on `globalThis` under its major version's key; without them every
 * instrument and span is the no-op, and exporting windows would only cost.
 */
function globalProvidersRegistered(): boolean {
  const globals = apiGlobals();
  return (
    globals?.metrics !== undefined || globals?.trace !== undefined || globalLoggerProvider() !== undefined
  );
}

/** How often the global providers are looked for while none is registered. */
const LOOK_FOR_PROVIDERS_MS = 100;

/**
 * Runs a function in the context this module was loaded in: the timer that looks for providers
 * must not carry the context of a window that happened to call `otel()`.
 */
const inLoadContext = AsyncLocalStorage.snapshot();

/** The running OpenTelemetry export of tlob's windows. */
export interface OtelExport {
  /** The options in force (defaults applied; providers `undefined` mean the global ones). */
  readonly options: CheckedOptions;
  /**
   * Stops exporting: unsubscribes from tlob's channels. Leaves no span open (a window's child span
   * is made at its stop); windows still open are not exported. Idempotent.
   */
  disable(): void;
}

/** The export in force, shared by every copy of tlob/otel in the process. */
const ACTIVE = Symbol.for('tlob.otel.active');
type Registry = { [ACTIVE]?: OtelExport };

/**
 * Exports tlob's windows to OpenTelemetry: metrics of every finished window and violation, and
 * the result and violations of windows that run inside an active span. It subscribes to
 * `tlob:start`, `tlob:stop` and `tlob:error`; nothing is added to the monitored calls while it is
 * off. With the global providers and none registered yet (only the no-op API), it subscribes to
 * nothing until an SDK registers one (looked for every 100 ms), so it costs nothing meanwhile. A second call replaces the first. Throws `ERR_TLOB_MISSING_PEER` when `@opentelemetry/api`
 * is not installed and `ERR_TLOB_INVALID_ARG` for bad options.
 * @example
 * import { otel } from 'tlob/otel';
 * otel({ spans: 'over-budget' }); // global providers
 */
export function otel(options?: OtelOptions): OtelExport {
  return startExport(options, false);
}

/** `otel()`; with `atOnce`, subscribes even while only the no-op API is there (the preload's case). */
function startExport(options: OtelOptions | undefined, atOnce: boolean): OtelExport {
  const checked = checkOtelOptions(options);
  const api = loadApi();
  const metrics = checked.metrics
    ? new WindowMetrics(api, checked.meterProvider, checked.buckets)
    : undefined;
  // with `spans: 'none'` it still turns violations into log-based events when a logger provider is there
  const spans = new WindowSpans(api, checked.tracerProvider, checked.spans, checked.loggerProvider);
  const spansTrackStarts = checked.spans !== 'none';

  const unsubscribe: (() => void)[] = [];
  const subscribe = () => {
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
  };
  const globalsOnly =
    checked.meterProvider === undefined &&
    checked.tracerProvider === undefined &&
    checked.loggerProvider === undefined;
  if (atOnce || !globalsOnly || globalProvidersRegistered()) {
    subscribe();
  } else {
    // Nothing but the no-op API: subscribe to nothing (a window costs nothing more), and look for
    // an SDK registered later, with an unref'd timer that never holds the process open.
    const looking = inLoadContext(() =>
      setInterval(() => {
        if (!globalProvidersRegistered()) return;
        clearInterval(looking);
        subscribe();
      }, LOOK_FOR_PROVIDERS_MS).unref(),
    );
    unsubscribe.push(() => clearInterval(looking));
  }

  const registry = globalThis as Registry;
  registry[ACTIVE]?.disable();
  const handle: OtelExport = {
    options: checked,
    disable() {
      for (const off of unsubscribe.splice(0)) off();
      metrics?.disable();
      if (registry[ACTIVE] === handle) delete registry[ACTIVE];
    },
  };
  registry[ACTIVE] = handle;
  return handle;
}

/**
 * What the preload (`tlob/register`) calls: with `TLOB_OTEL=1` starts the export with the global
 * providers and the options of `TLOB_OTEL_SPANS` and `TLOB_OTEL_METRICS`; otherwise does nothing.
 * A bad value of any of the three throws `ERR_TLOB_INVALID_ARG` naming it, even with the export off,
 * as does an `env` that is not an object.
 */
export function otelFromEnvironment(env: Environment = process.env): OtelExport | undefined {
  checkEnvironment(env, 'otelFromEnvironment');
  const asked = exportAskedFor(env);
  const options = optionsFromEnvironment(env);
  if (!asked) return undefined;
  // The user asked for the export, and applications register their SDK after the preload ran,
  // often in the same tick as their first windows: subscribe at once rather than look for it.
  return startExport(options, true);
}
