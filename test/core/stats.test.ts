import { describe, expect, it } from 'vitest';
import { LogLinearHistogram } from '../../src/report/histogram.js';
import { distribution, StatsRecorder } from '../../src/report/stats.js';

/** The distribution of `values` recorded into one histogram, as four histograms per name would report it. */
function expected(values: number[]) {
  const h = new LogLinearHistogram();
  for (const v of values) h.record(v);
  return distribution(h);
}

describe('per-name stats', () => {
  it('windows that ran all along (synchronous calls) and windows that waited or slept make the same distributions as four histograms would', () => {
    const stats = new StatsRecorder('mixed');
    const windows: [number, number, number, number][] = [];
    let x = 7;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const elapsed = 200 + (x % 5_000_000) + i / 7;
      // two in three ran all along; the others split their time
      if (i % 3 !== 0) windows.push([elapsed, elapsed, 0, 0]);
      else windows.push([elapsed, elapsed / 4, elapsed / 4, elapsed / 2]);
    }
    for (const [e, r, w, s] of windows) stats.record(e, r, w, s);
    const snapshot = stats.snapshot();
    expect(snapshot.count).toBe(2000);
    expect(snapshot.elapsed).toEqual(expected(windows.map((w) => w[0])));
    expect(snapshot.running).toEqual(expected(windows.map((w) => w[1])));
    expect(snapshot.waiting).toEqual(expected(windows.map((w) => w[2])));
    expect(snapshot.sleeping).toEqual(expected(windows.map((w) => w[3])));
    stats.reset();
    expect(stats.snapshot()).toMatchObject({ count: 0, elapsed: { max: 0, p50: 0 }, waiting: { max: 0 } });
  });
});
