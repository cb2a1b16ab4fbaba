// Windows: tlob.run, tlob.start/stop, results, a second stop(), any-order stops, contexts
// (the items.map pitfall and its fix), a disabled monitor, budget errors (docs/windows.md).
// Run: node examples/windows.mjs
import { tlob } from 'tlob';

tlob.reactor('nop'); // violations are shown through results here, not log lines

const spin = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (ns) => (ns / 1e6).toFixed(1);
const split = (r) =>
  `elapsed ${ms(r.elapsedNs)} = running ${ms(r.runningNs)} + waiting ${ms(r.waitingNs)} + sleeping ${ms(r.sleepingNs)} ms`;

// tlob.run: returns exactly what fn returns; onStop gets the result.
const value = await tlob.run(
  'lookup',
  { budget: '50ms', onStop: (r) => console.log(`run lookup: ${split(r)}`) },
  async () => {
    await sleep(10);
    spin(2);
    return 42;
  },
);
console.log(`run returned ${value}`);

// tlob.start / stop: a window by hand, over budget.
const w = tlob.start({ budget: '5ms', name: 'crunch' });
spin(8);
const result = w.stop();
console.log(`start/stop crunch: overBudget=${result.overBudget} code=${result.code} ${split(result)}`);
console.log(`second stop() returns the same result: ${w.stop() === result}`);

// Windows may be stopped in any order; tlob.current() is the innermost open one.
const a = tlob.start({ budget: '1s', name: 'a' });
const b = tlob.start({ budget: '1s', name: 'b' });
a.stop();
console.log(`after a.stop(): current=${tlob.current()?.name}`);
b.stop();
console.log(`after b.stop(): current=${tlob.current()?.name ?? 'none'}`);

// Contexts. Item 1 only sleeps 30 ms; item 2 spins 15 ms.
const work = async (i) => {
  if (i === 1) await sleep(30);
  else {
    await sleep(2);
    spin(15);
  }
};

// Pitfall: start() inside items.map(async …) nests item 2's window in item 1's,
// so item 1 is charged with item 2's running time.
const nested = await Promise.all(
  [1, 2].map(async (i) => {
    const win = tlob.start({ budget: '1s', name: `start-item-${i}` });
    await work(i);
    return win.stop();
  }),
);
for (const r of nested) console.log(`pitfall ${r.name}: ${split(r)}`);

// Fix: one tlob.run per item, each in its own context.
const own = [];
await Promise.all(
  [1, 2].map((i) => tlob.run(`run-item-${i}`, { budget: '1s', onStop: (r) => own.push(r) }, () => work(i))),
);
for (const r of own.sort((x, y) => x.name.localeCompare(y.name))) console.log(`fix ${r.name}: ${split(r)}`);

// A disabled monitor: run just calls fn, start hands out an inert window (id 0).
tlob.disable();
const inert = tlob.start({ budget: '1ms', name: 'inert' });
spin(2);
console.log(
  `disabled: id=${inert.id} overBudget=${inert.stop().overBudget} run=${tlob.run('off', { budget: '1ms' }, () => 'plain call')}`,
);
tlob.enable();

// Budgets: a number is milliseconds; strings take ns, us, µs, ms, s; 1 µs to 1 h.
for (const budget of [20, '250us', '1.5s', 'fast', 0]) {
  try {
    const win = tlob.start({ budget, name: 'budget' });
    console.log(`budget ${JSON.stringify(budget)} -> ${win.budgetNs} ns`);
    win.stop();
  } catch (error) {
    console.log(`budget ${JSON.stringify(budget)} -> ${error.name} ${error.code}`);
  }
}
