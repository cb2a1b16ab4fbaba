import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timerClockBounds } from '../../src/context/timer-due.js';
import { tlob, type WindowResult } from '../../src/index.js';
import { descheduledMs, hold } from '../descheduled.js';
import { collectViolations, ms, retry, sleep, spin } from '../helpers.js';

beforeAll(() => {
  tlob.reactor('nop');
});
afterAll(() => {
  tlob.reactor('log');
});

/** Runs `fn` in a window and resolves with the window's result. */
function measure(name: string, fn: () => unknown, budget: string | number = '10s'): Promise<WindowResult> {
  return new Promise((resolve, reject) => {
    try {
      const out = tlob.run(name, { budget, onStop: resolve }, fn as () => unknown);
      if (out instanceof Promise) out.catch(reject);
    } catch (error) {
      reject(error);
    }
  });
}

/** Runs `block` and returns how long it really took, in ms: the ground truth a test compares with. */
function took(block: () => void): number {
  const t0 = performance.now();
  block();
  return performance.now() - t0;
}

function expectSums(r: WindowResult): void {
  expect(Math.abs(r.runningNs + r.waitingNs + r.sleepingNs - r.elapsedNs)).toBeLessThanOrEqual(2);
}

describe('where the time goes', () => {
  it('a 20 ms spin reports at least 95% running', async () => {
    await retry(5, async () => {
      let spun = 0;
      const r = await measure('spin20', () => {
        spun = took(() => spin(20));
      });
      expectSums(r);
      expect(r.runningNs / r.elapsedNs).toBeGreaterThanOrEqual(0.95);
      expect(ms(r.runningNs)).toBeGreaterThanOrEqual(spun);
    });
  });

  it('await a 30 ms timer, then spin 10 ms: sleeping ≈ 30 ms, running ≈ 10 ms (±2 ms)', async () => {
    await retry(5, async () => {
      // ground truth, which a loaded machine may stretch: the spin; the two stretches the window's
      // code held the thread (from the call to its yield, and the continuation after the timer, with
      // the readings in it); the time from arming the timer to the yield; and the thread's wait
      // for a CPU over the window's life outside the continuation (in its code, which it counts as
      // running, or once its timer was due)
      let spun = 0;
      let armedAt = 0;
      let continued = 0;
      let inContinuation = 0;
      const d0 = descheduledMs();
      const calledAt = performance.now();
      const done = measure('sleep-then-spin', async () => {
        armedAt = performance.now();
        await sleep(30);
        const c = hold(() => {
          spun = took(() => spin(10));
        });
        inContinuation = c.descheduledMs;
        continued = c.heldMs;
      });
      const yieldedAt = performance.now();
      const yieldMs = yieldedAt - armedAt;
      const r = await done;
      const untimed = descheduledMs() - d0 - inContinuation;
      expectSums(r);
      // a timer that fires late on a busy machine adds waiting, not sleeping; it is due 29–30 ms
      // after it was armed (a whole-millisecond loop clock), the window asleep from its yield
      expect(ms(r.sleepingNs)).toBeGreaterThanOrEqual(28 - yieldMs);
      expect(ms(r.sleepingNs)).toBeLessThanOrEqual(32 + yieldMs);
      expect(ms(r.runningNs)).toBeGreaterThanOrEqual(spun - 2);
      expect(ms(r.runningNs)).toBeLessThanOrEqual(yieldedAt - calledAt + continued + 2 + untimed);
    });
  });

  it('timers on a free loop: the time Node fires them after their due time (its millisecond clock) is sleeping, not waiting', async () => {
    await retry(5, async () => {
      // ground truth, read where the window yields and where each timer's callback starts: how
      // long the loop waited idle in between, and how long the thread waited for a CPU
      const idleMs = () => performance.nodeTiming.idleTime;
      const reading = () => ({ at: performance.now(), idle: idleMs(), descheduled: descheduledMs() });
      let gaps = 0;
      let idle = 0;
      let preempted = 0;
      const r = await measure('quiet-timers', async () => {
        for (let i = 0; i < 5; i++) {
          let armed = reading();
          await new Promise<void>((resolve) => {
            setTimeout(() => {
              const fired = reading();
              gaps += fired.at - armed.at;
              idle += fired.idle - armed.idle;
              preempted += fired.descheduled - armed.descheduled;
              resolve();
            }, 7);
            armed = reading();
          });
        }
      });
      // the loop's own work in the gaps (running the timers, a collection, the test runner's
      // messages) is all the window could have waited behind; each timer fires up to ~1 ms after
      // its due time, the loop idle meanwhile
      const busy = gaps - idle;
      const split = `waiting ${ms(r.waitingNs)}, sleeping ${ms(r.sleepingNs)} ms; from the yields to the callbacks ${gaps} ms, ${idle} ms of it idle, ${preempted} ms descheduled`;
      expectSums(r);
      expect(ms(r.waitingNs), split).toBeLessThanOrEqual(busy + preempted + 0.3);
      expect(ms(r.sleepingNs), split).toBeGreaterThanOrEqual(idle - 0.3);
    });
  });

  it('a timer that comes due while another call holds the thread counts as waiting from its due time (±2 ms)', async () => {
    await retry(5, async () => {
      let hogEnd = 0;
      const hog = new Promise<void>((resolve) =>
        setTimeout(() => {
          spin(30); // from ~2 ms to ~32 ms, outside every window
          hogEnd = performance.now();
          resolve();
        }, 2),
      );
      // ground truth, as moments that bracket what the window saw (a collection or the thread's
      // wait for a CPU may fall between any two of them): A armed its timer between `start` and
      // `armedAt` and yielded between `armedAt` and `yieldedAt`; its continuation started between
      // the hog's end and `firedAt`, the first line of the timer's callback
      let start = 0;
      let armedAt = 0;
      let firedAt = 0;
      const calledAt = performance.now();
      const done = measure('A', () => {
        start = performance.now();
        const timer = new Promise<void>((resolve) =>
          setTimeout(() => {
            firedAt = performance.now();
            resolve();
          }, 10),
        );
        armedAt = performance.now();
        return timer;
      });
      const yieldedAt = performance.now();
      const r = await done;
      await hog;
      expectSums(r);
      expect(firedAt).toBeGreaterThanOrEqual(hogEnd);
      // A's timer came due 10 ms after it was armed (up to 1 ms earlier: a whole-millisecond loop
      // clock) and can run only once the hog lets go of the thread: A sleeps from its yield until
      // the due time, then waits until its continuation starts. The due time is read from the loop
      // clock, whose offset to performance.now() is known within an interval (narrower than 20 µs
      // once measured, wider while a busy machine kept the process from measuring it).
      const { lowMs, highMs } = timerClockBounds();
      const slack = 2 + (highMs - lowMs) / 2;
      const dueEarliest = start + 9;
      const dueLatest = armedAt + 10;
      const split = `waiting ${ms(r.waitingNs)}, sleeping ${ms(r.sleepingNs)}, running ${ms(r.runningNs)} ms; armed ${start - calledAt}–${armedAt - calledAt}, yielded by ${yieldedAt - calledAt}, continued ${hogEnd - calledAt}–${firedAt - calledAt} ms after the call; loop clock offset ±${(highMs - lowMs) / 2}`;
      expect(ms(r.waitingNs), split).toBeGreaterThanOrEqual(hogEnd - dueLatest - slack);
      expect(ms(r.waitingNs), split).toBeLessThanOrEqual(firedAt - dueEarliest + slack);
      expect(ms(r.sleepingNs), split).toBeGreaterThanOrEqual(dueEarliest - yieldedAt - slack);
      expect(ms(r.sleepingNs), split).toBeLessThanOrEqual(dueLatest - armedAt + slack);
      expect(ms(r.runningNs), split).toBeLessThan(yieldedAt - calledAt + (firedAt - hogEnd) + 2);
    });
  });

  it('a window alone that awaits in a loop waits for nothing: the gap between its own continuations is running', async () => {
    // ground truth: nothing else runs and the loop never waits between the continuations (each
    // `await null` resumes in the same microtask checkpoint), so the window never waits behind
    // other work, whatever a gap holds (tlob's hooks, a collection, a CPU taken by another
    // process, all of which count as running as inside the window's code). Only its first
    // continuation waits, behind the caller's code after the call returned its promise.
    const awaitLoop = async (n: number) => {
      for (let i = 0; i < n; i++) {
        spin(0.005);
        await null;
      }
    };
    await retry(5, async () => {
      const r = await measure('await-loop', () => awaitLoop(5000));
      expectSums(r);
      expect(ms(r.waitingNs)).toBeLessThan(0.5);
    });
    // the same, transition by transition: each continuation is switched in as it wakes (a
    // subscriber makes every window take the path that publishes its transitions)
    const woke = new Map<number, number>();
    let waited = 0;
    const off = tlob.subscribe('event', (e) => {
      if (e.name !== 'await-loop-events') return;
      if (e.event === 'wakeup') woke.set(e.id, e.atNs);
      else if (e.event === 'switch_in' && e.atNs > (woke.get(e.id) ?? e.atNs)) waited++;
    });
    try {
      await measure('await-loop-events', () => awaitLoop(2000));
    } finally {
      off();
    }
    expect(waited).toBeLessThanOrEqual(1);
  });

  it('a wait that ends with no hook event (Atomics.waitAsync, resolved by a V8 platform task) is sleeping, not running', async () => {
    // the window's `after` is followed directly by its next `before` 30 ms later, the loop idle in
    // between: only a clock read in `before` tells those 30 ms apart from running
    await retry(5, async () => {
      // ground truth for running: the window's two stretches of code (its opening, and its first
      // continuation up to the wait), and the thread's wait for a CPU outside them
      const keepAlive = setTimeout(() => {}, 1000); // a V8 delayed task alone does not keep the loop alive
      let held = 0;
      let inStretches = 0;
      const d0 = descheduledMs();
      const calledAt = performance.now();
      const done = measure('wait-async', async () => {
        await null;
        // Atomics.waitAsync is ES2024, past this project's `lib`
        const { waitAsync } = Atomics as unknown as {
          waitAsync(cell: Int32Array, index: number, value: number, ms: number): { value: Promise<unknown> };
        };
        let wait: Promise<unknown> | undefined;
        const c = hold(() => {
          wait = waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30).value;
        });
        inStretches += c.descheduledMs;
        held += c.heldMs;
        await wait;
      });
      inStretches += descheduledMs() - d0;
      held += performance.now() - calledAt;
      const r = await done;
      clearTimeout(keepAlive);
      const untimed = descheduledMs() - d0 - inStretches;
      expectSums(r);
      expect(ms(r.sleepingNs)).toBeGreaterThanOrEqual(28);
      expect(ms(r.runningNs)).toBeLessThan(held + 1 + untimed);
    });
  });

  it('50 concurrent windows: each running ≈ its own spin, and the sum of running stays within the wall time', async () => {
    await retry(5, async () => {
      const spins = Array.from({ length: 50 }, (_, i) => (i % 5) * 0.5); // 0 .. 2 ms
      const ran = spins.map(() => 0); // what each window's code really ran, measured between its awaits
      // The thread can be preempted anywhere in a window's continuation, also in the promise
      // machinery around the window's code, where the test cannot time it: the window then
      // rightly counts the preemption as running. The test measures preemption (runqueue wait)
      // inside its own code, over each window's life, and over the whole run; what falls outside
      // its own code is the only slack a window gets beyond the quiet-machine tolerance.
      const spans: { from: number; to: number; descheduled: number }[] = [];
      const lives = spins.map(() => ({ from: 0, to: 0, descheduledFrom: 0, descheduledTo: 0 }));
      const run = (i: number, spinMs: number) => {
        const from = performance.now();
        const d0 = descheduledMs();
        spin(spinMs);
        const descheduled = descheduledMs() - d0;
        const to = performance.now();
        spans.push({ from, to, descheduled });
        ran[i] = (ran[i] as number) + (to - from);
      };
      const d0 = descheduledMs();
      const t0 = performance.now();
      const results = await Promise.all(
        spins.map((spinMs, i) => {
          const life = lives[i] as (typeof lives)[number];
          life.descheduledFrom = descheduledMs();
          life.from = performance.now();
          return measure(`c${i}`, async () => {
            await sleep(i % 7);
            run(i, spinMs / 2);
            await sleep(1 + (i % 3));
            run(i, spinMs / 2);
          }).then((r) => {
            life.to = performance.now();
            life.descheduledTo = descheduledMs();
            return r;
          });
        }),
      );
      const wall = performance.now() - t0;
      const insideSpans = (from: number, to: number) =>
        spans.filter((s) => s.from >= from && s.to <= to).reduce((sum, s) => sum + s.descheduled, 0);
      const unexplained = descheduledMs() - d0 - insideSpans(t0, Number.POSITIVE_INFINITY);
      let total = 0;
      let excess = 0;
      results.forEach((r, i) => {
        expectSums(r);
        const own = ran[i] as number;
        const life = lives[i] as (typeof lives)[number];
        const slack = life.descheduledTo - life.descheduledFrom - insideSpans(life.from, life.to);
        const tolerance = 1 + own * 0.05;
        expect(ms(r.runningNs)).toBeGreaterThanOrEqual(own - tolerance);
        expect(ms(r.runningNs)).toBeLessThanOrEqual(own + tolerance + slack);
        excess += Math.max(0, ms(r.runningNs) - own - tolerance);
        total += ms(r.runningNs);
      });
      // windows do not overlap here: a preemption outside the test's code is in one window at most
      expect(excess).toBeLessThanOrEqual(unexplained);
      expect(total).toBeLessThanOrEqual(wall);
    });
  });

  it('Promise.all(items.map(… tlob.run …)) gives each item its own window, none nested', async () => {
    await retry(5, async () => {
      const seenParents: (string | undefined)[] = [];
      // ground truth per item: its spin, and what its code held the thread (its opening until the
      // yield, and its continuation with the readings in it)
      const ran = [0, 0, 0, 0];
      const held = [0, 0, 0, 0];
      let inContinuations = 0; // the thread's preemption inside the timed continuations
      const d0 = descheduledMs();
      const t0 = performance.now();
      const results = await Promise.all(
        [3, 3, 3, 3].map((spinMs, i) => {
          const openedAt = performance.now();
          const result = measure(`item${i}`, async () => {
            await sleep(1);
            const c = hold(() => {
              seenParents.push(tlob.current()?.name);
              ran[i] = took(() => spin(spinMs));
            });
            inContinuations += c.descheduledMs;
            held[i] = (held[i] as number) + c.heldMs;
          });
          held[i] = (held[i] as number) + performance.now() - openedAt;
          return result;
        }),
      );
      const wall = performance.now() - t0;
      // preemption outside the timed continuations, which a window counts as running if it fell in its code
      const untimed = descheduledMs() - d0 - inContinuations;
      const total = results.reduce((sum, r) => sum + ms(r.runningNs), 0);
      expect(seenParents.sort()).toEqual(['item0', 'item1', 'item2', 'item3']);
      expect(total).toBeLessThanOrEqual(wall);
      // nested windows would charge each other's spins (3 ms each): each runs its own code only
      let excess = 0;
      results.forEach((r, i) => {
        expect(ms(r.runningNs)).toBeGreaterThanOrEqual((ran[i] as number) - 1);
        expect(ms(r.runningNs)).toBeLessThan((held[i] as number) + 1 + untimed);
        excess += Math.max(0, ms(r.runningNs) - (held[i] as number) - 1);
      });
      expect(excess).toBeLessThanOrEqual(untimed);
    });
  });

  it('nested windows: the outer window is running while the inner one runs', async () => {
    await retry(5, async () => {
      // ground truth, which a loaded machine may stretch: the spins; the stretches each window's
      // code held the thread (the outer's two, the first of which opens the inner window, and the
      // inner's continuation, with the readings in it, which runs within the outer too); from
      // arming each timer to the yield of each window that sleeps on it; and the thread's wait for
      // a CPU outside the timed stretches (a window counts it as running if it fell in its code)
      let inner: WindowResult | undefined;
      let outerSpun = 0;
      let innerSpun = 0;
      let outerHeld = 0;
      let innerOpen = 0;
      let innerHeld = 0;
      let innerYieldMs = 0; // inner: from arming its 10 ms timer to its yield
      let outerFirstYieldMs = 0; // outer: from the inner's arming to its own first yield
      let outerSecondYieldMs = 0; // outer: from arming its 5 ms timer to its second yield
      let inStretches = 0;
      const d0 = descheduledMs();
      const outer = await measure('outer', async () => {
        let armedAt = 0;
        let innerDone: Promise<WindowResult> | undefined;
        const o = hold(() => {
          outerSpun = took(() => spin(3));
          const opened = performance.now();
          innerDone = measure('inner', async () => {
            armedAt = performance.now();
            await sleep(10);
            const c = hold(() => {
              innerSpun = took(() => spin(5));
            });
            inStretches += c.descheduledMs;
            innerHeld = c.heldMs;
          });
          innerOpen = performance.now() - opened;
          innerYieldMs = performance.now() - armedAt;
        });
        inStretches += o.descheduledMs;
        outerHeld += o.heldMs;
        outerFirstYieldMs = performance.now() - armedAt;
        inner = await innerDone;
        const o1 = performance.now();
        const timer = sleep(5);
        outerSecondYieldMs = performance.now() - o1;
        outerHeld += performance.now() - o1;
        await timer;
      });
      const untimed = descheduledMs() - d0 - inStretches;
      expect(inner).toBeDefined();
      const i = inner as WindowResult;
      expectSums(outer);
      expectSums(i);
      expect(ms(i.runningNs)).toBeGreaterThanOrEqual(innerSpun - 1);
      expect(ms(i.runningNs)).toBeLessThanOrEqual(innerOpen + innerHeld + 1 + untimed);
      // asleep from the yield until the timer is due, 9–10 ms after it was armed (a whole-ms loop clock)
      expect(ms(i.sleepingNs)).toBeGreaterThanOrEqual(8 - innerYieldMs);
      expect(ms(i.sleepingNs)).toBeLessThanOrEqual(12 + innerYieldMs);
      // the inner's spin is the outer's running too, its sleep the outer's sleeping
      expect(ms(outer.runningNs)).toBeGreaterThanOrEqual(outerSpun + innerSpun - 1);
      expect(ms(outer.runningNs)).toBeLessThanOrEqual(outerHeld + innerHeld + 1 + untimed);
      const yields = outerFirstYieldMs + outerSecondYieldMs;
      expect(ms(outer.sleepingNs)).toBeGreaterThanOrEqual(12 - yields);
      expect(ms(outer.sleepingNs)).toBeLessThanOrEqual(18 + yields);
    });
  });

  it('a window that expires while sleeping reports state sleeping and the split at expiry', async () => {
    await retry(5, async () => {
      const seen = collectViolations();
      let spun = 0;
      // a plain timer armed just before the window (outside it, so it is not the window's own
      // continuation), with the budget's delay: when such a timer really fires on this machine
      let twinFired = 0;
      const start = performance.now();
      setTimeout(() => {
        twinFired = performance.now();
      }, 20);
      const r = await measure(
        'expires-asleep',
        async () => {
          spun = took(() => spin(3));
          await sleep(40);
        },
        '20ms',
      );
      seen.stop();
      expect(seen.list).toHaveLength(1);
      const v = seen.list[0];
      expect(v).toMatchObject({ event: 'budget_expired', state: 'sleeping', name: 'expires-asleep' });
      expect(ms(v?.elapsedNs ?? 0)).toBeGreaterThanOrEqual(20);
      expect(ms(v?.elapsedNs ?? 0)).toBeLessThan(twinFired - start + 2);
      expect(
        Math.abs((v?.runningNs ?? 0) + (v?.waitingNs ?? 0) + (v?.sleepingNs ?? 0) - (v?.elapsedNs ?? 0)),
      ).toBeLessThanOrEqual(2);
      expect(Math.abs(ms(v?.runningNs ?? 0) - spun)).toBeLessThanOrEqual(1);
      expect(r).toMatchObject({ overBudget: true, code: 'EOVERFLOW' });
      expect(ms(r.elapsedNs)).toBeGreaterThanOrEqual(40);
    });
  });

  it('callbacks and EventEmitter-free timers follow the window; a setImmediate continuation counts as running', async () => {
    await retry(5, async () => {
      // ground truth: the spins, each piece of the window's code from its first line to its last
      // (a thread kept from a CPU there stretches them), and the thread's wait for a CPU outside
      // the pieces, in the test's own code or the window's hooks
      let spun = 0;
      let pieces = 0;
      let inPieces = 0;
      let madeAt = 0;
      let yieldedAt = 0;
      const piece = (body: () => void) => {
        const d0 = descheduledMs();
        pieces += took(body);
        inPieces += descheduledMs() - d0;
      };
      const d0 = descheduledMs();
      let done: Promise<WindowResult> | undefined;
      piece(() => {
        done = measure(
          'callbacks',
          () =>
            new Promise<void>((resolve) => {
              setImmediate(() => {
                piece(() => {
                  spun += took(() => spin(4));
                  madeAt = performance.now();
                  setTimeout(
                    () =>
                      piece(() => {
                        spun += took(() => spin(4));
                        resolve();
                      }),
                    5,
                  );
                });
                yieldedAt = performance.now();
              });
            }),
        );
      });
      const r = await (done as Promise<WindowResult>);
      const untimed = descheduledMs() - d0 - inPieces;
      expectSums(r);
      expect(ms(r.runningNs)).toBeGreaterThanOrEqual(spun - 1.5);
      expect(ms(r.runningNs)).toBeLessThanOrEqual(pieces + 1.5 + untimed);
      // the timer is due 5 ms after the loop's clock, which counts whole ms: 4–5 ms after it was
      // made, and the window slept from its yield (µs after, unless the thread was kept from a
      // CPU meanwhile) to then
      expect(ms(r.sleepingNs)).toBeGreaterThanOrEqual(4 - 0.2 - (yieldedAt - madeAt));
    });
  });
});

describe('windows opened with start() inside a call', () => {
  it('switch off the thread when the call yields, also while other windows keep the hooks on', async () => {
    await retry(5, async () => {
      const keeper = tlob.start({ budget: '10s', name: 'keeper' }); // hooks already enabled
      let inner: WindowResult | undefined;
      await tlob.run('outer-with-start', { budget: '10s' }, async () => {
        const w = tlob.start({ budget: '10s', name: 'inner-start' });
        await sleep(20);
        inner = w.stop();
      });
      keeper.stop();
      const r = inner as WindowResult;
      expect(ms(r.runningNs)).toBeLessThan(3);
      expect(Math.abs(ms(r.sleepingNs) - 20)).toBeLessThanOrEqual(3);
    });
  });
});
