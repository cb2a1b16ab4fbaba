import { createHistogram } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LogLinearHistogram } from '../../src/report/histogram.js';

describe('log-linear histogram', () => {
  it('keeps values below 256 exactly, and min, max, mean, count', () => {
    const h = new LogLinearHistogram();
    for (const v of [0, 1, 2, 3, 255]) h.record(v);
    expect(h.count).toBe(5);
    expect(h.min).toBe(0);
    expect(h.max).toBe(255);
    expect(h.mean).toBeCloseTo(261 / 5);
    expect(h.percentile(20)).toBe(0);
    expect(h.percentile(60)).toBe(2);
    expect(h.percentile(100)).toBe(255);
  });

  it('agrees with perf_hooks percentiles within 0.4% over 1 ns .. 1 h', () => {
    const ours = new LogLinearHistogram();
    const theirs = createHistogram();
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const v = Math.max(1, Math.round(Math.exp((x / 2 ** 31) * Math.log(3.6e12))));
      ours.record(v);
      theirs.record(v);
    }
    for (const p of [1, 10, 50, 90, 99, 99.9]) {
      const a = ours.percentile(p);
      const b = theirs.percentile(p);
      expect(Math.abs(a - b) / b).toBeLessThan(0.005);
    }
    expect(Math.abs(ours.max - theirs.max) / theirs.max).toBeLessThan(0.005); // HDR keeps max to 3 digits
    expect(ours.min).toBe(theirs.min);
  });

  it('reset empties it', () => {
    const h = new LogLinearHistogram();
    h.record(5e6);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBe(0);
  });
});
