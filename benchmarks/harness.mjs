// tlob's benchmark harness (`tlob/bench`) against tinybench 6 on the same tasks, in one process:
// the median elapsed each reports for a ~1 µs and a ~50 µs function and an async 1 ms timer, and
// each harness's own cost per iteration (a no-op task, a fixed number of iterations), beside the
// cost of one `tlob.run` around a no-op. Rounds alternate the two harnesses; the table shows the
// medians over the rounds and the ratios from this one run.
//
//   node benchmarks/harness.mjs [--rounds=5]
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Bench as Tinybench } from 'tinybench';
import { argValue, progress } from './lib/child.mjs';
import { importTlob } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';
import { fmt, median, spread, table, times, verdict } from './lib/summary.mjs';
import { nsPerCall } from './lib/timing.mjs';

const { tlob } = await importTlob();
const benchEntry = process.env.TLOB_BENCH_ESM
  ? pathToFileURL(join(dirname(process.env.TLOB_BENCH_ESM), 'bench.js')).href
  : 'tlob/bench';
const { Bench } = await import(benchEntry);

const rounds = Number(argValue('rounds', 5));

/** Holds the thread for `us` microseconds (its length does not depend on the JIT or the CPU). */
function spinUs(us) {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // hold the thread
  }
}

const tasks = [
  { name: '~1 µs function', fn: () => spinUs(1) },
  { name: '~50 µs function', fn: () => spinUs(50) },
  { name: 'async 1 ms timer', fn: () => new Promise((resolve) => setTimeout(resolve, 1)), async: true },
];
const timing = { time: 500, iterations: 64, warmupTime: 100, warmupIterations: 16 };

async function tlobMedians() {
  const bench = new Bench({ ...timing, progress: false });
  for (const t of tasks) bench.add(t.name, t.fn);
  const { tasks: results } = await bench.run();
  return results.map((r) => r.elapsed.p50);
}

async function tinybenchMedians() {
  const bench = new Tinybench({ ...timing, now: () => performance.now() });
  for (const t of tasks) bench.add(t.name, t.fn, { async: t.async === true });
  await bench.run();
  return bench.tasks.map((t) => t.result.latency.p50 * 1e6);
}

/** CPU time of this process per iteration of a no-op task run for a fixed number of iterations, in ns. */
const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1e3;
};
const ITERATIONS = 50_000;
const noop = () => {};
async function tlobCost() {
  const bench = new Bench({ time: 0, iterations: ITERATIONS, warmup: false, progress: false }).add(
    'noop',
    noop,
  );
  const t0 = cpuNs();
  await bench.run();
  return (cpuNs() - t0) / ITERATIONS;
}
async function tinybenchCost() {
  const bench = new Tinybench({
    time: 0,
    iterations: ITERATIONS,
    warmup: false,
    now: () => performance.now(),
  });
  bench.add('noop', noop, { async: false });
  const t0 = cpuNs();
  await bench.run();
  return (cpuNs() - t0) / ITERATIONS;
}

// warm both harnesses (and the windows' call sites) once before measuring
await tlobCost();
await tinybenchCost();

const medians = { tlob: [], tinybench: [] };
const cost = { tlob: [], tinybench: [] };
for (let r = 0; r < rounds; r++) {
  progress(`round ${r + 1}/${rounds}`);
  const first = r % 2 === 0;
  if (first) medians.tlob.push(await tlobMedians());
  medians.tinybench.push(await tinybenchMedians());
  if (!first) medians.tlob.push(await tlobMedians());
  cost.tlob.push(await tlobCost());
  cost.tinybench.push(await tinybenchCost());
}
const runOptions = { budget: '3600s' };
const runCost = await nsPerCall(() => tlob.run('noop', runOptions, noop));

const rows = tasks.map((t, i) => {
  const ours = median(medians.tlob.map((m) => m[i]));
  const theirs = median(medians.tinybench.map((m) => m[i]));
  return { name: t.name, ours, theirs, ratio: ours / theirs, spread: spread(medians.tlob.map((m) => m[i])) };
});
const ourCost = median(cost.tlob);
const theirCost = median(cost.tinybench);
const limit = theirCost + runCost.ns;

console.log(`${machineLine()} · ${rounds} rounds · machine shared with other jobs\n`);
console.log('Median elapsed per iteration (µs), medians over the rounds:\n');
console.log(
  table(
    ['task', 'tlob/bench', 'tinybench', 'ratio', 'tlob spread'],
    rows.map((r) => [r.name, fmt(r.ours / 1e3), fmt(r.theirs / 1e3), times(r.ratio), r.spread]),
  ),
);
console.log(
  "\nEach harness's own cost per iteration (a no-op task, ns of CPU time, the whole run: loop, hooks, statistics):\n",
);
console.log(
  table(
    ['harness', 'ns per iteration', 'spread'],
    [
      ['tlob/bench', fmt(ourCost), spread(cost.tlob)],
      ['tinybench', fmt(theirCost), spread(cost.tinybench)],
      ['one `tlob.run` around a no-op', fmt(runCost.ns), ''],
    ],
  ),
);
console.log('');
for (const r of rows.slice(1)) {
  const off = Math.abs(r.ratio - 1);
  console.log(verdict(off <= 0.05, `${r.name}: median elapsed within 5% of tinybench's: ${times(r.ratio)}`));
}
console.log(
  verdict(
    ourCost <= limit,
    `harness cost ≤ tinybench's + one tlob.run: ${fmt(ourCost)} ns ≤ ${fmt(theirCost)} + ${fmt(runCost.ns)} = ${fmt(limit)} ns`,
  ),
);
