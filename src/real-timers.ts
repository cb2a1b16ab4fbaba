import { performance } from 'node:perf_hooks';
import * as timers from 'node:timers';

/*
 * Node's timers and clock as they were when tlob loaded. The fake timers of test libraries (sinon,
 * `@sinonjs/fake-timers`, Jest, Vitest, `node:test`'s `mock.timers`) replace the globals, the
 * exports of `node:timers` and `performance.now` while a test runs; tlob's own work (the budget
 * timer, the microtasks that close windows and switch them off the thread, the releases of its
 * hooks) must run on real time whatever a test does with its clock, or it would run on the fake
 * one (moving a test's clock, counted among its timers) and be lost when the test drops its fakes,
 * leaving tlob waiting for it for good. `node:timers` has them where the globals are another
 * environment's (Jest's jsdom).
 */

export const setTimeout = timers.setTimeout;
export const clearTimeout = timers.clearTimeout;
export const setImmediate = timers.setImmediate;
export const clearImmediate = timers.clearImmediate;
export const setInterval = timers.setInterval;
export const clearInterval = timers.clearInterval;
/** The class of Node's immediates (not exported by Node): `_destroyed` once run or cleared. */
export const Immediate: new (...args: never[]) => object = (() => {
  const probe = setImmediate(() => {});
  clearImmediate(probe);
  return probe.constructor as new (
    ...args: never[]
  ) => object;
})();
export const queueMicrotask: (callback: () => void) => void =
  globalThis.queueMicrotask ?? ((callback) => void Promise.resolve().then(callback));

/** `Performance.prototype.now`: a fake clock replaces the `now` of the `performance` object. */
const performanceNow = Object.getPrototypeOf(performance).now as () => number;

/** `performance.now()` of the real clock, in milliseconds since the thread's time origin. */
export function nowMs(): number {
  return performanceNow.call(performance);
}
