// Cost per await of the running/waiting/sleeping accounting (DESIGN §6): an async
// function doing N awaits, with no hooks, with the bare hook mechanism, inside a tlob window, and
// with tlob loaded but no window open. Each variant runs in its own process, alternately over
// several rounds; the table shows medians and differences from this one run.
//
//   node benchmarks/await-cost.mjs [--rounds=5] [--awaits=10000]
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promiseHooks } from 'node:v8';
import { argValue, progress } from './lib/child.mjs';
import { importTlob } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';
import { runRounds } from './lib/rounds.mjs';
import { fmt, spread, table, times, verdict } from './lib/summary.mjs';
import { nsPerAsyncUnit } from './lib/timing.mjs';

const self = fileURLToPath(import.meta.url);
const awaits = Number(argValue('awaits', '10000'));

/** The measured code: an async function that awaits `n` times. */
async function awaitLoop(n) {
  for (let i = 0; i < n; i++) await null;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Has `als` carry `store` into a few async resources that are not promises (a timer, an immediate,
 * a `nextTick`, an `AsyncResource`, an fs request), as any program's storage does before long (tlob
 * itself creates its budget timer and its outside `AsyncResource` in a window's process). On Node 22
 * the storage's propagation into each new resource (`init` hook) then sees several kinds of object,
 * and its property accesses go megamorphic for every promise after: the mechanism a real program
 * runs on, where (b′) and (b⁗) alone never leave the promise-only case.
 */
async function seeOtherResources(als, store) {
  const { AsyncResource } = await import('node:async_hooks');
  const { stat } = await import('node:fs');
  await new Promise((resolve) =>
    als.run(store, () => {
      setTimeout(() => {}, 1).unref();
      setImmediate(() => {});
      process.nextTick(() => {});
      new AsyncResource('other');
      stat('.', () => resolve());
    }),
  );
  await turn();
}

async function loadTlob() {
  const { tlob } = await importTlob();
  tlob.reactor('nop');
  return tlob;
}

/**
 * The bare mechanism the accounting is built on: `createHook({ before, after })` enabled, an
 * AsyncLocalStorage holding a store, `getStore()` in both callbacks (plus, with `clock`, the two
 * clock reads that any time accounting needs).
 */
async function bareHook(clock, settled = false, others = false) {
  const als = new AsyncLocalStorage();
  if (settled) {
    // what watching one promise's settlement without a reaction costs: a look at every settlement
    const watched = [undefined];
    promiseHooks.onSettled((promise) => {
      if (watched[0] === promise) watched[0] = undefined;
    });
  }
  const store = { switches: 0, t: 0 };
  const callback = clock
    ? () => {
        const s = als.getStore();
        if (s !== undefined) s.t = performance.now();
      }
    : () => {
        const s = als.getStore();
        if (s !== undefined) s.switches++;
      };
  createHook({ before: callback, after: callback }).enable();
  if (others) await seeOtherResources(als, store);
  return (n) => als.run(store, awaitLoop, n);
}

/**
 * The least a running/waiting/sleeping split can add to (b″): the same hooks, and in each callback
 * the store, one clock read, a state check, one bucket added to and the time kept (a continuation
 * switched in adds to waiting, one switched out to running). What tlob does beyond it (readiness,
 * parents, the budget, the deadline's watcher, the nesting of callbacks) is its own.
 */
async function bareAccounting(others = false) {
  const als = new AsyncLocalStorage();
  const watched = [undefined];
  promiseHooks.onSettled((promise) => {
    if (watched[0] === promise) watched[0] = undefined;
  });
  const RUNNING = 1;
  const SLEEPING = 3;
  const split = { state: SLEEPING, lastNs: performance.now() * 1e6, runningNs: 0, waitingNs: 0 };
  const before = () => {
    const s = als.getStore();
    if (s === undefined) return;
    const now = performance.now() * 1e6;
    if (s.state === SLEEPING) {
      s.waitingNs += now - s.lastNs;
      s.lastNs = now;
      s.state = RUNNING;
    }
  };
  const after = () => {
    const s = als.getStore();
    if (s === undefined) return;
    const now = performance.now() * 1e6;
    if (s.state === RUNNING) {
      s.runningNs += now - s.lastNs;
      s.lastNs = now;
      s.state = SLEEPING;
    }
  };
  createHook({ before, after }).enable();
  if (others) await seeOtherResources(als, split);
  return (n) => als.run(split, awaitLoop, n);
}

/**
 * What tlob builds on where `createHook` can leave promises out (Node 24 and 26): promise reactions
 * from `v8.promiseHooks`, every other callback from the hook, the store and a clock read in each.
 */
function promiseHooksApart() {
  const als = new AsyncLocalStorage();
  const store = { t: 0 };
  const callback = () => {
    const s = als.getStore();
    if (s !== undefined) s.t = performance.now();
  };
  createHook({ before: callback, after: callback, trackPromises: false }).enable();
  promiseHooks.onBefore(callback);
  promiseHooks.onAfter(callback);
  return (n) => als.run(store, awaitLoop, n);
}

const major = Number(process.versions.node.split('.')[0]);
const allVariants = {
  none: { label: '(a) no hooks at all', setup: async () => awaitLoop },
  bareHook: {
    label: '(b) bare hook: `createHook` before/after + `getStore`, store set',
    setup: async () => bareHook(false),
  },
  bareHookClock: {
    label: '(b′) bare hook + one `performance.now()` per callback (reference)',
    setup: async () => bareHook(true),
  },
  bareHookClockSettled: {
    label: '(b″) (b′) + a `v8.promiseHooks.onSettled` hook that looks for one promise (reference)',
    setup: async () => bareHook(true, true),
  },
  bareAccounting: {
    label:
      '(b⁗) (b″) + the least a split needs per callback: a state check, one bucket added to, the time kept (reference)',
    until: 24, // where (b″)'s mechanism is the only one; Node 24+ run on (b‴)'s
    setup: async () => bareAccounting(),
  },
  bareHookClockOthers: {
    label:
      '(b′ₒ) (b′) after its storage carried the store into a timer, an immediate, a `nextTick`, an `AsyncResource` and an fs request (for reading)',
    until: 24, // where the storage's propagation is an init hook on every resource
    setup: async () => bareHook(true, false, true),
  },
  bareAccountingOthers: {
    label: '(b⁗ₒ) (b⁗) after the same other resources (for reading)',
    until: 24,
    setup: async () => bareAccounting(true),
  },
  promiseHooksClock: {
    label:
      '(b‴) the mechanism tlob uses on Node 24+: `createHook` before/after without promises, `v8.promiseHooks` before/after, `getStore` + one `performance.now()` per callback (for reading)',
    since: 24,
    setup: async () => promiseHooksApart(),
  },
  tlobWindow: {
    label: "(c) inside a tlob window: `tlob.run('await', { budget: '10s' }, …)`",
    setup: async () => {
      const tlob = await loadTlob();
      const options = { budget: '10s' };
      return (n) => tlob.run('await', options, () => awaitLoop(n));
    },
  },
  tlobLoaded: {
    label: '(d) tlob loaded, no window ever opened',
    setup: async () => {
      await loadTlob();
      return awaitLoop;
    },
  },
  tlobIdle: {
    label: '(d′) tlob loaded, no window open (after windows opened and closed)',
    setup: async () => {
      const tlob = await loadTlob();
      const options = { budget: '10s' };
      for (let i = 0; i < 100; i++) await tlob.run('warm', options, () => awaitLoop(10));
      tlob.start({ budget: '10s', name: 'warm-start' }).stop();
      await turn();
      await turn();
      return awaitLoop;
    },
  },
};

const variants = Object.fromEntries(
  Object.entries(allVariants).filter(
    ([, v]) => (v.since === undefined || major >= v.since) && (v.until === undefined || major < v.until),
  ),
);

async function child(name) {
  const body = await variants[name].setup();
  console.log(JSON.stringify(await nsPerAsyncUnit(body, awaits)));
}

async function parent() {
  const rounds = Number(argValue('rounds', '5'));
  progress(
    `await-cost: ${Object.keys(variants).length} variants × ${rounds} rounds, ${awaits} awaits per call`,
  );
  const r = await runRounds(self, Object.keys(variants), { rounds, args: [`--awaits=${awaits}`] });
  const ns = (name) => r[name].ns;
  const base = ns('none');
  const hook = ns('bareHook') - base;
  const rows = Object.keys(variants).map((name) => [
    variants[name].label,
    fmt(ns(name)),
    spread(r[name].samples.map((x) => x.ns)),
    fmt(r[name].wallNs),
    name === 'none' ? '' : `${ns(name) - base >= 0 ? '+' : ''}${fmt(ns(name) - base)}`,
    name === 'none' || name === 'bareHook' ? '' : times((ns(name) - base) / hook),
  ]);
  const added = ns('tlobWindow') - base;
  const floor = ns('bareHookClock') - base;
  const idle = Math.max(ns('tlobLoaded'), ns('tlobIdle')) - base;
  // Separate processes of the same code differ by up to ~10% here (see the spread column); call
  // that "no cost". A real per-await cost (a hook left enabled) is +80 ns or more.
  const noise = 0.1 * base;
  const lines = [
    `_${machineLine()} · ${awaits} awaits per call · median of ${rounds} processes × 9 batches of ~40 ms · differences of CPU time_`,
    '',
    table(['variant', 'CPU ns/await', 'spread', 'wall ns/await', 'added vs (a)', 'added ÷ bare hook'], rows),
    '',
    'Targets (DESIGN §6):',
    '',
    verdict(
      added <= 1.25 * floor,
      `accounting inside a window adds ≤ 1.25× what (b′) adds: +${fmt(added)} ns vs +${fmt(floor)} ns` +
        ` = ${times(added / floor)}`,
    ),
    verdict(
      idle <= noise,
      `no window open costs nothing: ${idle >= 0 ? '+' : ''}${fmt(idle)} ns per await` +
        ` (noise allowance 10% of (a) = ${fmt(noise)} ns)`,
    ),
    '',
    'For reading:',
    '',
    ...readingLines(added, ns, base),
  ];
  console.log(lines.join('\n'));
}

/** tlob's added cost against the other references: what watching the call's promise costs, and the mechanism of Node 24+. */
function readingLines(added, ns, base) {
  const lines = [
    `- tlob adds ${times(added / (ns('bareHookClockSettled') - base))} what (b″) adds` +
      ` (+${fmt(added)} ns vs +${fmt(ns('bareHookClockSettled') - base)} ns)`,
  ];
  if (variants.bareAccounting !== undefined) {
    const least = ns('bareAccounting') - base;
    lines.push(
      `- the least split on this mechanism, (b⁗), adds ${times(least / (ns('bareHookClock') - base))} what (b′) adds` +
        ` (+${fmt(least)} ns vs +${fmt(ns('bareHookClock') - base)} ns); tlob adds ${times(added / least)} of it,` +
        ` ${fmt(added - least)} ns per await beyond it`,
    );
  }
  if (variants.bareHookClockOthers !== undefined) {
    const others = ns('bareHookClockOthers') - base;
    const leastOthers = ns('bareAccountingOthers') - base;
    lines.push(
      `- once the storage has carried a store into a few resources that are not promises, as in every program (and in (c)'s own process: tlob's budget timer), (b′) adds +${fmt(others)} ns and (b⁗) +${fmt(leastOthers)} ns;` +
        ` tlob adds ${times(added / others)} what (b′ₒ) adds, ${fmt(added - leastOthers)} ns per await beyond (b⁗ₒ)`,
    );
  }
  if (variants.promiseHooksClock !== undefined) {
    const apart = ns('promiseHooksClock') - base;
    lines.push(
      `- tlob adds ${times(added / apart)} what (b‴), the mechanism it runs on here, adds` +
        ` (+${fmt(added)} ns vs +${fmt(apart)} ns): the rest is tlob's own work per continuation`,
    );
  }
  return lines;
}

const variant = argValue('variant', undefined);
if (variant !== undefined) await child(variant);
else await parent();
