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

/**
 * Another call holds the thread for `forMs`, from `afterMs` on: when it really began and ended,
 * and the thread's time kept from a CPU (`descheduledMs()`) when it ended.
 */
function holdThread(
  afterMs: number,
  forMs: number,
): Promise<{ heldFrom: number; heldTo: number; descheduledTo: number }> {
  return new Promise((resolve) =>
    setTimeout(() => {
      const heldFrom = performance.now();
      spin(forMs);
      resolve({ heldFrom, heldTo: performance.now(), descheduledTo: descheduledMs() });
    }, afterMs),
  );
}

describe('a violation found late describes the deadline', () => {
  it('budget timer delayed by a held thread: state and split at the deadline, and how late it was found', async () => {
    await retry(3, async () => {
      let v: TlobViolation | undefined;
      let t0 = 0;
      let armedFrom = 0;
      let armedTo = 0;
      let yieldedAt = 0;
      let heldTo = 0;
      let descheduledTo = 0;
      let foundAt = 0;
      let descheduledAtFound = 0;
      let preemptedMs = 0;
      // the first window of a fresh test worker compiles the call path as it goes: warm it first
      await tlob.run('late-warm-up', { budget: '1s' }, () => sleep(1));
      // when the violation was really found: its subscribers are called as it is
      const found = tlob.subscribe('error', (x) => {
        if ((x as TlobViolation).name !== 'late') return;
        foundAt = performance.now();
        descheduledAtFound = descheduledMs();
      });
      try {
        await expectViolation(async () => {
          // another call, from ~10 ms to ~500 ms: its timer, made first, runs before the window's
          const holding = holdThread(10, 490);
          t0 = performance.now();
          const before = descheduledMs();
          const run = tlob.run('late', { budget: '50ms' }, () => {
            armedFrom = performance.now();
            const timer = sleep(20); // due 20 ms after it is made
            armedTo = performance.now();
            return timer;
          });
          yieldedAt = performance.now();
          preemptedMs = descheduledMs() - before; // the thread kept from a CPU inside the window's own code
          ({ heldTo, descheduledTo } = await holding);
          await run;
          await sleep(5);
        }).then((violation) => {
          v = violation;
        });
      } finally {
        found();
      }
      const r = v as TlobViolation;
      // asleep from its yield until its timer was due, waiting from then to its deadline, 50 ms
      // after it opened: what the thread took from opening the window to making the timer, and
      // from making it to the yield (µs, unless it was kept from a CPU), moves those moments
      expect(r.state).toBe('waiting');
      expect(ms(r.elapsedNs)).toBeCloseTo(50, 3);
      expect(ms(r.sleepingNs)).toBeGreaterThanOrEqual(20 - (yieldedAt - armedFrom) - 3);
      expect(ms(r.sleepingNs)).toBeLessThanOrEqual(20 + 3);
      expect(ms(r.waitingNs)).toBeGreaterThanOrEqual(30 - (armedTo - t0) - 3);
      expect(ms(r.waitingNs)).toBeLessThanOrEqual(30 + 3);
      expect(ms(r.runningNs)).toBeLessThan(1 + preemptedMs);
      // its deadline: 50 ms after the window opened (after `t0`, and before it made its timer)
      const deadline = r.at - performance.timeOrigin;
      expect(deadline).toBeGreaterThanOrEqual(t0 + 50 - 0.001);
      expect(deadline).toBeLessThanOrEqual(armedFrom + 50 + 0.001);
      // found once the hold let go, and published at once: the subscriber is called right after
      // (µs, unless the thread was kept from a CPU since the hold ended)
      expect(foundAt).toBeGreaterThanOrEqual(heldTo);
      const kept = descheduledAtFound - descheduledTo;
      expect(ms(r.reportedLateNs)).toBeGreaterThanOrEqual(foundAt - kept - deadline - 5);
      expect(ms(r.reportedLateNs)).toBeLessThanOrEqual(foundAt - deadline + 5);
    });
  });

  // the watchdog's `setTimeout` tells each window the due time of the timers it makes
  describe('with the timers seen', () => {
    beforeEach(() => trackTimers(true));
    afterEach(() => trackTimers(false));

    it('budget timer due before the window’s own timer, both run late: with the timers seen (the watchdog’s `setTimeout`), waiting at its deadline, not sleeping', async () => {
      await retry(3, async () => {
        const seen = collectViolations();
        // when each violation was really found: subscribers are called as it is
        const foundAt = new Map<string, number>();
        const found = tlob.subscribe('error', (v) => {
          foundAt.set((v as TlobViolation).name, performance.now());
        });
        let opened = 0;
        let armedFrom = 0;
        let armedTo = 0;
        let yieldedAt = 0;
        let heldFrom = 0;
        let heldTo = 0;
        let timerRanAt = 0;
        try {
          await tlob.run('late-timer-warm-up', { budget: '1s' }, () => sleep(1));
          // another call, from ~1 ms to ~41 ms: its timer, made first, runs before the windows'
          const holding = holdThread(1, 40);
          // a window whose 3 ms budget arms the budget timer before the 5 ms timer below is due
          const early = tlob.run('late-timer-early', { budget: '3ms' }, () => sleep(60));
          opened = performance.now();
          const late = tlob.run('late-timer', { budget: '20ms' }, async () => {
            armedFrom = performance.now();
            const timer = sleep(5); // due 5 ms after it is made: ready from then on, however late its callback runs
            armedTo = performance.now();
            await timer;
            timerRanAt = performance.now();
          });
          yieldedAt = performance.now();
          ({ heldFrom, heldTo } = await holding);
          await Promise.all([early, late]);
        } finally {
          found();
          seen.stop();
        }
        // the scenario needs both timers to run after the hold: the budget timer then finds both
        // windows past their deadlines before the window's own timer runs. A thread kept from a
        // CPU for 3 ms while the first window opened breaks its budget before it yields, and
        // before the hold
        if ((foundAt.get('late-timer-early') ?? 0) < heldFrom)
          throw new Error('the 3 ms window broke its budget before the hold began');
        if (timerRanAt < heldTo) throw new Error('the window’s timer ran before the hold ended');
        const v = seen.list.find((found) => found.name === 'late-timer') as TlobViolation;
        expect(v, 'the 20 ms window broke its budget').toBeDefined();
        expect(v.state).toBe('waiting');
        expect(ms(v.elapsedNs)).toBeCloseTo(20, 3);
        // asleep from its yield until its timer was due, waiting from then to its deadline, 20 ms
        // after it opened: what the thread took from opening the window to making the timer, and
        // from making it to the yield (µs, unless it was kept from a CPU), moves those moments
        expect(ms(v.sleepingNs)).toBeGreaterThanOrEqual(5 - (yieldedAt - armedFrom) - 3);
        expect(ms(v.sleepingNs)).toBeLessThanOrEqual(5 + 3);
        expect(ms(v.waitingNs)).toBeGreaterThanOrEqual(15 - (armedTo - opened) - 3);
        expect(ms(v.waitingNs)).toBeLessThanOrEqual(15 + 3);
      });
    });

    it('a slow subscriber holds the turn of the budget timer, which expires a window whose own timer came due and has not run: with the timers seen (the watchdog’s `setTimeout`), waiting from that due time', async () => {
      await retry(3, async () => {
        const seen = collectViolations();
        let t0 = 0;
        let opened = 0;
        let made = 0;
        let yieldedAt = 0;
        let held = 0;
        // the expiry of the 1 ms window holds the thread for 40 ms in the turn of the budget timer,
        // which then finds the 20 ms window past its deadline. The window's own 5 ms timer came due
        // meanwhile: Node runs timers in the order they come due, so it runs only after that, later
        // in the same turn, or in the next one when the turn began before it was due
        const slow = tlob.subscribe('error', (v) => {
          if ((v as TlobViolation).name !== 'long-turn-early') return;
          held = performance.now();
          spin(40);
        });
        try {
          await tlob.run('long-turn-warm-up', { budget: '1s' }, () => sleep(1));
          t0 = performance.now();
          const early = tlob.run('long-turn-early', { budget: '1ms' }, () => sleep(100));
          opened = performance.now();
          const late = tlob.run('long-turn', { budget: '20ms' }, () => {
            made = performance.now();
            return sleep(5);
          });
          yieldedAt = performance.now();
          await Promise.all([early, late]);
        } finally {
          slow();
          seen.stop();
        }
        // a thread kept from a CPU for 1 ms while the first window opened breaks its budget before
        // it yields, and the hold comes before the second window opens
        if (held < opened) throw new Error('the 1 ms window broke its budget before it yielded');
        const v = seen.list.find((found) => found.name === 'long-turn') as TlobViolation;
        expect(v, 'the 20 ms window broke its budget').toBeDefined();
        expect(v.state).toBe('waiting');
        expect(ms(v.elapsedNs)).toBeCloseTo(20, 3);
        // asleep from its yield until its timer was due: 4–5 ms after the timer was made (the loop
        // clock counts whole milliseconds), less what the thread took from making it to the yield
        // (µs, unless it was kept from a CPU)
        const timerDueBy = made + 5;
        expect(ms(v.sleepingNs)).toBeLessThanOrEqual(timerDueBy - t0 + 0.5);
        expect(ms(v.sleepingNs)).toBeGreaterThanOrEqual(3 - (yieldedAt - made));
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
