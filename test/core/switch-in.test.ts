import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { schedulerHooksEnabled } from '../../src/context/scheduler-hooks.js';
import type { Task } from '../../src/context/task.js';
import { type TransitionEvent, tlob, type WindowResult } from '../../src/index.js';
import { expectViolation, retry, sleep, spin } from '../helpers.js';
import { useSimulatedClock } from '../simulated-clock.js';

afterEach(() => {
  tlob.reactor('nop');
});

/**
 * A window driven through the scheduler's calls on a simulated clock (times in ms from its start):
 * it runs 1 ms, sleeps, its continuation becomes runnable at `readyMs` and starts at 5 ms, and it
 * stops at 6 ms. Returns the result and the transitions a `tlob:event` subscriber saw, if any.
 */
function sleepThenRun(readyMs: number, withSubscriber: boolean): { result: WindowResult; seen: string[] } {
  const simulated = useSimulatedClock();
  const seen: string[] = [];
  const listener = (message: unknown) => {
    const e = message as TransitionEvent;
    if (e.name === 'switch-in') seen.push(`${e.event}@${(e.atNs - t0) / 1e6}`);
  };
  if (withSubscriber) subscribe('tlob:event', listener);
  const t0 = simulated.clock.now();
  try {
    const window = tlob.start({ budget: '1s', name: 'switch-in' });
    const task = window as unknown as Task;
    simulated.clock.advance(1);
    task.switchOut(simulated.clock.now());
    simulated.clock.advance(4);
    task.switchIn(simulated.clock.now(), t0 + readyMs * 1e6);
    simulated.clock.advance(1);
    return { result: window.stop(), seen };
  } finally {
    if (withSubscriber) unsubscribe('tlob:event', listener);
    simulated.restore();
  }
}

describe('a continuation switching a sleeping window in', () => {
  it('counts sleeping until it was runnable, waiting until it ran, with or without a transition subscriber', () => {
    for (const withSubscriber of [false, true]) {
      const { result } = sleepThenRun(3, withSubscriber);
      expect(result).toMatchObject({ runningNs: 2e6, sleepingNs: 2e6, waitingNs: 2e6, elapsedNs: 6e6 });
    }
  });

  it('counts all waiting when it was runnable before the window slept, all sleeping when it ran as soon as ready', () => {
    expect(sleepThenRun(0, false).result).toMatchObject({ runningNs: 2e6, sleepingNs: 0, waitingNs: 4e6 });
    expect(sleepThenRun(5, false).result).toMatchObject({ runningNs: 2e6, sleepingNs: 4e6, waitingNs: 0 });
    // a readiness reported after the start is taken as the start
    expect(sleepThenRun(9, false).result).toMatchObject({ runningNs: 2e6, sleepingNs: 4e6, waitingNs: 0 });
  });

  it('publishes every transition at its own time to a tlob:event subscriber', () => {
    const { seen } = sleepThenRun(3, true);
    expect(seen).toEqual(['start@0', 'sleep@1', 'wakeup@3', 'switch_in@5', 'stop@6']);
  });
});

describe('a switch past the budget', () => {
  it('is the violation: a continuation that ran past it ends in `running` at `sleep`', async () => {
    const violation = await expectViolation(() =>
      tlob.run('overrun', { budget: '5ms' }, async () => {
        await null;
        spin(10);
        await sleep(1);
      }),
    );
    expect(violation).toMatchObject({ state: 'running', event: 'sleep' });
  });

  it('is the violation: a continuation that comes past it finds the window `waiting` at `switch_in`', async () => {
    // of no window, and before the window's in the same check phase: the window was ready (woke up)
    // within its budget, and waited past it
    await retry(5, async () => {
      setImmediate(() => spin(10));
      let heldMs = 0;
      const violation = await expectViolation(() => {
        const opened = performance.now();
        const call = tlob.run(
          'held-up',
          { budget: '5ms' },
          () => new Promise((resolve) => setImmediate(resolve)),
        );
        heldMs = performance.now() - opened;
        return call;
      });
      // ground truth: a thread kept from its CPU while the window opened ran past the budget there
      // (found at its yield, in `running`), not the scenario
      if (heldMs >= 4) throw new Error(`the window's opening held the thread ${heldMs.toFixed(1)} ms`);
      expect(violation).toMatchObject({ state: 'waiting', event: 'switch_in' });
    });
  });
});

describe('the scheduler hooks', () => {
  it('are enabled while a window awaits, and off again once no window is open', async () => {
    let during = false;
    await tlob.run('hooks-held', { budget: '1s' }, async () => {
      await null;
      during = schedulerHooksEnabled();
      await sleep(1);
    });
    expect(during).toBe(true);
    await sleep(5); // turned off in the check phase
    expect(schedulerHooksEnabled()).toBe(false);
  });

  it('switch a window in for the promise reaction after an await: its spin there is running time', async () => {
    let spunNs = 0;
    let awaitedNs = 0;
    const result = await tlob.run('reaction', { budget: '1s' }, async () => {
      // off the thread from its return to the reaction: sleeping up to the timer's due time,
      // waiting after it. How long that was is measured, not assumed: a timer's delay counts from
      // the loop's cached time, which can be a few ms old on a busy test worker
      const awaitStart = performance.now();
      await sleep(5);
      awaitedNs = (performance.now() - awaitStart) * 1e6;
      const t = performance.now();
      spin(5);
      spunNs = (performance.now() - t) * 1e6;
      await null;
      return tlob.current();
    });
    const window = result as unknown as { runningNs: number; sleepingNs: number; waitingNs: number };
    expect(window.runningNs).toBeGreaterThanOrEqual(spunNs);
    expect(window.sleepingNs).toBeGreaterThan(0);
    expect(window.sleepingNs + window.waitingNs).toBeGreaterThanOrEqual(awaitedNs - 0.5e6);
  });

  it('switch a window bound during a continuation of no window off the thread when that continuation ends', async () => {
    // Another window holds the hooks, so they see the continuation begin with no window current.
    // The reaction queued right after it, of no window either, spins: the window sleeps meanwhile,
    // although the microtask that switches out windows bound at the top level comes only after.
    const holder = tlob.run('holds-hooks', { budget: '1s' }, () => sleep(50));
    await retry(3, async () => {
      let window: ReturnType<typeof tlob.start> | undefined;
      let spunNs = 0;
      const settled = Promise.resolve();
      const bound = settled.then(() => {
        window = tlob.start({ budget: '1s', name: 'bound-in-reaction' });
      });
      const spun = settled.then(() => {
        const t = performance.now();
        spin(5);
        spunNs = (performance.now() - t) * 1e6;
      });
      await Promise.all([bound, spun]);
      const result = (window as NonNullable<typeof window>).stop();
      expect(spunNs).toBeGreaterThanOrEqual(5e6);
      expect(result.runningNs).toBeLessThan(spunNs / 2);
      expect(result.sleepingNs + result.waitingNs).toBeGreaterThanOrEqual(spunNs);
    });
    await holder;
  });
});
