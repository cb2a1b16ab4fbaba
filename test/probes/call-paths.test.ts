import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { budget, type TlobProbeHandle, tlob, type WindowResult } from '../../src/index.js';
import { ms, retry, sleep } from '../helpers.js';

// The same function, returning each kind of result, run through every entry point that wraps a
// call in a window: each must keep the window open for the same time.

const require = createRequire(import.meta.url);
const MODULE = './test/fixtures/probes/frames/lib.js';
const lib = require('../fixtures/probes/frames/lib.js') as { returns: () => unknown; callModule(): unknown };

const DELAY = 15;

/** What the observed function returns, and how long its window must stay open. */
const kinds = {
  'a value': { call: () => 'value', lasts: 'short' },
  'a throw': {
    call: () => {
      throw new Error('thrown');
    },
    lasts: 'short',
  },
  'a settled promise': { call: () => Promise.resolve('value'), lasts: 'short' },
  'a pending promise': { call: () => sleep(DELAY).then(() => 'value'), lasts: 'long' },
  'an async function': {
    call: async () => {
      await sleep(DELAY);
      return 'value';
    },
    lasts: 'long',
  },
  'a lazy thenable': {
    // a query builder: the work starts when someone calls then
    call: () => ({
      // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test needs
      then(resolve: (v: string) => void) {
        setTimeout(() => resolve('value'), DELAY);
      },
    }),
    lasts: 'long',
  },
} as const;

type Kind = keyof typeof kinds;

/** Wraps `fn` as each entry point does; returns the wrapped function and how to undo it. */
const entryPoints: Record<string, (name: string, fn: () => unknown) => { call(): unknown; undo(): void }> = {
  'tlob.run': (name, fn) => ({ call: () => tlob.run(name, { budget: '10s' }, fn), undo: () => {} }),
  'tlob.attach': (name, fn) => {
    const target = { fn };
    const probe: TlobProbeHandle = tlob.attach(target, 'fn', { budget: '10s', name });
    return { call: () => target.fn(), undo: () => probe.detach() };
  },
  '@budget': (name, fn) => {
    const context = { kind: 'method', name: 'fn', static: false } as unknown as ClassMethodDecoratorContext;
    const method = budget({ budget: '10s', name })(fn, context) as () => unknown;
    return { call: () => method.call({}), undo: () => {} };
  },
  'a module probe': (name, fn) => {
    lib.returns = fn;
    const probe = tlob.attach(MODULE, 'callModule', { budget: '10s', name });
    return { call: () => lib.callModule(), undo: () => probe.detach() };
  },
  'a start/stop pair': (name, fn) => {
    // the window opens at the entry of `begin` and closes when `end` has ended
    const target = { begin: () => {}, end: fn };
    const probe = tlob.attach(target, 'begin', { budget: '10s', name, stopPath: 'end' });
    return {
      call: () => {
        target.begin();
        return target.end();
      },
      undo: () => probe.detach(),
    };
  },
};

let stops: WindowResult[] = [];
let unsubscribe = () => {};
beforeEach(() => {
  stops = [];
  unsubscribe = tlob.subscribe('stop', (r) => stops.push(r as WindowResult));
});
afterEach(() => unsubscribe());

/** Runs one call and waits for its outcome; returns how long its window stayed open. */
async function windowOf(name: string, call: () => unknown): Promise<number> {
  try {
    await call();
  } catch {
    // a throw is one of the kinds
  }
  await sleep(1);
  const mine = stops.filter((r) => r.name === name);
  expect(mine).toHaveLength(1);
  stops = [];
  return ms((mine[0] as WindowResult).elapsedNs);
}

describe.each(Object.keys(entryPoints))('%s', (entry) => {
  it.each(Object.keys(kinds) as Kind[])(
    'returning %s: the window lasts until the call has ended',
    async (kind) => {
      const { call, lasts } = kinds[kind];
      const name = `${entry} ${kind}`;
      const wrapped = (entryPoints[entry] as (typeof entryPoints)[string])(name, call);
      try {
        // the first call teaches the site what the function returns (a thenable is recognised at
        // its return, so that call's window closes there); the second is measured
        await windowOf(name, wrapped.call);
        await retry(3, async () => {
          const elapsed = await windowOf(name, wrapped.call);
          if (lasts === 'long') expect(elapsed).toBeGreaterThanOrEqual(DELAY - 1);
          else expect(elapsed).toBeLessThan(DELAY - 5);
        });
      } finally {
        wrapped.undo();
      }
    },
  );
});
