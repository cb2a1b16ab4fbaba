// The HTTP server of benchmarks/http.mjs, one process per run: `node http-server.cjs <variant>`
// with an IPC channel. CommonJS so that OpenTelemetry's HTTP instrumentation is registered before
// `node:http` is first required, as its documentation asks. Listens on 127.0.0.1 (a free port),
// sends `{ port }` when ready; on the message 'mark' starts counting its CPU time, and on 'stats'
// replies with that CPU time and what it observed, and exits.
'use strict';

const { floorHeap, floorHistogram } = require('./lib/floor.cjs');

const variant = process.argv[2];
let observed = () => ({});
let wrap = (handler) => handler;
let onMark = () => {};

/**
 * The parts of the floor, cumulative: at level k the floor does the parts up to k. Level 0 is the
 * bare mechanism with a `Req` object as the store; the last is the whole floor.
 */
const FLOOR_PARTS = [
  'the bare mechanism, with an object per request as the store',
  '+ the end seen by the settle hook (a scan of the promises in flight per settled promise)',
  '+ two clock reads per switch until the end, one at the start and one at the end',
  '+ the deadline inserted into a heap at the start and removed at the end',
  '+ one histogram record at the end (the whole floor)',
];
/** The whole floor's level; the level after it runs every request in `tlob.run` instead. */
const FLOOR = FLOOR_PARTS.length - 1;
const TLOB_LEVEL = FLOOR + 1;
let floorLevel = FLOOR;
let setFloorLevel = () => {};
let periodRequests = 0;
/** The servers of the throughput target, compared inside one server by the `paired` variant (`setUpPaired`). */
const PAIRED_LEVELS = ['plain', 'hook', 'tlob'];

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

/**
 * The bare mechanism tlob's accounting is built on, with nothing accounted: each request in its own
 * AsyncLocalStorage context, a before/after hook reading the store on every continuation. Returns
 * what it observed and the hook and storage, to be turned off and on (`setUpPaired`).
 */
function setUpHook() {
  const { AsyncLocalStorage, createHook } = require('node:async_hooks');
  const als = new AsyncLocalStorage();
  let switches = 0;
  const onSwitch = () => {
    if (als.getStore() !== undefined) switches++;
  };
  const hook = createHook({ before: onSwitch, after: onSwitch }).enable();
  wrap = (handler) => (req, res) => als.run({ req }, handler, req, res);
  return { observed: () => ({ switches }), hook, als };
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
  observed = setUpHook().observed;
} else if (variant === 'floor') {
  observed = setUpFloor();
} else if (variant === 'floor-parts') {
  observed = setUpFloorParts();
} else if (variant === 'paired') {
  observed = setUpPaired();
} else if (variant !== 'plain') {
  throw new Error(`unknown variant ${variant}`);
}

/**
 * The least any monitor doing tlob's job does per request, on top of the bare mechanism: a small
 * object per request, carried by `AsyncLocalStorage.run`; two clock reads per switch of the
 * request's context until it ends (one in `before`, one in `after`, their difference added to its
 * running time);
 * its deadline inserted into a heap at the start and removed at the end; the end seen when the
 * handler's promise settles (`v8.promiseHooks.onSettled`, compared with the few promises in
 * flight, as marking the promise handled with a `then` is not allowed); one histogram record of
 * the elapsed time at the end. No state machine, no waiting/sleeping split, no parents, no budget
 * check, no timer.
 */
function setUpFloor() {
  const { AsyncLocalStorage, createHook } = require('node:async_hooks');
  const { promiseHooks } = require('node:v8');
  const { performance } = require('node:perf_hooks');
  const als = new AsyncLocalStorage();
  class Req {
    constructor(startNs) {
      this.startNs = startNs;
      this.runningNs = 0;
      this.lastNs = startNs;
      this.heapIndex = -1;
      this.ended = false;
    }
  }
  const { items, insert, remove } = floorHeap();
  const histogram = floorHistogram();
  // the promises of the requests in flight, scanned on every settlement
  const slots = [];
  const owners = [];
  const onSettled = (promise) => {
    for (let i = 0; i < slots.length; i++) {
      if (slots[i] !== promise) continue;
      const r = owners[i];
      slots[i] = slots[slots.length - 1];
      owners[i] = owners[owners.length - 1];
      slots.pop();
      owners.pop();
      r.ended = true;
      if (floorLevel < 2) return;
      const now = performance.now() * 1e6;
      if (floorLevel >= 3) remove(r);
      if (floorLevel >= FLOOR) histogram.record(now - r.startNs);
      return;
    }
  };
  let stopSettled = promiseHooks.onSettled(onSettled);
  const budgetNs = 50e6;
  // a request that ended is not accounted any more (its response's write callbacks run after)
  const onBefore = () => {
    const r = als.getStore();
    if (r !== undefined && !r.ended && floorLevel >= 2) r.lastNs = performance.now() * 1e6;
  };
  const onAfter = () => {
    const r = als.getStore();
    if (r !== undefined && !r.ended && floorLevel >= 2) r.runningNs += performance.now() * 1e6 - r.lastNs;
  };
  const hook = createHook({ before: onBefore, after: onAfter }).enable();
  wrap = (handler) => (req, res) => {
    const r = new Req(floorLevel >= 2 ? performance.now() * 1e6 : 0);
    if (floorLevel >= 3) insert(r, r.startNs + budgetNs);
    const promise = als.run(r, handler, req, res);
    if (floorLevel >= 1) {
      slots.push(promise);
      owners.push(r);
    }
    periodRequests++;
    return promise;
  };
  /** Sets the floor's level: requests in flight keep the parts they started with, or lose them. */
  setFloorLevel = (level) => {
    if (level > FLOOR) {
      hook.disable();
      als.disable(); // Node 22: an enabled storage costs every new promise a copy of its store
    } else if (floorLevel > FLOOR) hook.enable();
    if ((level < 1 || level > FLOOR) && stopSettled !== undefined) {
      stopSettled();
      stopSettled = undefined;
      slots.length = owners.length = 0;
    } else if (level >= 1 && level <= FLOOR && stopSettled === undefined)
      stopSettled = promiseHooks.onSettled(onSettled);
    if (level < 3 || level > FLOOR) {
      for (const r of items) r.heapIndex = -1;
      items.length = 0;
    }
    floorLevel = level;
  };
  return () => ({ windows: histogram.count(), inFlight: items.length });
}

/**
 * The floor's parts measured inside one server: the level moves through the floor's parts
 * (`FLOOR_PARTS`), then to every request in `tlob.run` (with the floor's hooks and storage off),
 * every 100 ms (`moveThroughLevels`), so that neighbouring periods (the same load, the same JIT
 * state) can be compared. Between servers the CPU per request moves by ±10–30% on a shared
 * machine; between neighbouring 100 ms periods of one server it moves far less.
 */
function setUpFloorParts() {
  const observe = setUpFloor();
  const floorWrap = wrap;
  setUpTlob();
  const tlobWrap = wrap;
  const { tlob } = require(process.env.TLOB_BENCH_CJS || 'tlob');
  wrap = (handler) => {
    const floorHandler = floorWrap(handler);
    const tlobHandler = tlobWrap(handler);
    return (req, res) => {
      if (floorLevel <= FLOOR) return floorHandler(req, res);
      periodRequests++;
      return tlobHandler(req, res);
    };
  };
  const periods = moveThroughLevels(TLOB_LEVEL + 1, (level) => {
    setFloorLevel(level);
    if (level === TLOB_LEVEL) tlob.enable();
    else tlob.disable();
  });
  return () => ({ ...observe(), parts: FLOOR_PARTS, periods });
}

/**
 * Moves the server through `count` levels (`setLevel(level)`) every 100 ms, in order, or
 * forwards then backwards (`backAndForth`, so that each level follows the others about as often),
 * and once marked keeps each period's CPU time and requests (`periodRequests`), counted from
 * `settleMs` after the switch, with the number of its cycle (a pass through the `count` levels;
 * the mark makes the next period start one). Returns the list of periods it fills.
 */
function moveThroughLevels(count, setLevel, { backAndForth = false, settleMs = 0 } = {}) {
  const PERIOD_MS = 100;
  const levelAt = (step) => {
    const i = step % (backAndForth ? 2 * count : count);
    return i < count ? i : 2 * count - 1 - i;
  };
  const periods = [];
  let measuring = false;
  let step = 0;
  let level = levelAt(0);
  let cpu;
  const startPeriod = () => {
    cpu = process.cpuUsage();
    periodRequests = 0;
  };
  setLevel(level);
  startPeriod();
  setInterval(() => {
    if (cpu !== undefined && measuring) {
      const used = process.cpuUsage(cpu);
      const cycle = Math.floor(step / count);
      periods.push({ level, cycle, cpuUs: used.user + used.system, requests: periodRequests });
    }
    cpu = undefined;
    level = levelAt(++step);
    setLevel(level);
    if (settleMs > 0) setTimeout(startPeriod, settleMs).unref();
    else startPeriod();
  }, PERIOD_MS).unref();
  onMark = () => {
    measuring = true;
    step = count * Math.ceil(step / count) - 1;
  };
  return periods;
}

/**
 * The servers of the throughput target inside one server, so that they are compared under the same
 * load and on the same machine state: the server moves through `PAIRED_LEVELS` every 100 ms,
 * forwards then backwards, and keeps each period's CPU time and requests counted from 20 ms after
 * the switch (the requests in flight finish on the level they started on). Between separate servers the CPU per request moves
 * by ±10–30% on a shared machine, more than the differences measured here. OpenTelemetry is not
 * among them: what it keeps alive (its spans, queued for export) is collected by major
 * collections that would land in the other levels' periods.
 */
function setUpPaired() {
  const bare = setUpHook();
  const hookWrap = wrap;
  const windows = setUpTlob();
  const tlobWrap = wrap;
  const { tlob } = require(process.env.TLOB_BENCH_CJS || 'tlob');
  const HOOK = PAIRED_LEVELS.indexOf('hook');
  const TLOB = PAIRED_LEVELS.indexOf('tlob');
  let level = HOOK; // as `setUpHook` leaves it: the first level turns the hook off
  wrap = (handler) => {
    const hookHandler = hookWrap(handler);
    const tlobHandler = tlobWrap(handler);
    return (req, res) => {
      periodRequests++;
      if (level === HOOK) return hookHandler(req, res);
      if (level === TLOB) return tlobHandler(req, res);
      return handler(req, res);
    };
  };
  const periods = moveThroughLevels(
    PAIRED_LEVELS.length,
    (next) => {
      if (next === HOOK) bare.hook.enable();
      else if (level === HOOK) {
        bare.hook.disable();
        bare.als.disable(); // Node 22: an enabled storage costs every new promise a copy of its store
      }
      if (next === TLOB) tlob.enable();
      else tlob.disable();
      level = next;
    },
    { backAndForth: true, settleMs: 20 },
  );
  return () => ({ ...bare.observed(), ...windows(), levels: PAIRED_LEVELS, periods });
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
const v8 = require('node:v8');
let gcProfiler;
let usedMark = 0;
/**
 * Bytes allocated on the JS heap since `mark`: what each collection found in use before it, less
 * what the one before left, plus what is in use now beyond what the last one left.
 */
function allocatedSinceMark() {
  const { statistics } = gcProfiler.stop();
  let allocated = 0;
  let left = usedMark;
  for (const gc of statistics) {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - left;
    left = gc.afterGC.heapStatistics.usedHeapSize;
  }
  return allocated + v8.getHeapStatistics().used_heap_size - left;
}
process.on('message', async (message) => {
  if (message === 'mark') {
    onMark();
    gcProfiler = new v8.GCProfiler();
    gcProfiler.start();
    usedMark = v8.getHeapStatistics().used_heap_size;
    cpuMark = process.cpuUsage();
    process.send({ marked: true });
  } else if (message === 'stats') {
    const cpu = process.cpuUsage(cpuMark);
    const allocatedBytes = allocatedSinceMark();
    const stats = { ...(await observed()), cpuUs: cpu.user + cpu.system, allocatedBytes };
    process.send({ stats }, () => process.exit(0));
  }
});
