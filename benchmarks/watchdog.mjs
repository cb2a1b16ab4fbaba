// What the watchdog costs and how fast it catches a blocked thread (DESIGN §6): `tlob.run` of a
// synchronous call and the cost per await inside a window, with the watchdog off and on (each
// variant in its own process, alternately over several rounds); the detection latency over 20
// blocked windows; and the memory the watchdog thread adds to the process.
//
//   node benchmarks/watchdog.mjs [--rounds=5] [--trials=20]
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

async function parent() {
  const rounds = Number(argValue('rounds', '5'));
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
  progress(`watchdog: detection latency, ${trials} blocked windows`);
  const { late } = await runJsonChild(self, ['--variant=latency', `--trials=${trials}`]);
  const sorted = [...late].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)];
  progress('watchdog: memory');
  const memory = [];
  for (let i = 0; i < 3; i++)
    memory.push((await runJsonChild(self, ['--variant=memory'], { nodeArgs: ['--expose-gc'] })).rssMb);
  const lines = [
    `_${machineLine()} · median of ${rounds} processes × 9 batches · CPU time (the watchdog thread's included)_`,
    '',
    table(['variant', 'CPU ns', 'spread', 'wall ns'], rows),
    '',
    `Detection latency (deadline → the watchdog's report, ${late.length} windows of 20 ms spinning 100 ms, grace 5 ms): ` +
      `median ${fmt(median(late))} ms, p99 ${fmt(p99)} ms, max ${fmt(sorted.at(-1))} ms.`,
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
  ];
  console.log(lines.join('\n'));
}

const variant = argValue('variant', undefined);
if (variant === 'latency') await latencyChild(Number(argValue('trials', '20')));
else if (variant === 'memory') await memoryChild();
else if (variant !== undefined) console.log(JSON.stringify(await variants[variant].run()));
else await parent();
