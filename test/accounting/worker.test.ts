import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { retry } from '../helpers.js';

const dist = new URL('../../dist/index.js', import.meta.url).href;

/** Runs the sleep-then-spin scenario in a worker thread, with the worker's own monitor and timer. */
function inWorker(): Promise<{
  runningMs: number;
  spunMs: number;
  sleepingMs: number;
  waitingMs: number;
  elapsedMs: number;
  expired: string;
}> {
  const source = `
    import { parentPort } from 'node:worker_threads';
    import { tlob } from ${JSON.stringify(dist)};
    tlob.reactor('nop');
    const spin = (ms) => { const e = performance.now() + ms; while (performance.now() < e); };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    let result;
    let spunMs = 0; // what the spin really took: a loaded machine may stretch it
    // a fresh worker does ~7 ms of one-time work of its own in a callback soon after start (on Node
    // 22 it lands inside the first window's first timer); it is not the scenario's
    await tlob.run('warm-up', { budget: '1s' }, () => sleep(1));
    await tlob.run('in-worker', { budget: '1s', onStop: (r) => (result = r) }, async () => {
      await sleep(30);
      const t0 = performance.now();
      spin(10);
      spunMs = performance.now() - t0;
    });
    await new Promise((r) => setTimeout(r, 1));
    const expired = await new Promise((resolve) => {
      const off = tlob.subscribe('error', (v) => { off(); resolve(v.event + ':' + v.state); });
      tlob.run('worker-expiry', { budget: '5ms' }, () => sleep(30));
    });
    parentPort.postMessage({ runningMs: result.runningNs / 1e6, spunMs, sleepingMs: result.sleepingNs / 1e6,
      waitingMs: result.waitingNs / 1e6, elapsedMs: result.elapsedNs / 1e6, expired });
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
      expect(Math.abs(r.sleepingMs - 30)).toBeLessThanOrEqual(2);
      expect(Math.abs(r.runningMs - r.spunMs)).toBeLessThanOrEqual(2);
      expect(Math.abs(r.runningMs + r.waitingMs + r.sleepingMs - r.elapsedMs)).toBeLessThan(0.01);
      expect(r.expired).toBe('budget_expired:sleeping');
    });
  });
});
