// The HTTP server of benchmarks/http.mjs, one process per run: `node http-server.cjs <variant>`
// with an IPC channel. CommonJS so that OpenTelemetry's HTTP instrumentation is registered before
// `node:http` is first required, as its documentation asks. Listens on 127.0.0.1 (a free port),
// sends `{ port }` when ready, and on the message 'stats' replies with what it observed and exits.
'use strict';

const variant = process.argv[2];
let observed = () => ({});
let wrap = (handler) => handler;

if (variant === 'otel') {
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
  observed = async () => {
    await processor.forceFlush();
    return { spans };
  };
} else if (variant === 'tlob') {
  const { tlob } = require('tlob');
  tlob.reactor('nop');
  const options = { budget: '50ms' };
  wrap = (handler) => (req, res) => tlob.run('req', options, () => handler(req, res));
  observed = () => {
    const s = tlob.stats().find((x) => x.name === 'req');
    return { windows: s?.count ?? 0, violations: s?.violations ?? 0, runningP50Ns: s?.running.p50 ?? 0 };
  };
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
process.on('message', async (message) => {
  if (message !== 'stats') return;
  process.send({ stats: await observed() }, () => process.exit(0));
});
