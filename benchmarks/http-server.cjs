// The HTTP server of benchmarks/http.mjs, one process per run: `node http-server.cjs <variant>`
// with an IPC channel. CommonJS so that OpenTelemetry's HTTP instrumentation is registered before
// `node:http` is first required, as its documentation asks. Listens on 127.0.0.1 (a free port),
// sends `{ port }` when ready; on the message 'mark' starts counting its CPU time, and on 'stats'
// replies with that CPU time and what it observed, and exits.
'use strict';

const variant = process.argv[2];
let observed = () => ({});
let wrap = (handler) => handler;

/** OpenTelemetry's HTTP instrumentation with a BatchSpanProcessor and a counting no-op exporter. */
function setUpOtelHttp() {
  const { context, trace } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
  let spans = 0;
  const countingExporter = {
    export(batch, done) {
      spans += batch.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  const processor = new BatchSpanProcessor(countingExporter, { maxQueueSize: 1 << 16 });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  trace.setGlobalTracerProvider(provider);
  const instrumentation = new HttpInstrumentation();
  instrumentation.setTracerProvider(provider);
  instrumentation.enable();
  return async () => {
    await processor.forceFlush();
    return { spans };
  };
}

/** Every request in a tlob window; with `otelOptions`, tlob/otel exports the windows (metrics to a
 * real MeterProvider whose reader never exports, spans to the global tracer provider). */
function setUpTlob(otelOptions) {
  // run.mjs points TLOB_BENCH_CJS at its snapshot of dist/ (see lib/load-tlob.mjs).
  const { tlob } = require(process.env.TLOB_BENCH_CJS || 'tlob');
  tlob.reactor('nop');
  if (otelOptions !== undefined) {
    const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
    const { otel } = require(process.env.TLOB_BENCH_CJS?.replace(/index\.cjs$/, 'otel.cjs') || 'tlob/otel');
    class Reader extends MetricReader {
      onShutdown = async () => {};
      onForceFlush = async () => {};
    }
    otel({ meterProvider: new MeterProvider({ readers: [new Reader()] }), ...otelOptions });
  }
  const options = { budget: '50ms' };
  wrap = (handler) => (req, res) => tlob.run('req', options, () => handler(req, res));
  return () => {
    const s = tlob.stats().find((x) => x.name === 'req');
    return { windows: s?.count ?? 0, violations: s?.violations ?? 0, runningP50Ns: s?.running.p50 ?? 0 };
  };
}

if (variant === 'otel') {
  observed = setUpOtelHttp();
} else if (variant === 'tlob') {
  observed = setUpTlob();
} else if (variant === 'tlob-metrics') {
  observed = setUpTlob({ spans: 'none' });
} else if (variant === 'otel-tlob-bare') {
  const spans = setUpOtelHttp();
  const windows = setUpTlob();
  observed = async () => ({ ...(await spans()), ...windows() });
} else if (variant === 'otel-tlob') {
  const spans = setUpOtelHttp();
  const windows = setUpTlob({ spans: 'child' });
  observed = async () => ({ ...(await spans()), ...windows() });
} else if (variant === 'hook') {
  // The bare mechanism tlob's accounting is built on, with nothing accounted: each request in its
  // own AsyncLocalStorage context, a before/after hook reading the store on every continuation.
  const { AsyncLocalStorage, createHook } = require('node:async_hooks');
  const als = new AsyncLocalStorage();
  let switches = 0;
  const onSwitch = () => {
    if (als.getStore() !== undefined) switches++;
  };
  createHook({ before: onSwitch, after: onSwitch }).enable();
  wrap = (handler) => (req, res) => als.run({ req }, handler, req, res);
  observed = () => ({ switches });
} else if (variant !== 'plain') {
  throw new Error(`unknown variant ${variant}`);
}

const http = require('node:http');

/** The request handler of every variant: a little asynchronous work, then a short answer. */
async function handle(_req, res) {
  await new Promise((resolve) => setImmediate(resolve));
  res.end('hello\n');
}

const server = http.createServer(wrap(handle));
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
let cpuMark = process.cpuUsage();
process.on('message', async (message) => {
  if (message === 'mark') {
    cpuMark = process.cpuUsage();
    process.send({ marked: true });
  } else if (message === 'stats') {
    const cpu = process.cpuUsage(cpuMark);
    const stats = { ...(await observed()), cpuUs: cpu.user + cpu.system };
    process.send({ stats }, () => process.exit(0));
  }
});
