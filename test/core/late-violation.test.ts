import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type TlobViolation, tlob } from '../../src/index.js';
import { trackTimers } from '../../src/watchdog/timer-readiness.js';
import { descheduledMs } from '../descheduled.js';
import { collectViolations, expectViolation, ms, retry, sleep, spin } from '../helpers.js';

beforeAll(() => {
  tlob.reactor('nop');
});
afterAll(() => {
  tlob.reactor('log');
});

/** Another call holds the thread for `forMs`, from `afterMs` on: when it really began and ended. */
function holdThread(afterMs: number, forMs: number): Promise<{ heldFrom: number; heldTo: number }> {
  return new Promise((resolve) =>
    setTimeout(() => {
      const heldFrom = performance.now();
      spin(forMs);
      resolve({ heldFrom, heldTo: performance.now() });
    }, afterMs),
  );
}

describe('a violation found late describes the deadline', () => {
  it('budget timer delayed by a held thread: state and split at the deadline, and how late it was found', async () => {
    await retry(3, async () => {
      let v: TlobViolation | undefined;
      let t0 = 0;
      let heldFrom = 0;
      let heldTo = 0;
      let preemptedMs = 0;
      // the first window of a fresh test worker compiles the call path as it goes: warm it first
      await tlob.run('late-warm-up', { budget: '1s' }, () => sleep(1));
      let controlAt = 0;
      await expectViolation(async () => {
        // a plain timer with the budget's delay, armed with the window: when this loop really got
        // to timers due at the deadline, once the hold let go (and the thread got a CPU again)
        setTimeout(() => {
          controlAt = performance.now();
        }, 50);
        t0 = performance.now();
        const before = descheduledMs();
        const run = tlob.run('late', { budget: '50ms' }, () => sleep(20)); // its timer is due at 20 ms
        preemptedMs = descheduledMs() - before; // the thread kept from a CPU inside the window's own code
        ({ heldFrom, heldTo } = await holdThread(10, 490)); // another call, from ~10 ms to ~500 ms
        await run;
        await sleep(5);
      }).then((found) => {
        v = found;
      });
      const r = v as TlobViolation;
      // the scenario needs the hold to begin before the window's timer came due
      if (heldFrom - t0 >= 20)
        throw new Error(`the hold began ${heldFrom - t0} ms in, after the 20 ms timer was due`);
      expect(r.state).toBe('waiting');
      expect(ms(r.elapsedNs)).toBeCloseTo(50, 3);
      expect(Math.abs(ms(r.sleepingNs) - 20)).toBeLessThanOrEqual(3);
      expect(Math.abs(ms(r.waitingNs) - 30)).toBeLessThanOrEqual(3);
      expect(ms(r.runningNs)).toBeLessThan(1 + preemptedMs);
      // found when the thread was free again, ~450 ms after the deadline, unless the machine kept
      // the thread from a CPU once the hold let go (the plain timer then ran late too): retried
      if (controlAt - heldTo > 4)
        throw new Error(`timers due at the deadline ran ${controlAt - heldTo} ms after the hold`);
      expect(Math.abs(ms(r.reportedLateNs) - (heldTo - t0 - 50))).toBeLessThanOrEqual(5);
    });
  });

  // the watchdog's `setTimeout` tells each window the due time of the timers it makes
  describe('with the timers seen', () => {
    beforeEach(() => trackTimers(true));
    afterEach(() => trackTimers(false));

    it('budget timer due before the window’s own timer, both run late: with the timers seen (the watchdog’s `setTimeout`), waiting at its deadline, not sleeping', async () => {
      await retry(3, async () => {
        const seen = collectViolations();
        let t0 = 0;
        let heldFrom = 0;
        let heldTo = 0;
        let timerRanAt = 0;
        try {
          await tlob.run('late-timer-warm-up', { budget: '1s' }, () => sleep(1));
          t0 = performance.now();
          // a window whose 3 ms budget arms the budget timer before the 5 ms timer below is due
          const early = tlob.run('late-timer-early', { budget: '3ms' }, () => sleep(60));
          const late = tlob.run('late-timer', { budget: '20ms' }, async () => {
            await sleep(5); // due at 5 ms: ready from then on, however late its callback runs
            timerRanAt = performance.now();
          });
          ({ heldFrom, heldTo } = await holdThread(1, 40)); // another call, from ~1 ms to ~41 ms
          await Promise.all([early, late]);
        } finally {
          seen.stop();
        }
        // the scenario needs both timers to come due while the thread is held
        if (heldFrom - t0 >= 3)
          throw new Error(`the hold began ${heldFrom - t0} ms in, after the budget timer was due`);
        if (timerRanAt < heldTo) throw new Error('the window’s timer ran before the hold ended');
        const v = seen.list.find((found) => found.name === 'late-timer') as TlobViolation;
        expect(v, 'the 20 ms window broke its budget').toBeDefined();
        expect(v.state).toBe('waiting');
        expect(ms(v.elapsedNs)).toBeCloseTo(20, 3);
        expect(Math.abs(ms(v.sleepingNs) - 5)).toBeLessThanOrEqual(3);
        expect(Math.abs(ms(v.waitingNs) - 15)).toBeLessThanOrEqual(3);
      });
    });

    it('a turn that began before the window’s own timer was due expires it late (a slow subscriber): with the timers seen (the watchdog’s `setTimeout`), waiting from that due time', async () => {
      await retry(3, async () => {
        const seen = collectViolations();
        let t0 = 0;
        let held = 0;
        let timerDueBy = 0;
        // the expiry of the 1 ms window holds the thread for 40 ms in the turn of the budget timer,
        // which then finds the 20 ms window past its deadline; that turn began before the window's
        // own 5 ms timer was due, so the timer runs in the next one
        const slow = tlob.subscribe('error', (v) => {
          if ((v as TlobViolation).name !== 'long-turn-early') return;
          held = performance.now();
          spin(40);
        });
        try {
          await tlob.run('long-turn-warm-up', { budget: '1s' }, () => sleep(1));
          t0 = performance.now();
          const early = tlob.run('long-turn-early', { budget: '1ms' }, () => sleep(100));
          const late = tlob.run('long-turn', { budget: '20ms' }, () => {
            const made = performance.now();
            const timer = sleep(5);
            timerDueBy = made + 5; // Node's due time is at most 5 ms after the timer was made
            return timer;
          });
          await Promise.all([early, late]);
        } finally {
          slow();
          seen.stop();
        }
        if (held - t0 >= 4)
          throw new Error(`the hold began ${held - t0} ms in, about when the timer was due`);
        const v = seen.list.find((found) => found.name === 'long-turn') as TlobViolation;
        expect(v, 'the 20 ms window broke its budget').toBeDefined();
        expect(v.state).toBe('waiting');
        expect(ms(v.elapsedNs)).toBeCloseTo(20, 3);
        // asleep until its timer was due (4–5 ms: the loop clock counts whole milliseconds)
        expect(ms(v.sleepingNs)).toBeLessThanOrEqual(timerDueBy - t0 + 0.5);
        expect(ms(v.sleepingNs)).toBeGreaterThanOrEqual(3);
        expect(ms(v.waitingNs)).toBeGreaterThanOrEqual(20 - (timerDueBy - t0) - 0.5);
      });
    });

    it('budget timer runs before the window’s immediate: with the immediates seen (the watchdog’s `setImmediate`), waiting from its yield, not sleeping', async () => {
      await retry(3, async () => {
        await tlob.run('late-immediate-warm-up', { budget: '1s' }, () => sleep(1));
        let t0 = 0;
        let yieldedAt = 0;
        let heldTo = 0;
        let run: Promise<unknown> | undefined;
        const v = await expectViolation(async () => {
          await new Promise<void>((resolve) => {
            // both in one check phase: the window's immediate, queued there, runs in the next
            // turn's, after that turn's timers, which find the deadline passed during the hold
            setImmediate(() => {
              t0 = performance.now();
              run = tlob.run('late-immediate', { budget: '20ms' }, () => new Promise((r) => setImmediate(r)));
              yieldedAt = performance.now();
            });
            setImmediate(() => {
              spin(60); // another call
              heldTo = performance.now();
              resolve();
            });
          });
          await run;
        });
        expect(v.event).toBe('budget_expired');
        expect(v.state).toBe('waiting');
        expect(ms(v.elapsedNs)).toBeCloseTo(20, 3);
        expect(v.sleepingNs).toBe(0);
        // waiting from the yield: all of the budget but what the window ran before it
        expect(ms(v.waitingNs)).toBeGreaterThanOrEqual(20 - (yieldedAt - t0) - 0.01);
        expect(ms(v.reportedLateNs)).toBeGreaterThan(heldTo - t0 - 20 - 5);
      });
    });

    it('with the immediates seen, an immediate the window cleared does not make it ready', async () => {
      const v = await expectViolation(() =>
        tlob.run('cleared-immediate', { budget: '20ms' }, () => {
          clearImmediate(setImmediate(() => {})); // an immediate the call no longer needs
          return sleep(60);
        }),
      );
      expect(v.state).toBe('sleeping');
      expect(ms(v.waitingNs)).toBeLessThan(1);
    });

    it('with the timers seen, a timer the window cleared does not make it ready', async () => {
      const v = await expectViolation(() =>
        tlob.run('cleared-timer', { budget: '20ms' }, () => {
          clearTimeout(setTimeout(() => {}, 5)); // a timeout the call no longer needs
          return sleep(60);
        }),
      );
      expect(v.state).toBe('sleeping');
      expect(ms(v.waitingNs)).toBeLessThan(1);
    });
  });

  it('a synchronous call that holds the thread past its budget: running for the whole budget, found late at its stop', async () => {
    await retry(3, async () => {
      let spun = 0;
      const v = await expectViolation(() =>
        tlob.run('sync-late', { budget: '20ms' }, () => {
          const t = performance.now();
          spin(100);
          spun = performance.now() - t;
        }),
      );
      expect(v.event).toBe('stop');
      expect(v.state).toBe('running');
      expect(ms(v.elapsedNs)).toBeCloseTo(20, 3);
      expect(ms(v.runningNs)).toBeCloseTo(20, 3);
      expect(Math.abs(ms(v.reportedLateNs) - (spun - 20))).toBeLessThanOrEqual(2);
    });
  });

  it('a violation found on time says so', async () => {
    await retry(5, async () => {
      // a plain timer armed just before the window, with the budget's delay: how late this loop
      // really ran a timer due then (a loaded machine can keep the thread from a CPU past it)
      let controlLate = 0;
      const armed = performance.now();
      setTimeout(() => {
        controlLate = performance.now() - (armed + 5);
      }, 5);
      let setUp = 0; // from before the window opened to after it yielded
      const v = await expectViolation(() => {
        const before = performance.now();
        const done = tlob.run('on-time', { budget: '5ms' }, () => sleep(30));
        setUp = performance.now() - before;
        return done;
      });
      if (setUp >= 5) throw new Error(`the window yielded ${setUp} ms after it opened, past its 5 ms budget`);
      expect(v.event).toBe('budget_expired');
      expect(ms(v.reportedLateNs)).toBeLessThan(5 + Math.max(0, controlLate));
    });
  });
});
