// Cost of one monitored synchronous call (DESIGN §6), in ns per call, against a
// bare call, hand-written wrappers and an OpenTelemetry span. Each variant runs in its own process,
// alternately over several rounds; the table shows medians and ratios from this one run.
//
//   node benchmarks/sync-call.mjs [--rounds=5] [--profile]
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { argValue, progress } from './lib/child.mjs';
import { importTlob } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';
import { profileVariants } from './lib/profile.mjs';
import { runRounds } from './lib/rounds.mjs';
import { fmt, spread, table, times, verdict } from './lib/summary.mjs';
import { nsPerCall } from './lib/timing.mjs';

const self = fileURLToPath(import.meta.url);

/** The observed function: a few ns of arithmetic the JIT cannot drop. */
function work(i) {
  return (i * 31) ^ 7;
}

/** A generic hand-written wrapper, the shape every wrapping tool starts from. */
function closureWrap(fn) {
  return function wrapped(...args) {
    return Reflect.apply(fn, this, args);
  };
}

/** The same wrapper timing each call with two `performance.now()` reads. */
const clockSink = { total: 0 };
function twoClockWrap(fn) {
  return function wrapped(...args) {
    const t0 = performance.now();
    const result = Reflect.apply(fn, this, args);
    clockSink.total += performance.now() - t0;
    return result;
  };
}

/**
 * The least a monitor of synchronous calls must do per call, for reading the targets: two clock
 * reads, an object naming the call (what `tlob.current()` hands out) that becomes the current one
 * and is restored after, the budget check and a per-name count and sum (tlob keeps a histogram).
 */
class FloorWindow {
  constructor(name, id, budgetNs, startNs, parent) {
    this.name = name;
    this.id = id;
    this.budgetNs = budgetNs;
    this.startNs = startNs;
    this.runningNs = 0;
    this.parent = parent;
  }
}
const floorState = { current: undefined, nextId: 1, count: 0, sumNs: 0, over: 0 };
function floorWrap(fn, name, budgetNs) {
  return function wrapped(...args) {
    const s = floorState;
    const window = new FloorWindow(name, s.nextId++, budgetNs, performance.now() * 1e6, s.current);
    s.current = window;
    let result;
    try {
      result = Reflect.apply(fn, this, args);
    } finally {
      s.current = window.parent;
    }
    const elapsed = performance.now() * 1e6 - window.startNs;
    window.runningNs = elapsed;
    s.count++;
    s.sumNs += elapsed;
    if (elapsed >= budgetNs) s.over++;
    return result;
  };
}

async function loadTlob(enabled) {
  const { tlob } = await importTlob();
  tlob.reactor('nop');
  if (enabled) tlob.enable();
  else tlob.disable();
  return tlob;
}

async function otelTracer(withProcessor) {
  const { context, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const noopExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  const spanProcessors = withProcessor ? [new BatchSpanProcessor(noopExporter)] : [];
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors }));
  return trace.getTracer('bench');
}

const runOptions = { budget: '10s' };
const startOptions = { budget: '10s', name: 'sync-start' };
let k = 0;
const body = () => work(k++);

/** `tlob.run` around the call, with the same name and options every time, as a call site does. */
const runOp = (tlob) => () => tlob.run('sync-run', runOptions, body);

/** A window started before the call and stopped right after it. */
const startStopOp = (tlob) => (i) => {
  const window = tlob.start(startOptions);
  const result = work(i);
  window.stop();
  return result;
};

/** An OpenTelemetry span made active around the call and ended after it. */
const spanOp = (tracer) => (i) =>
  tracer.startActiveSpan('sync', (span) => {
    const result = work(i);
    span.end();
    return result;
  });

/** Each variant: a label for the table and a setup returning the `op(i)` to time. */
const variants = {
  bare: { label: 'bare call', setup: async () => work },
  closure: { label: 'hand closure wrapper', setup: async () => closureWrap(work) },
  twoClock: { label: 'hand wrapper + 2× performance.now()', setup: async () => twoClockWrap(work) },
  floor: {
    label: 'floor: two clocks + a window object made current + budget check + count',
    setup: async () => floorWrap(work, 'floor', 10e9),
  },
  alsRun: {
    label: 'AsyncLocalStorage.run alone (reference)',
    setup: async () => {
      const als = new AsyncLocalStorage();
      const store = { id: 1 };
      return (i) => als.run(store, work, i);
    },
  },
  runOn: { label: '`tlob.run` enabled', setup: async () => runOp(await loadTlob(true)) },
  runOff: { label: '`tlob.run` disabled', setup: async () => runOp(await loadTlob(false)) },
  attachOn: {
    label: "a probe: `tlob.attach(obj, 'work', { budget: '10s' })` enabled",
    setup: async () => {
      const tlob = await loadTlob(true);
      const target = { work };
      tlob.attach(target, 'work', { budget: '10s', name: 'sync-attach' });
      return (i) => target.work(i);
    },
  },
  startOn: { label: '`tlob.start()`/`stop()` enabled', setup: async () => startStopOp(await loadTlob(true)) },
  startOnBusy: {
    label: '`tlob.start()`/`stop()` enabled, another window open (hooks already on)',
    setup: async () => {
      const tlob = await loadTlob(true);
      // A window that stays open (its promise never settles) keeps the scheduler hooks enabled, as
      // in a server with requests in flight: each batch then runs inside a continuation the hooks saw.
      tlob.run('keep-open', { budget: '3600s' }, () => new Promise(() => {}));
      return startStopOp(tlob);
    },
  },
  startOff: {
    label: '`tlob.start()`/`stop()` disabled',
    setup: async () => startStopOp(await loadTlob(false)),
  },
  startAloneOff: {
    label: '`tlob.start()` disabled (no `stop()`)',
    setup: async () => {
      const tlob = await loadTlob(false);
      return (i) => (tlob.start(startOptions) === undefined ? i : work(i));
    },
  },
  otel: {
    label: 'OTel `startActiveSpan`/`end` (no span processor)',
    setup: async () => spanOp(await otelTracer(false)),
  },
  otelBatch: {
    label: 'OTel `startActiveSpan`/`end` (BatchSpanProcessor, no-op exporter)',
    setup: async () => spanOp(await otelTracer(true)),
  },
};

/** Primitives the tlob call path is made of, for the breakdown under the main table. */
const primitives = {
  clockRead: {
    label: '`performance.now()` (one read)',
    setup: async () => () => performance.now(),
  },
  enterWith: {
    label: '`AsyncLocalStorage.enterWith` twice (enter, leave)',
    setup: async () => {
      const als = new AsyncLocalStorage();
      const store = { id: 1 };
      return (i) => {
        als.enterWith(store);
        als.enterWith(undefined);
        return i;
      };
    },
  },
  microtask: {
    label: '`queueMicrotask` of an empty function (queued and run)',
    setup: async () => {
      const noop = () => {};
      return (i) => {
        queueMicrotask(noop);
        return i;
      };
    },
  },
  parseBudget: {
    label: "`parseBudget('10s')`",
    setup: async () => {
      const { parseBudget } = await importTlob();
      return () => parseBudget('10s');
    },
  },
};

const all = { ...variants, ...primitives };

async function child(name) {
  const op = await all[name].setup();
  console.log(JSON.stringify(await nsPerCall(op)));
}

async function parent() {
  const rounds = Number(argValue('rounds', '5'));
  progress(`sync-call: ${Object.keys(all).length} variants × ${rounds} rounds`);
  const r = await runRounds(self, Object.keys(all), { rounds });
  const ns = (name) => r[name].ns;
  const clock = ns('twoClock');
  const otel = ns('otel');
  const rows = Object.keys(variants).map((name) => [
    variants[name].label,
    fmt(ns(name)),
    spread(r[name].samples.map((x) => x.ns)),
    fmt(r[name].wallNs),
    times(ns(name) / ns('closure')),
    times(ns(name) / clock),
    times(ns(name) / otel),
  ]);
  const primitiveRows = Object.keys(primitives).map((name) => [
    primitives[name].label,
    fmt(ns(name)),
    spread(r[name].samples.map((x) => x.ns)),
    fmt(r[name].wallNs),
  ]);
  const lines = [
    `_${machineLine()} · median of ${rounds} processes × 9 batches · ratios of CPU time_`,
    '',
    table(
      ['variant', 'CPU ns/call', 'spread', 'wall ns/call', '÷ closure', '÷ two-clock', '÷ OTel span'],
      rows,
    ),
    '',
    'Targets (DESIGN §6) against an OpenTelemetry span (the two-clock ratios are in the table):',
    '',
    verdict(
      ns('runOn') <= otel / 10,
      `${variants.runOn.label}: ${times(ns('runOn') / otel)} an OTel span without processor (target ≤ 0.1×)`,
    ),
    ...['startOn', 'startOnBusy'].map((name) =>
      verdict(
        ns(name) <= otel / 3,
        `${variants[name].label}: ${times(ns(name) / otel)} an OTel span without processor (target ≤ 0.33×)`,
      ),
    ),
    '',
    'Call-path targets (ratios in this run):',
    '',
    ...['runOn', 'attachOn'].map((name) =>
      verdict(
        ns(name) <= 2 * clock,
        `${variants[name].label}: ${times(ns(name) / clock)} the two-clock wrapper (target ≤ 2×)`,
      ),
    ),
    `For reading: the floor (the least mechanism, first table) is ${times(ns('floor') / clock)} the two-clock wrapper; \`tlob.run\` is ${times(ns('runOn') / ns('floor'))} the floor.`,
    verdict(
      ns('startAloneOff') - ns('bare') <= 15,
      `${variants.startAloneOff.label}: ${fmt(ns('startAloneOff') - ns('bare'))} ns over a bare call (target ≤ 15 ns)`,
    ),
    '',
    'Building blocks, for reading the table above:',
    '',
    table(['primitive', 'CPU ns/call', 'spread', 'wall ns/call'], primitiveRows),
  ];
  console.log(lines.join('\n'));
  if (process.argv.includes('--profile')) {
    console.log(
      `\n${await profileVariants(self, ['runOn', 'attachOn', 'startOn', 'startOnBusy', 'startAloneOff'])}`,
    );
  }
}

const variant = argValue('variant', undefined);
if (variant !== undefined) await child(variant);
else await parent();
