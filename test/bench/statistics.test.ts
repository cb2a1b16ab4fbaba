import { describe, expect, it } from 'vitest';
import { compareResults, formatP } from '../../src/bench/compare.js';
import type { BenchResults, TaskResult } from '../../src/bench/results.js';
import { medianDeviation, quantile, summarize } from '../../src/bench/statistics.js';
import { stars, tTestP, welchP } from '../../src/bench/welch.js';

// A task of a comparison: elapsed and running around `p50`, never waiting or sleeping.
const stats = (p50: number) => ({ ...summarize(Float64Array.of(p50, p50 * 1.01, p50 * 0.99)), p50 });
const task = (name: string, state: TaskResult['state'], p50: number) =>
  ({
    bench: '',
    name,
    state,
    samples: 3,
    elapsed: stats(p50),
    running: stats(p50),
    waiting: stats(0),
    sleeping: stats(0),
  }) as unknown as TaskResult;
const run = (...tasks: TaskResult[]) => ({ tasks }) as unknown as BenchResults;

describe('bench statistics', () => {
  it('summarizes: mean, extremes, interpolated percentiles, sd and margin of error', () => {
    const s = summarize(Float64Array.from([5, 1, 4, 2, 3]));
    expect(s).toMatchObject({ mean: 3, min: 1, max: 5, p50: 3, p75: 4 });
    expect(s.p90).toBeCloseTo(4.6, 10);
    expect(s.sd).toBeCloseTo(Math.sqrt(2.5), 10);
    expect(s.mad).toBe(1); // |x - 3| = 2, 1, 0, 1, 2
    expect(summarize(Float64Array.from([1, 1, 1, 1, 100])).mad).toBe(0); // one outlier moves it not at all
    // t(0.975, df 4) = 2.776
    expect(s.moe).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 10);
    expect(s.rme).toBeCloseTo((s.moe / 3) * 100, 10);
    expect(summarize(new Float64Array(0)).mean).toBe(0);
    expect(quantile(Float64Array.from([10]), 0.99)).toBe(10);
  });

  it('the median deviation equals the median of the sorted absolute deviations', () => {
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(Math.random() * 40);
      const values = Float64Array.from({ length: n }, () => Math.round(Math.random() * 100)).sort();
      const center = quantile(values, 0.5);
      const deviations = values.map((v) => Math.abs(v - center)).sort();
      expect(medianDeviation(values, center)).toBeCloseTo(quantile(deviations, 0.5), 9);
    }
  });

  it("Student's t p-values match the tables", () => {
    expect(tTestP(2.228, 10)).toBeCloseTo(0.05, 3);
    expect(tTestP(2.0, 10)).toBeCloseTo(0.0734, 3);
    expect(tTestP(1.96, 1e6)).toBeCloseTo(0.05, 3);
    expect(tTestP(0, 5)).toBeCloseTo(1, 10);
  });

  it("Welch's test: identical samples are not different, clearly separated ones are", () => {
    expect(welchP({ n: 30, mean: 100, sd: 10 }, { n: 30, mean: 100, sd: 10 })).toBeCloseTo(1, 10);
    expect(welchP({ n: 30, mean: 100, sd: 10 }, { n: 30, mean: 200, sd: 20 })).toBeLessThan(1e-6);
    // Welch–Satterthwaite: n 10/20, sd 5/15, means 50/60 gives t = -2.70, df ≈ 25.7, p ≈ 0.012
    expect(welchP({ n: 10, mean: 50, sd: 5 }, { n: 20, mean: 60, sd: 15 })).toBeCloseTo(0.0122, 3);
    expect(welchP({ n: 1, mean: 1, sd: 0 }, { n: 30, mean: 2, sd: 1 })).toBe(1);
    expect([stars(0.0005), stars(0.005), stars(0.03), stars(0.2)]).toEqual(['***', '**', '*', '']);
  });

  it('a p-value that underflows prints as <1e-300, never as 0', () => {
    const tight = (p50: number) => ({ ...summarize(Float64Array.of(p50)), p50, mad: 0 });
    const task = (p50: number, samples: number, mad: number) =>
      ({
        bench: 'cpu',
        name: 'spin',
        state: 'completed',
        samples,
        elapsed: { ...tight(p50), mad },
        running: { ...tight(p50), mad },
        waiting: tight(0),
        sleeping: tight(0),
      }) as unknown as TaskResult;
    const run = (t: TaskResult) => ({ tasks: [t] }) as unknown as BenchResults;
    // ten times slower than a baseline with no spread and a million samples
    const [change] = compareResults(run(task(1e7, 300, 1e4)), run(task(1e6, 1e6, 0)), 5).changes;
    expect(change?.p).toBe(0);
    expect(formatP(change?.p as number)).toBe('<1e-300');
    expect([formatP(5.8e-268), formatP(0.0004), formatP(0.04)]).toEqual(['5.8e-268', '4.0e-4', '0.040']);
  });

  it('compareResults leaves out a task errored in either run, and says in which', () => {
    const baseline = run(
      task('ok', 'completed', 1e6),
      task('base', 'errored', 1e6),
      task('now', 'completed', 1e6),
    );
    const current = run(
      task('ok', 'completed', 1e6),
      task('base', 'completed', 3e6),
      task('now', 'errored', 3e6),
    );
    const comparison = compareResults(current, baseline, 5);
    expect(new Set(comparison.changes.map((c) => c.task))).toEqual(new Set(['ok']));
    expect(comparison.errored).toEqual([
      { task: 'base', in: 'baseline' },
      { task: 'now', in: 'now' },
    ]);
    const both = compareResults(run(task('x', 'errored', 1e6)), run(task('x', 'errored', 1e6)), 5);
    expect(both).toMatchObject({ changes: [], errored: [{ task: 'x', in: 'both' }] });
  });

  it('compareResults names a task whose every median is under 1 µs in both runs, instead of dropping it', () => {
    // 'noop' is under 1 µs in both runs; 'grew' only in the baseline, so it is compared
    const comparison = compareResults(
      run(task('noop', 'completed', 400), task('grew', 'completed', 5000)),
      run(task('noop', 'completed', 300), task('grew', 'completed', 800)),
      5,
    );
    expect(comparison.tooFast).toEqual(['noop']);
    expect(new Set(comparison.changes.map((c) => c.task))).toEqual(new Set(['grew']));
  });
});
