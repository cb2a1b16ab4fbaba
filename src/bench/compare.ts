import type { BenchResults, TaskResult } from './results.js';
import { taskKey } from './table.js';
import { type BenchState, STATES } from './task-stats.js';
import { stars, welchP } from './welch.js';

/** A state whose median is under this in both runs is not compared (a change of nothing). */
const FLOOR_NS = 1000;

/** The change of one state of one task between a baseline and the current run. */
interface StateChange {
  readonly task: string;
  readonly state: BenchState;
  /** The baseline's median. */
  readonly baselineNs: number;
  /** This run's median. */
  readonly nowNs: number;
  /** `(now - baseline) / baseline`, in percent. */
  readonly changePct: number;
  /** Welch's t-test of the two medians (robust standard errors), two-sided. */
  readonly p: number;
  /** `*`, `**` or `***` as in Node core's benchmark comparisons (p < 0.05, 0.01, 0.001). */
  readonly stars: string;
  /** p < 0.05 and the change is at least `minChangePct` (both medians at least 1 µs). */
  readonly significant: boolean;
}

/** The comparison of a run with a baseline. */
export interface Comparison {
  readonly changes: readonly StateChange[];
  /** Tasks of the current run that the baseline does not have. */
  readonly added: readonly string[];
  /** Tasks of the baseline that the current run does not have. */
  readonly missing: readonly string[];
  /** Tasks of both runs left out since they errored in one or both: their samples are not a measurement. */
  readonly errored: readonly { readonly task: string; readonly in: 'baseline' | 'now' | 'both' }[];
  /** Tasks of both runs with no state compared: every median under 1 µs in both (see `FLOOR_NS`). */
  readonly tooFast: readonly string[];
}

/** A p-value as the table prints it: `<1e-300` where the computation underflows to 0. */
export const formatP = (p: number): string =>
  p < 1e-300 ? '<1e-300' : p < 0.001 ? p.toExponential(1) : p.toFixed(3);

/**
 * A state's median, as the location Welch's test compares, with a spread whose standard error is
 * the median's: for normal data that is 1.2533 σ/√n, and 1.4826 × MAD estimates σ without letting a
 * few outliers (a GC pause, the process preempted) swamp it, as they swamp the mean and sd.
 */
const summary = (t: TaskResult, state: BenchState) => ({
  n: t.samples,
  mean: t[state].p50,
  sd: 1.2533 * 1.4826 * t[state].mad,
});

/**
 * Compares every task present in both runs and errored in neither, state by state: the change of the median and whether
 * it is significant (Welch's t-test of the medians at p < 0.05, and at least `minChangePct` percent,
 * since with thousands of samples the test alone flags shifts too small to matter).
 */
export function compareResults(
  current: BenchResults,
  baseline: BenchResults,
  minChangePct: number,
): Comparison {
  const before = new Map(baseline.tasks.map((t) => [taskKey(t), t]));
  const changes: StateChange[] = [];
  const added: string[] = [];
  const errored: Comparison['errored'][number][] = [];
  const tooFast: string[] = [];
  for (const task of current.tasks) {
    const key = taskKey(task);
    const base = before.get(key);
    if (base === undefined) {
      added.push(key);
      continue;
    }
    before.delete(key);
    if (base.state === 'errored' || task.state === 'errored') {
      const where = base.state !== 'errored' ? 'now' : task.state !== 'errored' ? 'baseline' : 'both';
      errored.push({ task: key, in: where });
      continue;
    }
    const compared = changes.length;
    for (const state of STATES) {
      const a = summary(base, state);
      const b = summary(task, state);
      if (a.mean < FLOOR_NS && b.mean < FLOOR_NS) continue;
      const changePct = a.mean === 0 ? Number.POSITIVE_INFINITY : ((b.mean - a.mean) / a.mean) * 100;
      const p = welchP(a, b);
      changes.push({
        task: key,
        state,
        baselineNs: a.mean,
        nowNs: b.mean,
        changePct,
        p,
        stars: stars(p),
        significant: p < 0.05 && Math.abs(changePct) >= minChangePct,
      });
    }
    if (changes.length === compared) tooFast.push(key);
  }
  return { changes, added, missing: [...before.keys()], errored, tooFast };
}
