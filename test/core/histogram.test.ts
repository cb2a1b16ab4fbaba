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

  it('rounds a fractional value to the nearest integer (halves up), below and above 2^31', () => {
    const values = [
      0.5,
      1.49,
      1.5,
      2.5,
      255.49,
      255.5,
      256.5,
      1e6 + 0.5,
      2 ** 31 - 1.5,
      2 ** 31 - 0.5,
      2 ** 31 + 0.3,
      2 ** 32 + 0.5,
      5e12 + 0.5,
    ];
    const fractional = new LogLinearHistogram();
    const rounded = new LogLinearHistogram();
    for (const v of values) {
      fractional.record(v);
      rounded.record(Math.round(v));
    }
    expect(fractional.min).toBe(1);
    expect(fractional.max).toBe(5e12 + 1);
    expect(fractional.mean).toBe(rounded.mean);
    for (let p = 1; p <= 100; p++) expect(fractional.percentile(p)).toBe(rounded.percentile(p));
    // below 256 each value has its own bucket: 1.49 is 1, 1.5 and 2.5 are 2 and 3
    const small = new LogLinearHistogram();
    for (const v of [1.49, 1.5, 2.5]) small.record(v);
    expect([small.percentile(1), small.percentile(50), small.percentile(100)]).toEqual([1, 2, 3]);
  });

  it('reset empties it', () => {
    const h = new LogLinearHistogram();
    h.record(5e6);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBe(0);
  });
});
