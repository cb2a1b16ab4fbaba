// Cost of monitoring one call of an async function with one `await` (DESIGN §6): the function
// awaited bare, with the bare mechanism any monitor needs around it (`AsyncLocalStorage.run` per
// call and a before/after hook reading the store), with one `performance.now()` per hook callback
// and two around the call, the floor (what any monitor of the call must do), under `tlob.attach`,
// and in `tlob.run`. Each variant runs in its own process, alternately over several rounds; the
// table shows medians and ratios from this one run.
//
//   node benchmarks/async-call.mjs [--rounds=5] [--profile]
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promiseHooks } from 'node:v8';
import { argValue, progress } from './lib/child.mjs';
import floor from './lib/floor.cjs';
import { importTlob } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';
import { profileVariants } from './lib/profile.mjs';
import { runRounds } from './lib/rounds.mjs';
import { fmt, spread, table, times, verdict } from './lib/summary.mjs';
import { nsPerAsyncUnit } from './lib/timing.mjs';

const self = fileURLToPath(import.meta.url);
const calls = 10_000;

/** The observed function: async, one `await`, a few ns of arithmetic. */
async function one(i) {
  await null;
  return (i * 31) ^ 7;
}

/** A body for `nsPerAsyncUnit`: `n` calls of `call`, one after the other, each awaited. */
const sequential = (call) => async (n) => {
  let sink = 0;
  for (let i = 0; i < n; i++) sink = (sink + (await call(i))) | 0;
  return sink;
};

/**
 * The bare mechanism: each call in `als.run(store, …)` under a before/after hook that reads the
 * store; with `clock`, one `performance.now()` per hook callback and two around the call, the
 * clock reads any time accounting needs.
 */
function bareMechanism(clock) {
  const als = new AsyncLocalStorage();
  const sink = { t: 0, switches: 0 };
  const callback = clock
    ? () => {
        if (als.getStore() !== undefined) sink.t = performance.now();
      }
    : () => {
        if (als.getStore() !== undefined) sink.switches++;
      };
  createHook({ before: callback, after: callback }).enable();
  if (!clock) return (i) => als.run(sink, one, i);
  return async (i) => {
    const t0 = performance.now();
    const result = await als.run(sink, one, i);
    sink.t += performance.now() - t0;
    return result;
  };
}

/**
 * The floor: what any monitor of the call must do on top of the bare mechanism, and nothing
 * else. An object per call as the store, a clock read at the start, one in each hook callback of
 * the call's context until it ends (their difference added to its running time), and the end seen
 * by a settle hook (`v8.promiseHooks.onSettled`, the promise compared with the one call in flight)
 * with a clock read; its deadline into a heap at the start and out of it at the end, and one
 * histogram record at the end: the HTTP suite's floor for one call. Four clock reads per call, as
 * tlob's window makes (its open, its call's return, its continuation's start, its end). No state
 * machine, no waiting/sleeping split, no parents, no budget check, no timer.
 */
function floorMechanism() {
  const als = new AsyncLocalStorage();
  const heap = floor.floorHeap();
  const histogram = floor.floorHistogram();
  class Call {
    constructor(startMs) {
      this.startMs = startMs;
      this.lastMs = startMs;
      this.runningMs = 0;
      this.heapIndex = -1;
      this.ended = false;
    }
  }
  const onBefore = () => {
    const c = als.getStore();
    if (c !== undefined && !c.ended) c.lastMs = performance.now();
  };
  const onAfter = () => {
    const c = als.getStore();
    if (c !== undefined && !c.ended) c.runningMs += performance.now() - c.lastMs;
  };
  createHook({ before: onBefore, after: onAfter }).enable();
  let pending;
  let pendingCall;
  promiseHooks.onSettled((promise) => {
    if (promise !== pending) return;
    pending = undefined;
    const c = pendingCall;
    c.ended = true;
    heap.remove(c);
    histogram.record((performance.now() - c.startMs) * 1e6);
  });
  return (i) => {
    const c = new Call(performance.now());
    heap.insert(c, c.startMs + 10_000);
    const promise = als.run(c, one, i);
    pending = promise;
    pendingCall = c;
    return promise;
  };
}

async function loadTlob() {
  const { tlob } = await importTlob();
  tlob.reactor('nop');
  return tlob;
}

const variants = {
  bare: { label: '(a) the async function, no monitoring', setup: async () => one },
  mechanism: {
    label:
      '(b) bare mechanism: `AsyncLocalStorage.run` per call, `createHook` before/after + `getStore` (reference)',
    setup: async () => bareMechanism(false),
  },
  mechanismClock: {
    label: '(b′) bare mechanism + one `performance.now()` per callback and two around the call',
    setup: async () => bareMechanism(true),
  },
  floor: {
    label:
      '(b″) floor: bare mechanism + an object per call, a clock read at its start, in each callback and at its end seen by a settle hook, a deadline heap entry, one histogram record',
    setup: async () => floorMechanism(),
  },
  attach: {
    label: "(c) under `tlob.attach(obj, 'one', { budget: '10s' })`",
    setup: async () => {
      const tlob = await loadTlob();
      const target = { one };
      tlob.attach(target, 'one', { budget: '10s', name: 'async-one' });
      return (i) => target.one(i);
    },
  },
  run: {
    label: "(d) in `tlob.run('async-one', { budget: '10s' }, …)`",
    setup: async () => {
      const tlob = await loadTlob();
      const options = { budget: '10s' };
      let k = 0;
      const body = () => one(k++);
      return () => tlob.run('async-one', options, body);
    },
  },
};

async function child(name) {
  const call = await variants[name].setup();
  console.log(JSON.stringify(await nsPerAsyncUnit(sequential(call), calls)));
}

async function parent() {
  const rounds = Number(argValue('rounds', '5'));
  progress(`async-call: ${Object.keys(variants).length} variants × ${rounds} rounds`);
  const r = await runRounds(self, Object.keys(variants), { rounds });
  const ns = (name) => r[name].ns;
  const base = ns('bare');
  const mechanism = ns('mechanism') - base;
  const rows = Object.keys(variants).map((name) => [
    variants[name].label,
    fmt(ns(name)),
    spread(r[name].samples.map((x) => x.ns)),
    fmt(r[name].wallNs),
    name === 'bare' ? '' : `+${fmt(ns(name) - base)}`,
    name === 'bare' || name === 'mechanism' ? '' : times((ns(name) - base) / mechanism),
  ]);
  const added = (name) => ns(name) - base;
  const lines = [
    `_${machineLine()} · ${calls} sequential calls per body · median of ${rounds} processes × 9 batches of ~40 ms · differences of CPU time_`,
    '',
    table(['variant', 'CPU ns/call', 'spread', 'wall ns/call', 'added vs (a)', 'added ÷ (b)'], rows),
    '',
    'Target:',
    '',
    verdict(
      added('attach') <= 2 * mechanism,
      `\`tlob.attach\` adds ≤ 2× what the bare mechanism adds: +${fmt(added('attach'))} ns vs` +
        ` +${fmt(mechanism)} ns = ${times(added('attach') / mechanism)}`,
    ),
    `- for reading: \`tlob.run\` adds ${times(added('run') / mechanism)} and (b′) ${times(added('mechanismClock') / mechanism)} of (b)`,
    `- for reading: \`tlob.attach\` adds ${times(added('attach') / added('floor'))} what the floor (b″) adds` +
      ` (+${fmt(added('attach'))} vs +${fmt(added('floor'))} ns); the floor adds ${times(added('floor') / mechanism)} of (b)`,
  ];
  console.log(lines.join('\n'));
  if (process.argv.includes('--profile')) {
    console.log(`\n${await profileVariants(self, ['attach'])}`);
  }
}

const variant = argValue('variant', undefined);
if (variant !== undefined) await child(variant);
else await parent();
