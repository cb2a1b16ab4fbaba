// tlob's windows in OpenTelemetry: an HTTP server whose handler runs under a 20 ms budget inside
// the request's span. The SDK here is the application's own: a MeterProvider read by the
// Prometheus exporter and a tracer provider (in-memory here; an OTLP exporter in production).
// `otel()` sends tlob's windows into whatever is registered.
//
// Run: node examples/opentelemetry.mjs   (it prints where its metrics are served; METRICS_PORT
// picks the port, else a free one; with STAY=1 it keeps serving them after its requests)
// Outside tlob's repository, install the SDK packages it uses first (versions whose peer ranges
// agree with each other): npm install @opentelemetry/api@1.9 @opentelemetry/context-async-hooks@2
//   @opentelemetry/exporter-prometheus@0.223 @opentelemetry/sdk-metrics@2 @opentelemetry/sdk-trace-base@2
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { tlob } from 'tlob';
import { otel } from 'tlob/otel';

// 1. The application's OpenTelemetry SDK.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const prometheus = new PrometheusExporter({ preventServerStart: true });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [prometheus] }));
const finishedSpans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(finishedSpans)] }),
);

// 2. tlob's windows into it: metrics, and each window's result on the span it runs in.
tlob.reactor('nop'); // the violations go to OpenTelemetry instead of stderr
otel({ spans: 'attributes' });

// 3. A handler under a budget, inside the request's span.
const tracer = trace.getTracer('example');
const spin = (ms) => {
  for (const end = performance.now() + ms; performance.now() < end; );
};
const server = http.createServer((req, res) => {
  tracer.startActiveSpan(`GET ${req.url}`, async (span) => {
    await tlob.run('handler', { budget: '20ms' }, async () => {
      spin(2); // parse the request
      await sleep(req.url === '/slow' ? 40 : 5); // the database
      res.end('ok');
    });
    span.end();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const metricsServer = http.createServer((req, res) => prometheus.getMetricsRequestHandler(req, res));
await new Promise((resolve) =>
  metricsServer.listen(Number(process.env.METRICS_PORT ?? 0), '127.0.0.1', resolve),
);
const metricsUrl = `http://127.0.0.1:${metricsServer.address().port}/metrics`;
console.log('metrics', metricsUrl);

let elapsedSum = 0;
tlob.subscribe('stop', (result) => {
  if (result.name === 'handler') elapsedSum += result.elapsedNs / 1e9;
});
for (let i = 0; i < 12; i++) {
  const res = await fetch(`http://127.0.0.1:${port}/${i % 6 === 5 ? 'slow' : 'items'}`);
  await res.text();
}
await sleep(10); // the last window's stop and span end after the response is out

// The last slow request's span: the window's result as attributes, the violation as an event.
const slow = finishedSpans.getFinishedSpans().findLast((s) => s.name === 'GET /slow');
console.log('span', slow.name, JSON.stringify(slow.attributes));
for (const event of slow.events) console.log('span event', event.name, JSON.stringify(event.attributes));
// What Prometheus scrapes: the duration histogram per state, violations, windows in flight.
const exposition = await (await fetch(metricsUrl)).text();
for (const line of exposition.split('\n')) {
  if (/^tlob_window_(duration_count|duration_sum|violations_total|active)\{/.test(line)) console.log(line);
}
console.log(JSON.stringify({ handlerWindows: 12, elapsedSum }));
server.close();
if (process.env.STAY !== '1') metricsServer.close();
