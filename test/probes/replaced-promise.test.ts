import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// A program that replaces the global `Promise` before tlob loads (bluebird as `global.Promise`, a
// core-js polyfill, zone.js): its promises are thenables to the engine, never seen by the settle
// hook. Each window must stay open until such a promise settles, from the first call on, as it
// does for a native one. The replacement here is a minimal promise class of its own (no subclass
// of the native one), installed in a child process before the built package is imported.

const dist = new URL('../../dist/index.js', import.meta.url).href;

const DELAY = 30;

const program = `
class OwnPromise {
  #state = 'pending';
  #value;
  #reactions = [];
  constructor(executor) {
    const settle = (state) => (value) => {
      if (this.#state !== 'pending') return;
      this.#state = state;
      this.#value = value;
      for (const react of this.#reactions.splice(0)) queueMicrotask(react);
    };
    executor(settle('fulfilled'), settle('rejected'));
  }
  then(onFulfilled, onRejected) {
    return new OwnPromise((resolve, reject) => {
      const react = () => {
        const handler = this.#state === 'fulfilled' ? onFulfilled : onRejected;
        if (typeof handler !== 'function') return (this.#state === 'fulfilled' ? resolve : reject)(this.#value);
        try { resolve(handler(this.#value)); } catch (error) { reject(error); }
      };
      if (this.#state === 'pending') this.#reactions.push(react);
      else queueMicrotask(react);
    });
  }
  static resolve(value) { return value instanceof OwnPromise ? value : new OwnPromise((r) => r(value)); }
}
globalThis.Promise = OwnPromise;
const { attach, tlob } = await import(${JSON.stringify(dist)});
const stops = [];
tlob.subscribe('stop', (r) => stops.push(r));
const later = () => new Promise((resolve) => setTimeout(() => resolve('value'), ${DELAY}));
const target = { later };
tlob.attach(target, 'later', { budget: '10s', name: 'attach' });
const calls = {
  run: () => tlob.run('run', { budget: '10s' }, later),
  attach: () => target.later(),
  'run under the throw reactor': () => tlob.run('run-throw', { budget: '10ms' }, later),
};
const out = {};
for (const [entry, call] of Object.entries(calls)) {
  if (entry === 'run under the throw reactor') tlob.reactor('throw');
  const start = performance.now();
  let outcome;
  try {
    outcome = { value: await call() };
  } catch (error) {
    outcome = { error: error.name };
  }
  const truth = performance.now() - start;
  await new globalThis.Promise((resolve) => setTimeout(resolve, 1));
  const window = stops.splice(0).map((r) => ({ ms: r.elapsedNs / 1e6, over: r.overBudget }));
  out[entry] = { truth, window, outcome };
}
// the generic attach reads a native promise's value with the engine's own \`then\`
const seen = [];
const asyncTarget = { async load() { return 'loaded'; } };
attach(asyncTarget, 'load', { ret: (call) => seen.push([call.end, call.result]) });
await asyncTarget.load();
await new globalThis.Promise((resolve) => setTimeout(resolve, 5));
out.ret = seen;
process.stdout.write(JSON.stringify(out));
`;

describe('a global Promise replaced before tlob loads', () => {
  const results = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' }),
  ) as Record<
    string,
    { truth: number; window: { ms: number; over: boolean }[]; outcome: { value?: string; error?: string } }
  > & { ret?: unknown };

  it.each(['run', 'attach'])('%s: the first window lasts until the promise settles, as measured', (entry) => {
    const { truth, window, outcome } = results[entry] as (typeof results)[string];
    expect(outcome).toEqual({ value: 'value' });
    expect(window).toHaveLength(1);
    const elapsed = (window[0] as { ms: number }).ms;
    expect(elapsed).toBeGreaterThanOrEqual(DELAY - 1);
    expect(elapsed).toBeLessThanOrEqual(truth + 1);
  });

  it("attach's ret reads the value of an async function's (native) promise", () => {
    expect(results.ret).toEqual([['fulfilled', 'loaded']]);
  });

  it('the throw reactor: a promise that settles past the budget rejects with TlobBudgetError', () => {
    const { window, outcome } = results['run under the throw reactor'] as (typeof results)[string];
    expect(window).toEqual([{ ms: expect.any(Number), over: true }]);
    expect(outcome).toEqual({ error: 'TlobBudgetError' });
  });
});
