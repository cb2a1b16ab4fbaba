// The README's demo: `node node_modules/tlob/examples/demo.mjs`, or `npm run demo` in a clone.
// A few windows, some within budget and some over; the violations as they happen (the default
// 'log' reactor writes one line to stderr, and a `tlob:error` subscriber prints the structured
// record); the stats table at the end.
import { tlob } from 'tlob';

/** Holds the JS thread for `ms` milliseconds (CPU-bound work). */
function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

/** Waits `ms` milliseconds off the thread (like I/O). */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const ms = (ns) => (ns / 1e6).toFixed(1);

// Violations as structured records, in addition to the log reactor's line on stderr.
tlob.subscribe('error', (v) => {
  console.log(
    `  -> tlob:error ${v.name} #${v.id}: event=${v.event} state=${v.state} elapsed=${ms(v.elapsedNs)}ms ` +
      `(running ${ms(v.runningNs)}, waiting ${ms(v.waitingNs)}, sleeping ${ms(v.sleepingNs)} ms)`,
  );
});

// 1. CPU-bound: parse within a 5 ms budget; one input is too big.
console.log('1. parse: CPU-bound, budget 5ms');
for (let i = 0; i < 20; i++) tlob.run('parse', { budget: '5ms' }, () => spin(1 + (i % 3) * 0.5));
tlob.run('parse', { budget: '5ms' }, () => spin(8)); // over: found at stop, event=stop

// 2. Sleeping: a fetch that awaits I/O; the slow one is caught by the budget timer while asleep.
console.log('2. fetch: awaits I/O, budget 50ms');
for (let i = 0; i < 5; i++) {
  await tlob.run('fetch', { budget: '50ms' }, async () => {
    await sleep(10 + i * 3);
    spin(1);
  });
}
await tlob.run('fetch', { budget: '50ms' }, async () => {
  await sleep(80); // over: the timer reports it at ~50 ms, event=budget_expired state=sleeping
  spin(1);
});

// 3. A window that is never stopped: tlob.start() without stop(), reported by the timer.
console.log('3. forgotten: started, never stopped, budget 30ms');
setImmediate(() => {
  tlob.start({ budget: '30ms', name: 'forgotten' }); // bound to this callback's context only
});
await sleep(45);

// 4. A concurrent pair: both wake at 5 ms, but the thread runs one at a time, so the second
//    waits behind the first (waiting) and misses its budget.
console.log('4. handler: two concurrent calls, budget 15ms each');
const stops = [];
await Promise.all(
  ['A', 'B'].map((who) =>
    tlob.run('handler', { budget: '15ms', onStop: (r) => stops.push([who, r]) }, async () => {
      await sleep(5);
      spin(7);
    }),
  ),
);
for (const [who, r] of stops) {
  console.log(
    `  handler ${who}: elapsed ${ms(r.elapsedNs)}ms = running ${ms(r.runningNs)} + waiting ${ms(r.waitingNs)} + ` +
      `sleeping ${ms(r.sleepingNs)}${r.overBudget ? `, over budget (code ${r.code})` : ''}`,
  );
}

// 5. start()/stop() by hand, around code that both runs and waits.
console.log('5. report: tlob.start() / stop(), budget 100ms');
const w = tlob.start({ budget: '100ms', name: 'report' });
spin(3);
await sleep(10);
const result = w.stop();
console.log(
  `  report: ${result.overBudget ? 'over budget' : 'within budget'}, elapsed ${ms(result.elapsedNs)}ms ` +
    `(running ${ms(result.runningNs)}, waiting ${ms(result.waitingNs)}, sleeping ${ms(result.sleepingNs)})`,
);

// The stats table: per name, in milliseconds.
console.log('\nstats (ms)');
const rows = tlob
  .stats()
  .map((s) => [
    s.name,
    String(s.count),
    String(s.violations),
    ms(s.elapsed.p50),
    ms(s.elapsed.p99),
    ms(s.running.p50),
    ms(s.waiting.p50),
    ms(s.sleeping.p50),
  ]);
const header = ['name', 'count', 'violations', 'p50', 'p99', 'run p50', 'wait p50', 'sleep p50'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log('(a window is counted and measured when it stops: "forgotten" never stopped, so it shows');
console.log(' its violation but count 0)');
console.log(`\nviolation ring: ${tlob.ring.length} record(s), ${tlob.ring.dropped} dropped`);
