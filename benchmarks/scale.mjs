// Windows in flight at scale: the cost of opening and stopping a window, and the memory it holds,
// with 1,000 / 10,000 / 100,000 windows in flight at once; and how late expiries are reported when
// 10,000 windows are opened in one burst, or 200 per event-loop turn, beside the floor of the same
// scenario (the bare mechanism any monitor needs); and the bytes allocated per window, tlob's and
// the bare mechanism's. Each measurement runs in its own process (median of --rounds processes).
//
//   node benchmarks/scale.mjs [--rounds=3]
import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { argValue, progress, runJsonChild } from './lib/child.mjs';
import { importTlob } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';
import { fmt, median, table, verdict } from './lib/summary.mjs';

const self = fileURLToPath(import.meta.url);
const turn = () => new Promise((resolve) => setImmediate(resolve));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens `n` async windows with a 60 s budget, each awaiting its own gate, then stops them all;
 * `bare`: the same calls under the bare mechanism instead (an `AsyncLocalStorage.run` each).
 */
async function inFlight(n, bare) {
  let open;
  if (bare) {
    const als = new AsyncLocalStorage();
    open = (fn) => als.run({ budget: 60e9 }, fn);
  } else {
    const { tlob } = await importTlob();
    tlob.reactor('nop');
    const options = { budget: '60s' };
    open = (fn) => tlob.run('scale', options, fn);
  }
  const warm = [];
  for (let i = 0; i < 2000; i++) {
    let release;
    const gate = new Promise((r) => {
      release = r;
    });
    warm.push(open(async () => await gate));
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
    runs.push(open(async () => await gate));
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

/** The p50, p99 and maximum of a list of latenesses (ms). */
function quantiles(late) {
  late.sort((a, b) => a - b);
  const n = late.length;
  return { p50: late[n >> 1], p99: late[Math.floor(n * 0.99)], max: late[n - 1] };
}

/**
 * Opens `n` windows with a 50 ms budget that never finish, `perTurn` per loop turn; how late each
 * expiry is reported (the subscriber's clock against the moment the window was opened + 50 ms).
 */
async function lateness(perTurn, n = 10_000) {
  const { tlob } = await importTlob();
  tlob.reactor('nop');
  const opened = new Float64Array(n);
  let firstId = -1;
  const late = [];
  const unsubscribe = tlob.subscribe('error', (v) =>
    late.push(performance.now() - opened[v.id - firstId] - 50),
  );
  const never = new Promise(() => {});
  let count = 0;
  while (count < n) {
    for (let i = 0; i < perTurn && count < n; i++, count++) {
      const t = performance.now();
      tlob.run('late', { budget: '50ms' }, async () => {
        const id = tlob.current().id;
        if (firstId < 0) firstId = id;
        opened[id - firstId] = t;
        await never;
      });
    }
    if (count < n) await turn();
  }
  while (late.length < n) await pause(10);
  unsubscribe();
  return quantiles(late);
}

/**
 * The floors of the same scenario: the bare mechanism any monitor needs per window, an
 * `AsyncLocalStorage.run` of the async function (its promise never settles) and a budget timer:
 * - `timers`: one `setTimeout` per window;
 * - `shared-timer`: one shared timer over a FIFO of deadlines (all budgets are equal, so the FIFO
 *   is in deadline order), as tlob's one timer over its heap;
 * - `sized`: the same shared timer over a FIFO of plain objects, one per window, of about the
 *   bytes tlob keeps per window in flight (`SIZED_FIELDS`), kept to the end of the run as tlob's
 *   windows are (their promises never settle): it pays the collections of that much memory and
 *   none of tlob's work, so that tlob's distance to it is its work and the rest of its memory.
 * Each expiry reads the clock for itself, as tlob's do.
 */
async function latenessFloor(perTurn, mechanism, n = 10_000) {
  const budget = 50;
  const als = new AsyncLocalStorage();
  const late = [];
  const never = new Promise(() => {});
  const body = async () => {
    await never;
  };
  const expire = (t) => late.push(performance.now() - t - budget);
  const due = [];
  let head = 0;
  let armed = false;
  const sized = mechanism === 'sized';
  const fire = () => {
    armed = false;
    const now = performance.now();
    while (head < due.length) {
      const t = sized ? due[head].t : due[head];
      if (t + budget > now) break;
      head++;
      expire(t);
    }
    if (head < due.length) arm();
  };
  const arm = () => {
    armed = true;
    const t = sized ? due[head].t : due[head];
    setTimeout(fire, Math.max(1, t + budget - performance.now()));
  };
  let count = 0;
  while (count < n) {
    for (let i = 0; i < perTurn && count < n; i++, count++) {
      const t = performance.now();
      als.run({ t }, body);
      if (mechanism === 'timers') setTimeout(expire, budget, t);
      else {
        due.push(sized ? sizedEntry(t, count) : t);
        if (!armed) arm();
      }
    }
    if (count < n) await turn();
  }
  while (late.length < n) await pause(10);
  return quantiles(late);
}

/**
 * The `sized` floor's object per window: an object holding its opening time and an array of
 * `SIZED_SLOTS` small integers, ~260 B in all (measured: `--role=sized-bytes`), about what tlob
 * keeps per window in flight beyond the bare mechanism (the in-flight table's last column).
 */
const SIZED_SLOTS = 20;
function sizedEntry(t, i) {
  return { t, slots: new Array(SIZED_SLOTS).fill(i) };
}

/**
 * What memory touched for the first time costs on this machine: a 64 MiB buffer filled twice, the
 * first time page by page from the OS (a minor page fault per 4 KiB page), the second time in
 * place. A collection that copies into pages the heap had given back, and a heap that grows, pay
 * the first price for every page: so do the floors, as tlob.
 */
function freshPages() {
  const bytes = 64 * 1024 * 1024;
  const buffer = Buffer.allocUnsafeSlow(bytes);
  const faults0 = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  buffer.fill(1);
  const t1 = performance.now();
  const faults = process.resourceUsage().minorPageFault - faults0;
  buffer.fill(2);
  const t2 = performance.now();
  const pages = bytes / 4096;
  return { pages, faults, freshUs: ((t1 - t0) * 1e3) / pages, touchedUs: ((t2 - t1) * 1e3) / pages };
}

/** The scenarios one lateness process runs, each once, in an order rotated from process to process. */
const latenessScenarios = ['tlob', 'shared-timer', 'sized', 'timers'];

/**
 * One process's lateness samples: a warm-up of each scenario (1,000 windows), then each scenario
 * with 10,000 windows, from an emptied heap, in the order `order` (an index into the rotations),
 * with the longest collection pause seen during each.
 */
async function latenessProcess(perTurn, order) {
  const { PerformanceObserver } = await import('node:perf_hooks');
  const pauses = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push([e.startTime, e.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  const run = (what, n) => (what === 'tlob' ? lateness(perTurn, n) : latenessFloor(perTurn, what, n));
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      await pause(20); // finalizers and the settle hook's release run in later tasks
    }
  };
  for (const what of latenessScenarios) await run(what, 1000);
  const result = {};
  const k = latenessScenarios.length;
  for (let i = 0; i < k; i++) {
    const what = latenessScenarios[(i + order) % k];
    await settle();
    const faults0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    const q = await run(what, 10_000);
    const t1 = performance.now();
    const faults = process.resourceUsage().minorPageFault - faults0;
    await pause(10); // the observer reports in a later task
    const during = pauses.filter(([start]) => start >= t0 && start <= t1).map(([, d]) => d);
    result[what] = { ...q, gcMax: during.length > 0 ? Math.max(...during) : 0, faults };
  }
  observer.disconnect();
  return result;
}

/**
 * `n` windows one after the other, each around an async function with one `await`, stopped when
 * its promise settles: in `tlob.run` (`tlob`), or with the bare mechanism (an `AsyncLocalStorage.run`
 * per call under a before/after hook that reads the store).
 */
let bareHook;
async function stoppedWindows(n, tlob) {
  const body = async () => {
    await null;
  };
  if (tlob) {
    const { tlob } = await importTlob();
    tlob.reactor('nop');
    const options = { budget: '10s' };
    for (let i = 0; i < n; i++) await tlob.run('stopped', options, body);
    return;
  }
  if (bareHook === undefined) {
    const { createHook } = await import('node:async_hooks');
    const als = new AsyncLocalStorage();
    const store = { switches: 0 };
    const callback = () => {
      if (als.getStore() !== undefined) store.switches++;
    };
    createHook({ before: callback, after: callback }).enable();
    bareHook = (fn) => als.run(store, fn);
  }
  for (let i = 0; i < n; i++) await bareHook(body);
}

/**
 * Bytes allocated per window from its opening to its expiry, in the 200-per-turn scenario of
 * `lateness` (tlob) or of `latenessFloor` (the bare mechanism). Run with a young generation large
 * enough that no collection happens meanwhile (checked), so that the growth of the heap is what
 * was allocated.
 */
async function allocation(what) {
  const { PerformanceObserver } = await import('node:perf_hooks');
  let collections = 0;
  const observer = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  const n = 10_000;
  const scenarios = {
    tlob: (count) => lateness(200, count),
    floor: (count) => latenessFloor(200, 'shared-timer', count),
    'tlob-stopped': (count) => stoppedWindows(count, true),
    'floor-stopped': (count) => stoppedWindows(count, false),
  };
  await scenarios[what](2000);
  globalThis.gc();
  await pause(10);
  const before = process.memoryUsage().heapUsed;
  collections = 0;
  await scenarios[what](n);
  const after = process.memoryUsage().heapUsed;
  await pause(10); // the observer reports in a later task
  observer.disconnect();
  return { bytes: (after - before) / n, collections };
}

/** `1.2–3.4`: the range of a list of numbers. */
const range = (values) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;

const role = argValue('role', undefined);
if (role === 'in-flight') {
  console.log(JSON.stringify(await inFlight(Number(argValue('n', '1000')), process.argv.includes('--bare'))));
} else if (role === 'lateness') {
  const perTurn = Number(argValue('per-turn', '10000'));
  console.log(JSON.stringify(await latenessProcess(perTurn, Number(argValue('order', '0')))));
} else if (role === 'sized-bytes') {
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: 100_000 }, (_, i) => sizedEntry(performance.now(), i));
  globalThis.gc();
  const bytes = (process.memoryUsage().heapUsed - before) / kept.length - 8; // less the array's slot
  console.log(JSON.stringify({ bytes }));
} else if (role === 'fresh-pages') {
  console.log(JSON.stringify(freshPages()));
} else if (role === 'allocation') {
  console.log(JSON.stringify(await allocation(argValue('what', 'tlob'))));
} else {
  // Eleven processes per scenario: a p99 of one process is its longest collection pause, which
  // moves by milliseconds from one process to the next; three did not decide the 5 ms line.
  const rounds = Number(argValue('rounds', '11'));
  const flightRounds = Number(argValue('in-flight-rounds', '5'));
  const sizes = [1_000, 10_000, 100_000];
  const rows = [];
  const perSize = [];
  for (const n of sizes) {
    const samples = { tlob: [], bare: [] };
    for (let r = 0; r < flightRounds; r++) {
      progress(`in flight: ${n} windows, round ${r + 1}/${flightRounds}`);
      for (const what of r % 2 === 0 ? ['tlob', 'bare'] : ['bare', 'tlob']) {
        const args = ['--role=in-flight', `--n=${n}`, ...(what === 'bare' ? ['--bare'] : [])];
        samples[what].push(await runJsonChild(self, args, { nodeArgs: ['--expose-gc'] }));
      }
    }
    const m = {
      openUs: median(samples.tlob.map((s) => s.openUs)),
      stopUs: median(samples.tlob.map((s) => s.stopUs)),
      bytes: median(samples.tlob.map((s) => s.bytes)),
      bareBytes: median(samples.bare.map((s) => s.bytes)),
      bareOpenUs: median(samples.bare.map((s) => s.openUs)),
    };
    perSize.push(m);
    rows.push([
      n.toLocaleString('en'),
      m.openUs.toFixed(2),
      m.bareOpenUs.toFixed(2),
      m.stopUs.toFixed(2),
      Math.round(m.bytes),
      Math.round(m.bareBytes),
      Math.round(m.bytes - m.bareBytes),
    ]);
  }
  const lateRows = [];
  const late = {};
  const label = {
    tlob: 'tlob',
    'shared-timer': 'floor: `AsyncLocalStorage.run` + one shared timer',
    sized: `floor: the same over an object of ~260 B per window, kept`,
    timers: 'floor: `AsyncLocalStorage.run` + one `setTimeout` per window',
  };
  for (const perTurn of [200, 10_000]) {
    const opened = perTurn === 10_000 ? 'one burst' : `${perTurn} per turn`;
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      progress(`lateness: 10,000 windows, ${perTurn} per turn, process ${r + 1}/${rounds}`);
      samples.push(
        await runJsonChild(self, ['--role=lateness', `--per-turn=${perTurn}`, `--order=${r}`], {
          nodeArgs: ['--expose-gc'],
        }),
      );
    }
    late[perTurn] = {};
    for (const what of latenessScenarios) {
      const of = (field) => samples.map((s) => s[what][field]);
      const m = {
        p50: median(of('p50')),
        p99: median(of('p99')),
        p99s: of('p99'),
        max: median(of('max')),
        gcMax: median(of('gcMax')),
        faults: median(of('faults')),
        // tlob's p99 less this scenario's, in the same process
        excess: median(samples.map((s) => s.tlob.p99 - s[what].p99)),
      };
      late[perTurn][what] = m;
      lateRows.push([
        opened,
        label[what],
        fmt(m.p50),
        fmt(m.p99),
        range(m.p99s),
        fmt(m.max),
        fmt(m.gcMax),
        Math.round(m.faults).toLocaleString('en'),
        what === 'tlob' ? '' : fmt(m.excess),
      ]);
    }
  }
  const pageSamples = [];
  for (let r = 0; r < 3; r++) pageSamples.push(await runJsonChild(self, ['--role=fresh-pages']));
  const pages = {
    freshUs: median(pageSamples.map((s) => s.freshUs)),
    touchedUs: median(pageSamples.map((s) => s.touchedUs)),
    faults: median(pageSamples.map((s) => s.faults)),
    pages: pageSamples[0].pages,
  };
  // Allocation per window: the heap's growth over 10,000 windows with a young generation large
  // enough that nothing is collected meanwhile.
  const allocationArgs = ['--expose-gc', '--min-semi-space-size=256', '--max-semi-space-size=256'];
  const whats = ['tlob', 'floor', 'tlob-stopped', 'floor-stopped'];
  const allocated = Object.fromEntries(whats.map((w) => [w, []]));
  for (let r = 0; r < rounds; r++) {
    progress(`allocation: round ${r + 1}/${rounds}`);
    for (let i = 0; i < whats.length; i++) {
      const what = whats[(i + r) % whats.length];
      const s = await runJsonChild(self, ['--role=allocation', `--what=${what}`], {
        nodeArgs: allocationArgs,
      });
      if (s.collections > 0)
        progress(`  (${what}: ${s.collections} collections during the run: the sample is too low)`);
      allocated[what].push(s.bytes);
    }
  }
  const bytes = Object.fromEntries(whats.map((w) => [w, median(allocated[w])]));
  // tlob's own, per round (each round runs all four in turn), then the median
  const ownOf = (a, b) => allocated[a].map((x, r) => x - allocated[b][r]);
  const own = {
    expired: median(ownOf('tlob', 'floor')),
    stopped: median(ownOf('tlob-stopped', 'floor-stopped')),
  };
  const allocationRows = [
    [
      'expires (200 per turn, a subscriber on `error`)',
      Math.round(bytes.tlob),
      Math.round(bytes.floor),
      Math.round(own.expired),
      range(ownOf('tlob', 'floor').map(Math.round)),
    ],
    [
      'stops (an async function with one `await`)',
      Math.round(bytes['tlob-stopped']),
      Math.round(bytes['floor-stopped']),
      Math.round(own.stopped),
      range(ownOf('tlob-stopped', 'floor-stopped').map(Math.round)),
    ],
  ];
  const flat = perSize[2].openUs / perSize[0].openUs;
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  const t200 = late[200].tlob;
  const tBurst = late[10_000].tlob;
  const f200 = late[200]['shared-timer'];
  const fBurst = late[10_000]['shared-timer'];
  console.log(
    [
      machineLine(),
      '',
      `Windows in flight at once (async, 60 s budget; medians of ${flightRounds} processes each, tlob and the bare mechanism, an \`AsyncLocalStorage.run\` per call, alternating):`,
      '',
      table(
        [
          'in flight',
          'open µs/window',
          'bare open µs',
          'stop µs/window',
          'heap bytes/window',
          'bare heap bytes',
          "tlob's own bytes",
        ],
        rows,
      ),
      '',
      `Lateness of the expiries of 10,000 windows with a 50 ms budget (ms after the deadline). ${rounds} processes, each running every scenario once after a warm-up, from an emptied heap, in an order rotated between processes; the medians over the processes of each one's p50, p99, max and longest collection pause during the scenario, its minor page faults (memory the process touched for the first time, or again after the heap gave it back), the range of the p99s, and the median of tlob's p99 less the scenario's in the same process:`,
      '',
      table(
        ['opened', 'what', 'p50', 'p99', 'p99 range', 'max', 'longest GC', 'page faults', 'tlob − this'],
        lateRows,
      ),
      '',
      `On this machine a page touched for the first time costs ${fmt(pages.freshUs)} µs (${Math.round(pages.faults).toLocaleString('en')} minor faults for ${pages.pages.toLocaleString('en')} pages), once touched ${fmt(pages.touchedUs)} µs to write again (a buffer of ${(pages.pages * 4) / 1024} MiB filled twice; median of 3 processes): ${fmt(pages.freshUs)} ms per 1,000 faults of the table above.`,
      '',
      `Bytes allocated per window, from its opening to its end (10,000 windows, no collection meanwhile; medians of ${rounds} processes each, in rotated order; tlob's own is the median of each round's difference):`,
      '',
      table(['a window that…', 'tlob', 'bare mechanism', "tlob's own", 'own range'], allocationRows),
      '',
      `Load average at the end: ${load}.`,
      '',
      verdict(flat <= 1.5, `open cost flat from 1k to 100k in flight: ${flat.toFixed(2)}× (limit 1.5×)`),
      verdict(
        t200.p99 <= 5,
        `p99 lateness at 200 per turn: ${fmt(t200.p99)} ms (limit 5 ms; range ${range(t200.p99s)} over ${rounds} processes)`,
      ),
      verdict(
        tBurst.p99 <= 20,
        `p99 lateness for a 10,000 burst: ${fmt(tBurst.p99)} ms (limit 20 ms; range ${range(tBurst.p99s)})`,
      ),
      `- for reading: tlob − the shared-timer floor at 200 per turn ${fmt(f200.excess)} ms (median over the processes; the floor's p99 here: ${fmt(f200.p99)} ms)`,
      `- for reading: the same for the 10,000 burst, tlob − floor ${fmt(fBurst.excess)} ms (floor ${fmt(fBurst.p99)} ms); tlob − the floor over ~260 B kept per window: ${fmt(late[200].sized.excess)} ms at 200 per turn, ${fmt(late[10_000].sized.excess)} ms for the burst`,
      `- for reading: tlob's own allocation per expired window: ${Math.round(own.expired)} B`,
      `- for reading: tlob's own allocation per stopped window: ${Math.round(own.stopped)} B`,
    ].join('\n'),
  );
}
