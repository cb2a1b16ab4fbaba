import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { attach, type Probe, tlob } from '../../src/index.js';

const require = createRequire(import.meta.url);
const lib = require('async') as Record<string, any>;
const names = Object.keys(lib).filter((key) => typeof lib[key] === 'function');
const originals = new Map(names.map((key) => [key, lib[key] as Function]));
/** One name per function; the others are its aliases (`each` and `forEach`). */
const firstNames = names.filter((key) => names.find((k) => lib[k] === lib[key]) === key);
const aliasGroups = firstNames
  .map((key) => names.filter((k) => originals.get(k) === originals.get(key)))
  .filter((group) => group.length > 1);

type Iteratee = (x: number, ...rest: any[]) => unknown;

/** The three kinds of iteratee async takes: sync with a callback, deferred callback, async function. */
const iteratees: Record<string, (f: (x: number) => unknown) => Iteratee> = {
  'sync callback':
    (f) =>
    (x, ...rest) =>
      rest[rest.length - 1](null, f(x)),
  'deferred callback':
    (f) =>
    (x, ...rest) =>
      setImmediate(rest[rest.length - 1], null, f(x)),
  async: (f) => async (x) => {
    await new Promise((resolve) => setImmediate(resolve));
    return f(x);
  },
};

/** Calls `async[name](...args)` callback-style (with a final callback) or promise-style (without). */
function call(name: string, style: string, args: unknown[]): Promise<unknown> {
  if (style === 'promise') {
    return Promise.resolve(lib[name](...args)).then(
      (value) => ({ value }),
      (error) => ({ error: String(error) }),
    );
  }
  return new Promise((resolve) => {
    lib[name](...args, (error: unknown, value: unknown) =>
      resolve(error ? { error: String(error) } : { value }),
    );
  });
}

const items = [5, 3, 8, 1];
/** Collection functions and their arguments before the iteratee, and what the iteratee computes. */
const collection: Array<[string, unknown[], (x: number) => unknown]> = [
  ['each', [items], (x) => x],
  ['eachSeries', [items], (x) => x],
  ['eachLimit', [items, 2], (x) => x],
  ['map', [items], (x) => x * 2],
  ['mapSeries', [items], (x) => x * 2],
  ['mapLimit', [items, 2], (x) => x * 2],
  ['filter', [items], (x) => x > 3],
  ['reject', [items], (x) => x > 3],
  ['detect', [items], (x) => x > 6],
  ['some', [items], (x) => x > 6],
  ['every', [items], (x) => x > 0],
  ['concat', [items], (x) => [x, x]],
  ['sortBy', [items], (x) => -x],
  ['groupBy', [items], (x) => (x % 2 ? 'odd' : 'even')],
  ['times', [3], (x) => x * 10],
  ['mapValues', [{ a: 1, b: 2 }], (x) => x + 1],
];

/** Every scenario: each collection function × iteratee kind × call style, and a few control flows. */
async function scenarios(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, before, f] of collection) {
    for (const [kind, make] of Object.entries(iteratees)) {
      for (const style of ['callback', 'promise']) {
        out[`${name} ${kind} ${style}`] = await call(name, style, [...before, make(f)]);
      }
    }
  }
  for (const style of ['callback', 'promise']) {
    out[`reduce ${style}`] = await call(style === 'promise' ? 'foldl' : 'reduce', style, [
      items,
      0,
      async (sum: number, x: number) => sum + x,
    ]);
    out[`series ${style}`] = await call('series', style, [
      [
        (cb: Function) => cb(null, 1),
        async () => 2,
        (cb: (e: null, v: number) => void) => setImmediate(cb, null, 3),
      ],
    ]);
    out[`parallel ${style}`] = await call('parallel', style, [
      { a: async () => 'A', b: (cb: Function) => cb(null, 'B') },
    ]);
    out[`waterfall ${style}`] = await call('waterfall', style, [
      [(cb: Function) => cb(null, 2), (x: number, cb: Function) => cb(null, x * 21)],
    ]);
    out[`each error ${style}`] = await call('each', style, [
      items,
      async (x: number) => {
        if (x === 8) throw new Error('eight');
      },
    ]);
  }
  const memo = lib.memoize((x: number, cb: (e: null, v: number) => void) => setImmediate(cb, null, x * 3));
  // a memoized function as the iteratee: the probe (with `callback: true`) wraps it in a
  // promise-style call, keeping its own properties
  out.memoize = [await call('map', 'promise', [[7, 7, 2], memo]), typeof memo.unmemoized];
  return out;
}

/** The window name of the probe of `key`'s function (attached under its first name). */
const probeName = (key: string) => `async.${firstNames.find((k) => originals.get(k) === originals.get(key))}`;

function expectAliasesIdentical(): void {
  for (const group of aliasGroups) {
    for (const key of group) expect(lib[key], `${key} === ${group[0]}`).toBe(lib[group[0] as string]);
  }
}

describe('differential: every export of async wrapped vs plain', () => {
  let plain: Record<string, unknown> = {};

  afterAll(() => {
    for (const [key, fn] of originals) lib[key] = fn;
  });

  it('a plain run to compare with; async has aliases', async () => {
    expect(firstNames.length).toBeGreaterThan(50);
    expect(aliasGroups.length).toBeGreaterThan(20);
    plain = await scenarios();
    expect(plain['map async promise']).toEqual({ value: [10, 6, 16, 2] });
    expect(plain['each error callback']).toEqual({ error: 'Error: eight' });
  });

  for (const callback of [false, true]) {
    it(`tlob.attach on every export${callback ? ' with callback: true' : ''}: the same results, aliases identical, no call hangs`, async () => {
      tlob.reactor('nop');
      const probes: Probe<any>[] = firstNames.map((key) =>
        tlob.attach(lib, key, { budget: '60s', name: `async.${key}`, callback }),
      );
      try {
        expectAliasesIdentical();
        for (const key of names) expect(lib[key]).not.toBe(originals.get(key));
        tlob.resetStats();
        expect(await scenarios()).toEqual(plain);
        const counts = Object.fromEntries(tlob.stats().map((s) => [s.name, s.count]));
        // `reduce` and `foldl` are one function: their calls are the one probe's windows
        expect(counts[probeName('reduce')]).toBe(2);
        expect(counts[probeName('each')]).toBeGreaterThanOrEqual(8);
      } finally {
        for (const probe of probes) probe.detach();
        tlob.reactor('log');
      }
      for (const key of names) expect(lib[key]).toBe(originals.get(key));
    });
  }

  it('attach (entry/ret) on every export: the same results, aliases identical', async () => {
    let ends = 0;
    const handlers = { ret: () => void ends++ };
    const probes = firstNames.map((key) => attach(lib, key, handlers));
    try {
      expectAliasesIdentical();
      expect(await scenarios()).toEqual(plain);
      expect(ends).toBeGreaterThan(100);
    } finally {
      for (const probe of probes) probe.detach();
    }
    for (const key of names) expect(lib[key]).toBe(originals.get(key));
  });
});
