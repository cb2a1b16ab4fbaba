// Windows in flight at scale: the cost of opening and stopping a window, and the memory it holds,
// with 1,000 / 10,000 / 100,000 windows in flight at once; and how late expiries are reported when
// 10,000 windows are opened in one burst, or 200 per event-loop turn. Each measurement runs in its
// own process (median of --rounds processes).
//
//   node benchmarks/scale.mjs [--rounds=3]
import { fileURLToPath } from 'node:url';
import { argValue, progress, runJsonChild } from './lib/child.mjs';
import { importTlob } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';
import { median, table, verdict } from './lib/summary.mjs';

const self = fileURLToPath(import.meta.url);
const turn = () => new Promise((resolve) => setImmediate(resolve));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `n` async windows with a 60 s budget, each awaiting its own gate, then stops them all. */
async function inFlight(n) {
  const { tlob } = await importTlob();
  tlob.reactor('nop');
  const warm = [];
  for (let i = 0; i < 2000; i++) {
    let release;
    const gate = new Promise((r) => {
      release = r;
    });
    warm.push(tlob.run('warm', { budget: '60s' }, async () => await gate));
    release();
  }
  await Promise.all(warm);
  await pause(20);
  globalThis.gc();
  const heap0 = process.memoryUsage().heapUsed;
  const gates = [];
  const runs = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const gate = new Promise((r) => gates.push(r));
    runs.push(tlob.run('scale', { budget: '60s' }, async () => await gate));
  }
  const t1 = performance.now();
  globalThis.gc();
  const heap1 = process.memoryUsage().heapUsed;
  const t2 = performance.now();
  for (const release of gates) release();
  await Promise.all(runs);
  const t3 = performance.now();
  return {
    openUs: ((t1 - t0) * 1e3) / n,
    bytes: (heap1 - heap0) / n,
    stopUs: ((t3 - t2) * 1e3) / n,
  };
}

/** Opens 10,000 windows with a 50 ms budget that never finish, `perTurn` per loop turn; how late each expiry is reported. */
async function lateness(perTurn) {
  const { tlob } = await importTlob();
  tlob.reactor('nop');
  const n = 10_000;
  const opened = new Map();
  const late = [];
  tlob.subscribe('error', (v) => late.push(performance.now() - opened.get(v.id) - 50));
  const never = new Promise(() => {});
  let count = 0;
  while (count < n) {
    for (let i = 0; i < perTurn && count < n; i++, count++) {
      const t = performance.now();
      tlob.run('late', { budget: '50ms' }, async () => {
        opened.set(tlob.current().id, t);
        await never;
      });
    }
    if (count < n) await turn();
  }
  while (late.length < n) await pause(10);
  late.sort((a, b) => a - b);
  return { p50: late[n >> 1], p99: late[Math.floor(n * 0.99)], max: late[n - 1] };
}

const role = argValue('role', undefined);
if (role === 'in-flight') {
  console.log(JSON.stringify(await inFlight(Number(argValue('n', '1000')))));
} else if (role === 'lateness') {
  console.log(JSON.stringify(await lateness(Number(argValue('per-turn', '10000')))));
} else {
  const rounds = Number(argValue('rounds', '3'));
  const sizes = [1_000, 10_000, 100_000];
  const rows = [];
  const perSize = [];
  for (const n of sizes) {
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      progress(`in flight: ${n} windows, round ${r + 1}/${rounds}`);
      samples.push(await runJsonChild(self, ['--role=in-flight', `--n=${n}`], { nodeArgs: ['--expose-gc'] }));
    }
    const m = {
      openUs: median(samples.map((s) => s.openUs)),
      stopUs: median(samples.map((s) => s.stopUs)),
      bytes: median(samples.map((s) => s.bytes)),
    };
    perSize.push(m);
    rows.push([n.toLocaleString('en'), m.openUs.toFixed(2), m.stopUs.toFixed(2), Math.round(m.bytes)]);
  }
  const lateRows = [];
  const late = {};
  for (const perTurn of [10_000, 200]) {
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      progress(`lateness: 10,000 windows, ${perTurn} per turn, round ${r + 1}/${rounds}`);
      samples.push(await runJsonChild(self, ['--role=lateness', `--per-turn=${perTurn}`]));
    }
    const m = {
      p50: median(samples.map((s) => s.p50)),
      p99: median(samples.map((s) => s.p99)),
      max: median(samples.map((s) => s.max)),
    };
    late[perTurn] = m;
    lateRows.push([
      perTurn === 10_000 ? 'one burst' : `${perTurn} per turn`,
      m.p50.toFixed(1),
      m.p99.toFixed(1),
      m.max.toFixed(1),
    ]);
  }
  const flat = perSize[2].openUs / perSize[0].openUs;
  console.log(
    [
      machineLine(),
      '',
      `Windows in flight at once (async, 60 s budget; medians of ${rounds} processes):`,
      '',
      table(['in flight', 'open µs/window', 'stop µs/window', 'heap bytes/window'], rows),
      '',
      `Lateness of the expiries of 10,000 windows with a 50 ms budget (ms after the deadline, medians of ${rounds} processes):`,
      '',
      table(['opened', 'p50', 'p99', 'max'], lateRows),
      '',
      verdict(flat <= 1.5, `open cost flat from 1k to 100k in flight: ${flat.toFixed(2)}× (limit 1.5×)`),
      verdict(
        late[200].p99 <= 5,
        `p99 lateness at 200 per turn: ${late[200].p99.toFixed(1)} ms (limit 5 ms)`,
      ),
      verdict(
        late[10_000].p99 <= 20,
        `p99 lateness for a 10,000 burst: ${late[10_000].p99.toFixed(1)} ms (limit 20 ms)`,
      ),
    ].join('\n'),
  );
}
