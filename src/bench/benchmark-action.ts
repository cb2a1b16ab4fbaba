import type { BenchResults } from './results.js';
import { taskKey } from './table.js';
import { STATES } from './task-stats.js';

/** One entry of the `customSmallerIsBetter` JSON that github-action-benchmark reads. */
interface BenchmarkActionEntry {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly range?: string;
  readonly extra?: string;
}

const ms = (ns: number): number => Number((ns / 1e6).toPrecision(6));

/**
 * The results in github-action-benchmark's `customSmallerIsBetter` shape: per task, the mean of
 * each state in milliseconds (± its margin of error), and the violation rate when a budget was set.
 * A task that errored is left out: its samples stop at the error (none when warm-up failed), and
 * the action would chart them (zeros, often) as a measurement. So is a task with no sample at all
 * (aborted during its warm-up): its zeros are no measurement either.
 */
export function toBenchmarkAction(results: BenchResults): BenchmarkActionEntry[] {
  const entries: BenchmarkActionEntry[] = [];
  for (const task of results.tasks) {
    if (task.state === 'errored' || task.samples === 0) continue;
    const key = taskKey(task);
    for (const state of STATES) {
      const s = task[state];
      entries.push({
        name: `${key} - ${state}`,
        unit: 'ms',
        value: ms(s.mean),
        range: `± ${s.rme.toFixed(2)}%`,
        extra: `p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms, ${task.samples} samples, concurrency ${task.concurrency}`,
      });
    }
    if (task.budgetNs !== null) {
      entries.push({
        name: `${key} - violation rate`,
        unit: '%',
        value: Number((task.violationRate * 100).toPrecision(6)),
        extra: `${task.violations} of ${task.samples} over ${ms(task.budgetNs)} ms`,
      });
    }
  }
  return entries;
}
