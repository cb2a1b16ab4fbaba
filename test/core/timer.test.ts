import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Clock, currentClock, useClock } from '../../src/clock.js';
import { calibrateTimerClock, timerClockBounds } from '../../src/context/timer-due.js';
import { type TlobWindow, tlob, type WindowResult } from '../../src/index.js';
import { descheduledMs } from '../descheduled.js';
import { collectViolations, ms, retry, sleep, spin } from '../helpers.js';
import { useSimulatedClock } from '../simulated-clock.js';

beforeEach(() => {
  tlob.reactor('nop');
});
afterEach(() => {
  tlob.reactor('nop');
});

describe('budget timer', () => {
  let simulated: ReturnType<typeof useSimulatedClock>;
  beforeEach(() => {
    simulated = useSimulatedClock();
  });
  afterEach(() => {
    simulated.restore();
  });

  it('10,000 windows in flight hold one timer', () => {
    const windows: TlobWindow[] = [];
    for (let i = 0; i < 10_000; i++) windows.push(tlob.start({ budget: '10s', name: 'many' }));
    expect(simulated.clock.scheduledCount).toBe(1);
    for (const w of windows.reverse()) w.stop();
  });

  it('10,000 concurrent async runs hold one timer and report no violation', async () => {
    const seen = collectViolations();
    await Promise.all(
      Array.from({ length: 10_000 }, () =>
        tlob.run('many-async', { budget: '10s' }, async () => {
          await null;
        }),
      ),
    );
    seen.stop();
    expect(simulated.clock.scheduledCount).toBe(1);
    expect(seen.list).toHaveLength(0);
  });

  it('a shorter budget re-arms the timer for the earlier deadline, which reports exactly at it', () => {
    const { clock } = simulated;
    const seen = collectViolations();
    const long = tlob.start({ budget: '10s', name: 'long' });
    const short = tlob.start({ budget: '15ms', name: 'short' });
    expect(clock.scheduledCount).toBe(2);
    clock.advance(14.9);
    expect(seen.list).toHaveLength(0);
    clock.advance(0.1);
    seen.stop();
    short.stop();
    long.stop();
    expect(seen.list.map((v) => v.name)).toEqual(['short']);
    expect(ms(seen.list[0]?.elapsedNs ?? 0)).toBeCloseTo(15, 6);
  });

  it('a timer that fires early is re-armed: the expiry is never reported before the deadline', () => {
    simulated.restore();
    simulated = useSimulatedClock(0.6);
    const { clock } = simulated;
    const seen = collectViolations();
    const w = tlob.start({ budget: '10ms', name: 'early-timer' });
    clock.advance(9.4); // the timer fires 0.6 ms early and finds the deadline not reached
    expect(seen.list).toHaveLength(0);
    expect(clock.pending).toBe(1);
    clock.advance(0.5); // re-armed for 1 ms, early again: 9.8 ms, still before the deadline
    expect(seen.list).toHaveLength(0);
    clock.advance(1);
    seen.stop();
    w.stop();
    expect(seen.list.map((v) => v.name)).toEqual(['early-timer']);
    expect(ms(seen.list[0]?.elapsedNs ?? 0)).toBeGreaterThanOrEqual(10);
    expect(ms(seen.list[0]?.elapsedNs ?? 0)).toBeLessThan(11);
  });

  it('a window stopped before its deadline leaves the timer nothing to report', () => {
    const { clock } = simulated;
    const seen = collectViolations();
    tlob.start({ budget: '5ms', name: 'stopped-early' }).stop();
    clock.advance(50);
    seen.stop();
    expect(seen.list).toHaveLength(0);
    expect(clock.pending).toBe(0);
  });
});

/** How well the loop clock's offset is known: the width of the interval proven to hold it, in ms. */
function width(): number {
  const { lowMs, highMs } = timerClockBounds();
  return highMs - lowMs;
}

describe('budget timer, in real time', () => {
  it('the expiry is reported outside every window (it is not charged as running)', async () => {
    await retry(5, async () => {
      tlob.reactor(() => spin(20)); // runs in the timer's callback
      // the thread's CPU wait in the holder's code (a window counts it as running)
      let preempted = 0;
      let holder: WindowResult | undefined;
      await tlob.run(
        'expirer-holder',
        {
          budget: '10s',
          onStop: (r) => {
            holder = r;
          },
        },
        async () => {
          const from = descheduledMs();
          tlob.start({ budget: '5ms', name: 'expirer' }); // arms the timer inside this window
          let woke = 0;
          const asleep = new Promise<void>(
            (resolve) =>
              setTimeout(() => {
                woke = descheduledMs();
                resolve();
              }, 40), // past the reactor's spin
          );
          preempted = descheduledMs() - from;
          await asleep;
          preempted += descheduledMs() - woke;
        },
      );
      tlob.reactor('nop');
      expect(holder).toBeDefined();
      // the 20 ms spin stays out of the window's running; a run whose thread waited too long for a
      // CPU in the window's code to tell is retried
      if (preempted > 10) throw new Error(`the thread waited ${preempted} ms for a CPU in the window`);
      expect(ms(holder?.runningNs ?? 0)).toBeLessThan(5 + preempted);
    });
  });

  it("fires at the loop's first tick past the deadline, never early: one timer per lone expiry", async () => {
    const real = currentClock();
    let arms = 0;
    // which window is open, and no earlier than when its deadline is (its opening comes after `openedNs`)
    let current = -1;
    let openedNs = 0;
    const fires: { window: number; early: boolean; stale: boolean; afterDueMs: number }[] = [];
    const counting: Clock = {
      now: real.now,
      cancel: real.cancel,
      schedule: (fn, delayMs) => {
        arms++;
        const window = current;
        const dueNs = openedNs + 2e6;
        return real.schedule(() => {
          const now = real.now();
          fires.push({
            window,
            early: now < dueNs,
            stale: current !== window,
            afterDueMs: (now - dueNs) / 1e6,
          });
          fn();
        }, delayMs);
      },
    };
    if (real.delayUntil !== undefined) counting.delayUntil = real.delayUntil;
    const windows = 60;
    // A timer that fires before the deadline finds nothing due and is armed again. Retried: on a
    // loaded machine a timer delayed past the window's end leaves the next window an old timer.
    await retry(3, async () => {
      // the delay comes from the loop clock's offset once it is known precisely, which takes
      // samples on both sides of a tick of that clock (a thread kept from its CPU across the ticks
      // narrows nothing): until then a timer is armed for the distance rounded up, and may fire
      // up to ~1 ms early
      const calibrating = performance.now() + 1000;
      while (width() > 0.02 && performance.now() < calibrating) calibrateTimerClock();
      if (width() > 0.02) throw new Error(`the loop clock's offset is known within ${width()} ms only`);
      arms = 0;
      fires.length = 0;
      const seen = collectViolations();
      const previous = useClock(counting);
      try {
        // each window alone in the queue: armed once when it opens
        for (let i = 0; i < windows; i++) {
          current = i;
          openedNs = real.now();
          await tlob.run('lone-expiry', { budget: '2ms' }, () => sleep(15));
        }
      } finally {
        current = -1;
        useClock(previous);
        seen.stop();
      }
      expect(seen.list).toHaveLength(windows);
      expect(fires.filter((f) => f.early)).toEqual([]); // never before the deadline
      const stale = fires.filter((f) => f.stale);
      if (stale.length > 0)
        throw new Error(`${stale.length} timer(s) fired only after their window had ended`);
      if (arms !== windows) {
        const late = fires.map((f) => f.afterDueMs.toFixed(2)).join(', ');
        expect.fail(
          `${arms} timers armed for ${windows} lone windows; fired at (ms after the deadline) ${late}`,
        );
      }
    });
  });
});
