import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { descheduledSource } from '../descheduled.js';
import { retry } from '../helpers.js';

const dist = new URL('../../dist/index.js', import.meta.url).href;

/** Runs the sleep-then-spin scenario in a worker thread, with the worker's own monitor and timer. */
function inWorker(): Promise<{
  runningMs: number;
  spunMs: number;
  sleepingMs: number;
  waitingMs: number;
  elapsedMs: number;
  yieldMs: number;
  heldMs: number;
  untimedDescheduledMs: number;
  expired: string;
  expiryYieldMs: number;
}> {
  const source = `
    import { parentPort } from 'node:worker_threads';
    import { tlob } from ${JSON.stringify(dist)};
    tlob.reactor('nop');
    const spin = (ms) => { const e = performance.now() + ms; while (performance.now() < e); };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    // how long this thread has waited for a CPU (schedstat, ms; 0 where the kernel does not say)
    ${descheduledSource}
    let result;
    // ground truth, which a loaded machine may stretch: what the spin took; the two stretches the
    // window's code held the thread (from the call to its yield, and the continuation after the
    // timer, with the readings in it); the time from arming the timer to the yield; and the
    // thread's wait for a CPU over the window's life outside the continuation (in its code, which
    // it counts as running, or once its timer was due)
    let spunMs = 0;
    let armedAt = 0;
    let continuedMs = 0;
    let continuationDescheduled = 0;
    let stopDescheduled = 0;
    // a fresh worker does ~7 ms of one-time work of its own in a callback soon after start (on Node
    // 22 it lands inside the first window's first timer); it is not the scenario's
    await tlob.run('warm-up', { budget: '1s' }, () => sleep(1));
    const d0 = descheduled();
    const onStop = (r) => {
      stopDescheduled = descheduled();
      result = r;
    };
    const calledAt = performance.now();
    const done = tlob.run('in-worker', { budget: '1s', onStop }, async () => {
      armedAt = performance.now();
      await sleep(30);
      const c0 = performance.now();
      const s0 = descheduled();
      const t0 = performance.now();
      spin(10);
      spunMs = performance.now() - t0;
      continuationDescheduled = descheduled() - s0;
      continuedMs = performance.now() - c0;
    });
    const yieldedAt = performance.now();
    const yieldMs = yieldedAt - armedAt;
    await done;
    const heldMs = yieldedAt - calledAt + continuedMs;
    const untimedDescheduledMs = stopDescheduled - d0 - continuationDescheduled;
    await new Promise((r) => setTimeout(r, 1));
    let expiryYieldMs = 0;
    const expired = await new Promise((resolve) => {
      const off = tlob.subscribe('error', (v) => { off(); resolve(v.event + ':' + v.state); });
      const opening = performance.now();
      tlob.run('worker-expiry', { budget: '5ms' }, () => sleep(30));
      expiryYieldMs = performance.now() - opening;
    });
    parentPort.postMessage({ runningMs: result.runningNs / 1e6, spunMs, sleepingMs: result.sleepingNs / 1e6,
      waitingMs: result.waitingNs / 1e6, elapsedMs: result.elapsedNs / 1e6, yieldMs, heldMs, untimedDescheduledMs, expired,
      expiryYieldMs });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
    worker.once('message', (m) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe('worker threads', () => {
  it('a worker accounts its own windows with the same split', async () => {
    await retry(3, async () => {
      const r = await inWorker();
      // The 30 ms timer is due 29–30 ms after it was armed (its start is on a millisecond loop
      // clock), and the window sleeps from its yield: the time from arming to the yield, which a
      // thread kept from a CPU stretches, is the only slack beyond the quiet-machine tolerance.
      expect(r.sleepingMs).toBeGreaterThanOrEqual(28 - r.yieldMs);
      expect(r.sleepingMs).toBeLessThanOrEqual(32 + r.yieldMs);
      // running: at least the spin; at most what the window's code held the thread, and the
      // thread's wait for a CPU outside its continuation
      expect(r.runningMs).toBeGreaterThanOrEqual(r.spunMs - 2);
      expect(r.runningMs).toBeLessThanOrEqual(r.heldMs + 2 + r.untimedDescheduledMs);
      expect(Math.abs(r.runningMs + r.waitingMs + r.sleepingMs - r.elapsedMs)).toBeLessThan(0.01);
      // a 5 ms window asleep at its deadline, unless the thread was kept from a CPU until then
      if (r.expiryYieldMs >= 5)
        throw new Error(`the 5 ms window yielded ${r.expiryYieldMs} ms after it opened, past its budget`);
      expect(r.expired).toBe('budget_expired:sleeping');
    });
  });
});
