import { performance } from 'node:perf_hooks';
import { setTimeout as realSleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tlob, type WindowResult } from '../../src/index.js';
import { collectViolations } from '../helpers.js';

// A test of the program that fakes its timers (Vitest's are @sinonjs/fake-timers, as sinon's and
// Jest's) while windows are open: tlob's own work runs on the real clock, leaves the fake one alone,
// and is not lost when the test puts the real timers back.
beforeEach(() => {
  tlob.reactor('nop');
});
afterEach(() => {
  vi.useRealTimers();
});

describe("a test's fake timers", () => {
  it("neither run tlob's budget timer nor lose it", async () => {
    const violations = collectViolations();
    try {
      vi.useFakeTimers({ now: 0 });
      const job = tlob.run('job', { budget: '5s' }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 100)); // a debounce, on the fake clock
        return 'done';
      });
      void tlob.run('in-test', { budget: '50ms' }, () => new Promise(() => {})); // never settles
      expect(vi.getTimerCount()).toBe(1); // the program's timer only
      await vi.runAllTimersAsync();
      expect(await job).toBe('done');
      expect(Date.now()).toBe(100); // not moved to the budget's deadline
      vi.useRealTimers();
      // a later deadline than the one armed while the timers were faked
      void tlob.run('after', { budget: '100ms' }, () => new Promise(() => {}));
      await realSleep(400);
      const expired = violations.list.filter((v) => v.event === 'budget_expired').map((v) => v.name);
      expect(expired.sort()).toEqual(['after', 'in-test']);
    } finally {
      violations.stop();
    }
  });

  it('that fake queueMicrotask lose no close of a window, then or later', async () => {
    const stopped: string[] = [];
    const onStop = (r: WindowResult) => stopped.push(r.name);
    vi.useFakeTimers({ toFake: ['queueMicrotask'] });
    await tlob.run('faked', { budget: '1s', onStop }, async () => {
      await null;
    });
    tlob.start({ budget: '1s', name: 'bound' }).stop(); // bound at the top level: switched out in a microtask
    vi.useRealTimers();
    await realSleep(10);
    await tlob.run('real', { budget: '1s', onStop }, async () => {
      await null;
    });
    await realSleep(10);
    expect(stopped).toEqual(['faked', 'real']);
    // and a window bound later still sleeps while it waits on a timer
    const window = tlob.start({ budget: '1s', name: 'later' });
    await realSleep(30);
    const result = window.stop();
    expect(result.sleepingNs).toBeGreaterThan(20e6);
  });

  it('that fake performance.now leave the split on the real clock', () => {
    // what @sinonjs/fake-timers 15 does to `node:perf_hooks`: its own `now` on the object
    const real = performance.now;
    let fakeMs = 0;
    Object.defineProperty(performance, 'now', { configurable: true, writable: true, value: () => fakeMs });
    try {
      const window = tlob.start({ budget: '10s', name: 'clock' });
      fakeMs += 1000; // a fake second
      const result = window.stop();
      expect(result.elapsedNs).toBeGreaterThanOrEqual(0);
      expect(result.elapsedNs).toBeLessThan(500e6);
      expect(result.runningNs + result.waitingNs + result.sleepingNs).toBe(result.elapsedNs);
    } finally {
      Reflect.deleteProperty(performance, 'now');
    }
    expect(performance.now).toBe(real);
  });
});
