import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlob } from '../../src/index.js';
import { sleep } from '../helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function heapAfterCollection(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(5);
  }
  return process.memoryUsage().heapUsed;
}

beforeAll(() => {
  tlob.reactor('nop');
});
afterAll(() => {
  tlob.reactor('log');
});

describe('scale', () => {
  it('100,000 async windows in flight at once: half expire, half stop, each exactly once', async () => {
    const n = 100_000;
    const violations: number[] = [];
    const unsubscribe = tlob.subscribe('error', (v) => violations.push((v as { id: number }).id));
    let stopped = 0;
    const gates: (() => void)[] = [];
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const gate = new Promise<void>((resolve) => gates.push(resolve));
      const budget = i % 2 === 0 ? '20ms' : '60s';
      runs.push(
        tlob.run(`scale-${i % 2}`, { budget, onStop: () => stopped++ }, async () => {
          await gate;
        }),
      );
    }
    while (violations.length < n / 2) await sleep(10);
    for (const release of gates) release();
    await Promise.all(runs);
    unsubscribe();
    expect(stopped).toBe(n);
    expect(violations).toHaveLength(n / 2);
    expect(new Set(violations).size).toBe(n / 2);
    const stats = tlob.stats().filter((s) => s.name.startsWith('scale-'));
    expect(stats.find((s) => s.name === 'scale-0')?.violations).toBe(n / 2);
    expect(stats.find((s) => s.name === 'scale-1')?.violations).toBe(0);
  }, 120_000);

  it('a million sequential windows leave the heap where it was', async () => {
    const run = async (count: number) => {
      for (let i = 0; i < count; i++) await tlob.run('sequential', { budget: '1s' }, async () => {});
    };
    await run(50_000); // warm up: code, stats entry, histograms
    const before = await heapAfterCollection();
    await run(1_000_000);
    const after = await heapAfterCollection();
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});
