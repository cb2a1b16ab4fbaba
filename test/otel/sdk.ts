import { context, metrics } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  type DataPoint,
  type Histogram,
  type HistogramMetricData,
  MeterProvider,
  type MetricData,
  MetricReader,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach } from 'vitest';
import { tlob } from '../../src/index.js';
import type { OtelExport } from '../../src/otel/index.js';

/** A metric reader that collects on demand (the pattern of OpenTelemetry's own instrumentation tests). */
class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Real OpenTelemetry SDK providers with in-memory exporters, and the async-hooks context manager;
 * `views` as the MeterProvider takes them (a higher cardinality limit, say).
 */
export function createSdk(views: ViewOptions[] = []) {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader], views });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    processors: [new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  return {
    meterProvider,
    tracerProvider,
    loggerProvider,
    spanExporter,
    logExporter,
    tracer: tracerProvider.getTracer('test'),
    /** The metrics collected now, by name. */
    async metrics(): Promise<Map<string, MetricData>> {
      const { resourceMetrics } = await reader.collect();
      const all = resourceMetrics.scopeMetrics
        .filter((s) => s.scope.name === 'tlob')
        .flatMap((s) => s.metrics);
      return new Map(all.map((m) => [m.descriptor.name, m]));
    },
    /** The `tlob.window.duration` point of one window name and state, collected now. */
    async duration(name: string, state: string): Promise<DataPoint<Histogram> | undefined> {
      return durationPoint((await this.metrics()).get('tlob.window.duration'), name, state);
    },
    async shutdown(): Promise<void> {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      await loggerProvider.shutdown();
      context.disable();
    },
  };
}

/** The histogram point of `tlob.window.duration` for one window name and state. */
export function durationPoint(
  metric: MetricData | undefined,
  name: string,
  state: string,
): DataPoint<Histogram> | undefined {
  return (metric as HistogramMetricData | undefined)?.dataPoints.find(
    (p) => p.attributes['tlob.window.name'] === name && p.attributes['tlob.window.state'] === state,
  );
}

/** The value of a sum point (counter, up-down counter) with these attributes. */
export function sumValue(
  metric: MetricData | undefined,
  attributes: Record<string, string>,
): number | undefined {
  const point = (metric?.dataPoints as DataPoint<number>[] | undefined)?.find((p) =>
    Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
  );
  return point?.value;
}

export type Sdk = ReturnType<typeof createSdk>;

/**
 * Per test: a fresh SDK, the `'nop'` reactor (violations are expected), and afterwards the export
 * disabled and the SDK and global meter provider gone. Tests set `exporter` when they call `otel()`.
 */
export function useSdk(): { sdk: Sdk; exporter: OtelExport | undefined } {
  const state = { sdk: undefined as unknown as Sdk, exporter: undefined as OtelExport | undefined };
  let reactor: ReturnType<typeof tlob.reactor>;
  beforeEach(() => {
    state.sdk = createSdk();
    reactor = tlob.reactor('nop');
  });
  afterEach(async () => {
    state.exporter?.disable();
    state.exporter = undefined;
    tlob.reactor(reactor);
    metrics.disable();
    await state.sdk.shutdown();
  });
  return state;
}
