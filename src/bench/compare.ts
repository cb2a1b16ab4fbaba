import type { BenchResults, TaskResult } from './results.js';
import { taskKey } from './table.js';
import { type BenchState, STATES } from './task-stats.js';
import { stars, welchP } from './welch.js';

/** A state whose mean is under this in both runs is not compared (a change of nothing). */
const FLOOR_NS = 1000;

/** The change of one state of one task between a baseline and the current run. */
export interface StateChange {
  readonly task: string;
  readonly state: BenchState;
  readonly baselineMeanNs: number;
  readonly meanNs: number;
  /** `(mean - baseline) / baseline`, in percent. */
  readonly changePct: number;
  /** Welch's t-test of the two means, two-sided. */
  readonly p: number;
  /** `*`, `**` or `***` as in Node core's benchmark comparisons (p < 0.05, 0.01, 0.001). */
  readonly stars: string;
  /** p < 0.05 and the change is at least `minChangePct` (both means at least 1 µs). */
  readonly significant: boolean;
}

/** The comparison of a run with a baseline. */
export interface Comparison {
  readonly changes: readonly StateChange[];
  /** Tasks of the current run that the baseline does not have. */
  readonly added: readonly string[];
  /** Tasks of the baseline that the current run does not have. */
  readonly missing: readonly string[];
}

const summary = (t: TaskResult, state: BenchState) => ({
  n: t.samples,
  mean: t[state].mean,
  sd: t[state].sd,
});

/**
 * Compares every task present in both runs, state by state: the change of the mean and whether it
 * is significant (Welch's t-test at p < 0.05, and at least `minChangePct` percent, since with
 * thousands of samples the test alone flags shifts too small to matter).
 */
export function compareResults(
  current: BenchResults,
  baseline: BenchResults,
  minChangePct: number,
): Comparison {
  const before = new Map(baseline.tasks.map((t) => [taskKey(t), t]));
  const changes: StateChange[] = [];
  const added: string[] = [];
  for (const task of current.tasks) {
    const key = taskKey(task);
    const base = before.get(key);
    if (base === undefined) {
      added.push(key);
      continue;
    }
    before.delete(key);
    for (const state of STATES) {
      const a = summary(base, state);
      const b = summary(task, state);
      if (a.mean < FLOOR_NS && b.mean < FLOOR_NS) continue;
      const changePct = a.mean === 0 ? Number.POSITIVE_INFINITY : ((b.mean - a.mean) / a.mean) * 100;
      const p = welchP(a, b);
      changes.push({
        task: key,
        state,
        baselineMeanNs: a.mean,
        meanNs: b.mean,
        changePct,
        p,
        stars: stars(p),
        significant: p < 0.05 && Math.abs(changePct) >= minChangePct,
      });
    }
  }
  return { changes, added, missing: [...before.keys()] };
}
