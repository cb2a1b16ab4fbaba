// What the watchdog costs and how fast it catches a blocked thread (DESIGN §6): `tlob.run` of a
// synchronous call and the cost per await inside a window, with the watchdog off and on (each
// variant in its own process, alternately over several rounds); the detection latency over 20
// blocked windows; and the memory the watchdog thread adds to the process.
//
//   node benchmarks/watchdog.mjs [--rounds=11] [--trials=20] [--latency-rounds=3]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { argValue, progress, runJsonChild } from './lib/child.mjs';
import { importTlob } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';
import { runRounds } from './lib/rounds.mjs';
import { fmt, median, spread, table, times, verdict } from './lib/summary.mjs';
import { nsPerAsyncUnit, nsPerCall } from './lib/timing.mjs';

const self = fileURLToPath(import.meta.url);
const awaits = 10000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function loadTlob(watchdog) {
  const { tlob } = await importTlob();
  tlob.reactor('nop');
  tlob.watchdog(watchdog);
  if (watchdog) {
    tlob.run('boot', { budget: '10s' }, () => 0); // the watchdog thread starts with the first deadline
    await sleep(300);
  }
  return tlob;
}

async function awaitLoop(n) {
  for (let i = 0; i < n; i++) await null;
}

function work(k) {
  return (k * 31) ^ (k >>> 3);
}

const syncRun = async (watchdog) => {
  const tlob = await loadTlob(watchdog);
  const options = { budget: '10s' };
  let k = 0;
  const fn = () => work(k++);
  return nsPerCall(() => tlob.run('sync', options, fn));
};

const perAwait = async (watchdog) => {
  const tlob = await loadTlob(watchdog);
  const options = { budget: '10s' };
  return nsPerAsyncUnit((n) => tlob.run('await', options, () => awaitLoop(n)), awaits);
};

const asyncRun = async (watchdog) => {
  const tlob = await loadTlob(watchdog);
  const options = { budget: '10s' };
  const one = async () => {
    await null;
  };
  return nsPerAsyncUnit(async (n) => {
    for (let i = 0; i < n; i++) await tlob.run('async', options, one);
  }, 1000);
};

const variants = {
  syncOff: { label: '`tlob.run` of a synchronous call, watchdog off', run: () => syncRun(false) },
  syncOn: { label: '`tlob.run` of a synchronous call, watchdog on', run: () => syncRun(true) },
  awaitOff: { label: 'per `await` inside a window, watchdog off', run: () => perAwait(false) },
  awaitOn: { label: 'per `await` inside a window, watchdog on', run: () => perAwait(true) },
  asyncOff: {
    label: '`tlob.run` of an async call with one `await`, watchdog off',
    run: () => asyncRun(false),
  },
  asyncOn: { label: '`tlob.run` of an async call with one `await`, watchdog on', run: () => asyncRun(true) },
};

function spinFor(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // hold the thread
  }
}

/** Detection latency: windows of 20 ms that spin 100 ms; the lateness each record reports. */
async function latencyChild(trials) {
  const tlob = await loadTlob(true);
  const late = [];
  tlob.subscribe('error', (v) => late.push(v.reportedLateNs / 1e6));
  for (let i = 0; i < trials; i++) {
    tlob.run('blocked', { budget: '20ms' }, () => spinFor(100));
    await sleep(20);
  }
  console.log(JSON.stringify({ late }));
}

/**
 * The floor of the detection latency on this machine: the same trials (20 ms "budgets" whose
 * thread spins 100 ms), watched by a bare worker thread that only sleeps in `Atomics.wait` until
 * each deadline plus the same 5 ms grace and writes one line: no tlob, no event loop in the worker.
 * What it measures beyond the grace is the time the OS takes to run a thread whose sleep ended.
 */
async function floorChild(trials) {
  const { Worker } = await import('node:worker_threads');
  const shared = new SharedArrayBuffer(16);
  const bell = new Int32Array(shared, 0, 2);
  const deadline = new Float64Array(shared, 8, 1);
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
    const { openSync, writeSync } = require('node:fs');
    const fd = openSync('/dev/null', 'w');
    const bell = new Int32Array(workerData, 0, 2);
    const deadline = new Float64Array(workerData, 8, 1);
    const now = () => performance.timeOrigin + performance.now();
    const late = [];
    for (let seen = 0; seen < ${trials}; seen++) {
      Atomics.wait(bell, 0, seen); // the next window opened
      const due = deadline[0] + 5;
      const wait = due - now();
      if (wait > 0) Atomics.wait(bell, 1, 0, wait);
      const t = now();
      writeSync(fd, 'tlob: "blocked" #1 over budget 20ms: the main thread is blocked\\n');
      late.push(t - deadline[0]);
    }
    parentPort.postMessage(late);`,
    { eval: true, workerData: shared },
  );
  const result = new Promise((resolve) => worker.once('message', resolve));
  await sleep(300);
  for (let i = 0; i < trials; i++) {
    deadline[0] = performance.timeOrigin + performance.now() + 20;
    Atomics.add(bell, 0, 1);
    Atomics.notify(bell, 0);
    spinFor(100);
    await sleep(20);
  }
  console.log(JSON.stringify({ late: await result }));
}

/** Memory: the process's RSS before the watchdog starts and once its thread runs. */
async function memoryChild() {
  const { tlob } = await importTlob();
  tlob.reactor('nop');
  tlob.run('before', { budget: '10s' }, () => 0);
  await sleep(300);
  globalThis.gc?.();
  const before = process.memoryUsage();
  tlob.watchdog(true);
  tlob.run('boot', { budget: '10s' }, () => 0);
  await sleep(1000);
  globalThis.gc?.();
  const after = process.memoryUsage();
  console.log(JSON.stringify({ rssMb: (after.rss - before.rss) / 2 ** 20 }));
}

/** The value at quantile `q` of the sorted `values` (the slowest of 20 for p99 of 20). */
function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function parent() {
  const rounds = Number(argValue('rounds', '11')); // five processes per variant do not resolve its 10% targets
  const trials = Number(argValue('trials', '20'));
  progress(`watchdog: ${Object.keys(variants).length} variants × ${rounds} rounds`);
  const r = await runRounds(self, Object.keys(variants), { rounds });
  const rows = Object.keys(variants).map((name) => [
    variants[name].label,
    fmt(r[name].ns),
    spread(r[name].samples.map((x) => x.ns)),
    fmt(r[name].wallNs),
  ]);
  const ratio = (on, off) => r[on].ns / r[off].ns;
  const latencyRounds = Number(argValue('latency-rounds', '3'));
  progress(
    `watchdog: detection latency, ${latencyRounds} × ${trials} blocked windows, alternating with a bare worker`,
  );
  const late = [];
  const floor = [];
  for (let i = 0; i < latencyRounds; i++) {
    late.push(...(await runJsonChild(self, ['--variant=latency', `--trials=${trials}`])).late);
    floor.push(...(await runJsonChild(self, ['--variant=floor', `--trials=${trials}`])).late);
  }
  const sorted = [...late].sort((a, b) => a - b);
  const p99 = percentile(sorted, 0.99);
  const floorSorted = [...floor].sort((a, b) => a - b);
  const floorP99 = percentile(floorSorted, 0.99);
  progress('watchdog: memory');
  const memory = [];
  for (let i = 0; i < 3; i++)
    memory.push((await runJsonChild(self, ['--variant=memory'], { nodeArgs: ['--expose-gc'] })).rssMb);
  const lines = [
    `_${machineLine()} · median of ${rounds} processes × 9 batches · CPU time (the watchdog thread's included)_`,
    '',
    table(['variant', 'CPU ns', 'spread', 'wall ns'], rows),
    '',
    `Detection latency (deadline → the watchdog's report, ${late.length} windows of 20 ms spinning 100 ms, grace 5 ms, ${latencyRounds} processes): ` +
      `median ${fmt(median(late))} ms, p99 ${fmt(p99)} ms, max ${fmt(sorted.at(-1))} ms.`,
    '',
    `Floor, in processes alternating with those (a bare worker thread that sleeps in \`Atomics.wait\` until the same deadline + 5 ms and writes a line, ${floor.length} windows): ` +
      `median ${fmt(median(floor))} ms, p99 ${fmt(floorP99)} ms, max ${fmt(floorSorted.at(-1))} ms. ` +
      `Load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')}.`,
    '',
    `Memory of the watchdog thread (process RSS after it started minus before, 3 processes): ${memory.map((m) => `${fmt(m)} MB`).join(', ')}.`,
    '',
    'Targets (DESIGN §6):',
    '',
    verdict(
      ratio('syncOn', 'syncOff') <= 1.1,
      `\`tlob.run\` sync with the watchdog ≤ 1.1× without: ${times(ratio('syncOn', 'syncOff'))}`,
    ),
    verdict(
      ratio('awaitOn', 'awaitOff') <= 1.1,
      `per await with the watchdog ≤ 1.1× without: ${times(ratio('awaitOn', 'awaitOff'))}`,
    ),
    verdict(
      ratio('asyncOn', 'asyncOff') <= 1.1,
      `\`tlob.run\` async with the watchdog ≤ 1.1× without: ${times(ratio('asyncOn', 'asyncOff'))}`,
    ),
    verdict(median(late) <= 20, `detection median ≤ 20 ms: ${fmt(median(late))} ms`),
    verdict(p99 <= 50, `detection p99 ≤ 50 ms: ${fmt(p99)} ms`),
    verdict(
      p99 <= floorP99 + 5,
      `detection p99 ≤ the bare worker's p99 + 5 ms: ${fmt(p99)} ms against ${fmt(floorP99)} + 5 ms`,
    ),
  ];
  console.log(lines.join('\n'));
}

const variant = argValue('variant', undefined);
if (variant === 'latency') await latencyChild(Number(argValue('trials', '20')));
else if (variant === 'floor') await floorChild(Number(argValue('trials', '20')));
else if (variant === 'memory') await memoryChild();
else if (variant !== undefined) console.log(JSON.stringify(await variants[variant].run()));
else await parent();
