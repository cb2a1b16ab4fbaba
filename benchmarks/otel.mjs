// Cost per window of tlob/otel (DESIGN §7): a synchronous `tlob.run` window alone, and with its
// result exported to OpenTelemetry through a real SDK (@opentelemetry/sdk-metrics,
// @opentelemetry/sdk-trace-base): metrics only, metrics and the result as attributes of the active
// span, metrics and a child span per window; plus the export started while the API is the no-op
// and, for scale, an OpenTelemetry span alone and the four histogram records a window makes. Each variant runs in its own process, alternately
// over several rounds; the table shows medians and ratios from this one run.
//
//   node benchmarks/otel.mjs [--rounds=5]
import { fileURLToPath } from 'node:url';
import { argValue, progress } from './lib/child.mjs';
import { importTlob, importTlobOtel } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';
import { runRounds } from './lib/rounds.mjs';
import { fmt, spread, table, times } from './lib/summary.mjs';
import { nsPerCall } from './lib/timing.mjs';

const self = fileURLToPath(import.meta.url);

/** The observed function: a few ns of arithmetic the JIT cannot drop. */
function work(i) {
  return (i * 31) ^ 7;
}

const options = { budget: '10s' };

/** The application's SDK: a MeterProvider read by a reader that never exports, a tracer provider
 * with a BatchSpanProcessor and a no-op exporter, the async-hooks context manager. */
async function sdk() {
  const { context, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  class Reader extends MetricReader {
    onShutdown = async () => {};
    onForceFlush = async () => {};
  }
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const noopExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(noopExporter, { maxQueueSize: 1 << 16 })],
  });
  return {
    meterProvider: new MeterProvider({ readers: [new Reader()] }),
    tracerProvider,
    tracer: tracerProvider.getTracer('bench'),
    /** Runs `fn` with a span active (as inside an instrumented request). */
    inSpan: (fn) =>
      context.with(
        trace.setSpan(context.active(), tracerProvider.getTracer('bench').startSpan('request')),
        fn,
      ),
  };
}

/** `tlob.run` around the call, optionally with `otel(otelOptions)` on the SDK, inside a span or not. */
function windowVariant(label, otelOptions, { inSpan = false } = {}) {
  return {
    label,
    async run() {
      const { tlob } = await importTlob();
      tlob.reactor('nop');
      let s;
      if (otelOptions !== undefined) {
        const { otel } = await importTlobOtel();
        s = otelOptions === 'noop' ? undefined : await sdk();
        otel(
          s === undefined
            ? {}
            : { meterProvider: s.meterProvider, tracerProvider: s.tracerProvider, ...otelOptions },
        );
      }
      const op = () => tlob.run('window', options, work);
      return inSpan ? s.inSpan(() => nsPerCall(op)) : nsPerCall(op);
    },
  };
}

const variants = {
  tlob: windowVariant('`tlob.run` window alone', undefined),
  noop: windowVariant('+ `otel()`, OpenTelemetry API without SDK (no-op)', 'noop'),
  metrics: windowVariant("+ `otel({ spans: 'none' })`: metrics", { spans: 'none' }),
  attributes: windowVariant(
    "+ `otel({ spans: 'attributes' })` inside an active span",
    { spans: 'attributes' },
    { inSpan: true },
  ),
  child: windowVariant(
    "+ `otel({ spans: 'child' })` inside an active span",
    { spans: 'child' },
    { inSpan: true },
  ),
  overBudget: windowVariant(
    "+ `otel({ spans: 'over-budget' })` inside an active span (none over)",
    { spans: 'over-budget' },
    { inSpan: true },
  ),
  records: {
    label: 'for scale: 4 × `histogram.record` alone (same SDK, attributes built once)',
    async run() {
      const s = await sdk();
      const histogram = s.meterProvider.getMeter('bench').createHistogram('bench.duration', { unit: 's' });
      const attributes = ['elapsed', 'running', 'waiting', 'sleeping'].map((state) => ({ name: 'w', state }));
      return nsPerCall((i) => {
        for (let k = 0; k < 4; k++) histogram.record(i * 1e-9, attributes[k]);
        return i;
      });
    },
  },
  span: {
    label: 'for scale: an OpenTelemetry `startActiveSpan`/`end` alone (same SDK)',
    async run() {
      const s = await sdk();
      return nsPerCall((i) =>
        s.tracer.startActiveSpan('sync', (span) => {
          const result = work(i);
          span.end();
          return result;
        }),
      );
    },
  },
};

async function parent() {
  const rounds = Number(argValue('rounds', '5'));
  progress(`otel: ${Object.keys(variants).length} variants × ${rounds} rounds`);
  const r = await runRounds(self, Object.keys(variants), { rounds });
  const ns = (name) => r[name].ns;
  const rows = Object.keys(variants).map((name) => [
    variants[name].label,
    fmt(ns(name)),
    spread(r[name].samples.map((x) => x.ns)),
    fmt(r[name].wallNs),
    name === 'tlob' || name === 'span' || name === 'records' ? '—' : fmt(ns(name) - ns('tlob')),
    times(ns(name) / ns('tlob')),
    times(ns(name) / ns('span')),
  ]);
  console.log(
    [
      `_${machineLine()} · median of ${rounds} processes × 9 batches · CPU time · a synchronous window per call_`,
      '',
      table(
        ['variant', 'CPU ns/window', 'spread', 'wall ns/window', 'added ns', '÷ tlob alone', '÷ OTel span'],
        rows,
      ),
    ].join('\n'),
  );
}

const variant = argValue('variant', undefined);
if (variant !== undefined) console.log(JSON.stringify(await variants[variant].run()));
else await parent();
