import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { attach, type Probe, type ProbeCall, tlob, type WindowResult } from '../../src/index.js';
import { sleep } from '../helpers.js';

const require = createRequire(import.meta.url);
const asyncLib = require('async');
const probes: Probe<any>[] = [];
afterEach(() => {
  for (const p of probes.splice(0)) p.detach();
});

/** `tlob.attach` with `callback: true` on a fresh copy of async's exports; the window results. */
function attachEach(name: string): { lib: any; results: WindowResult[] } {
  const lib = { ...asyncLib };
  const results: WindowResult[] = [];
  probes.push(tlob.attach(lib, name, { budget: '10s', callback: true, onStop: (r) => results.push(r) }));
  return { lib, results };
}

describe('completion callbacks are recognised by what they are', () => {
  it("promise-style with an async iteratee last: not a callback; the call resolves and its window closes at the promise's settlement", async () => {
    const { lib, results } = attachEach('each');
    const seen: number[] = [];
    const started = performance.now();
    await lib.each([1, 2, 3], async (x: number) => {
      await sleep(20);
      seen.push(x);
    });
    const tookMs = performance.now() - started;
    expect(seen.sort()).toEqual([1, 2, 3]);
    expect(results).toHaveLength(1);
    const elapsedMs = (results[0] as WindowResult).elapsedNs / 1e6;
    // the window covered the iteratees' sleeps: it did not close at the first iteratee call
    expect(elapsedMs).toBeGreaterThanOrEqual(18);
    expect(elapsedMs).toBeLessThanOrEqual(tookMs + 1);
  });

  it('callback-style with a plain completion callback: the window closes when it is called', async () => {
    const { lib, results } = attachEach('eachSeries');
    let doneAt = 0;
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      lib.eachSeries(
        [1, 2],
        (_x: number, cb: () => void) => setTimeout(cb, 10),
        (error: unknown) => {
          doneAt = performance.now();
          if (error) reject(error);
          else resolve();
        },
      );
    });
    expect(results).toHaveLength(1);
    const elapsedMs = (results[0] as WindowResult).elapsedNs / 1e6;
    expect(elapsedMs).toBeGreaterThanOrEqual(18);
    expect(elapsedMs).toBeLessThanOrEqual(doneAt - started + 1);
  });

  it('async generator functions and classes last are not callbacks either', () => {
    const seen: unknown[] = [];
    const target = { take: (fn: unknown) => fn };
    probes.push(attach(target, 'take', { callback: true, ret: (c: ProbeCall<any>) => seen.push(c.end) }));
    const gen = async function* () {};
    class Job {}
    expect(target.take(gen)).toBe(gen);
    expect(target.take(Job)).toBe(Job);
    expect(seen).toEqual(['return', 'return']);
  });

  it("a wrapped callback keeps its prototype, own properties, name and length (async.memoize's unmemoized)", () => {
    const memo = asyncLib.memoize((x: number, cb: (e: null, v: number) => void) => cb(null, x));
    const target = {
      call(cb: Function) {
        return {
          proto: Object.getPrototypeOf(cb),
          unmemoized: (cb as { unmemoized?: unknown }).unmemoized,
          name: cb.name,
          length: cb.length,
          same: cb === memo,
        };
      },
    };
    const plain = target.call(memo);
    probes.push(tlob.attach(target, 'call', { budget: '10s', callback: true }));
    const wrapped = target.call(memo);
    expect(wrapped.same).toBe(false); // it is a wrapper, which observes the completion
    expect({ ...wrapped, same: true }).toEqual({ ...plain, same: true });
    expect(wrapped.unmemoized).toBeTypeOf('function');
  });
});
