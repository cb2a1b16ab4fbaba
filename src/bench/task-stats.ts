import type { SampleLog } from './sample-log.js';
import { type StateStats, summarize } from './statistics.js';

/** The states of a window that the harness reports, elapsed first. */
export const STATES = ['elapsed', 'running', 'waiting', 'sleeping'] as const;
export type BenchState = (typeof STATES)[number];

/** The worst iteration over budget: the one with the longest elapsed time. */
export interface WorstViolation {
  /** Its index among the measured iterations (0-based, in the order the windows stopped). */
  readonly iteration: number;
  readonly elapsedNs: number;
  readonly runningNs: number;
  readonly waitingNs: number;
  readonly sleepingNs: number;
  /** `elapsedNs - budgetNs`. */
  readonly overByNs: number;
}

/** What the harness (and its adapters) know about a task's measured iterations. */
export interface TlobTaskStats {
  /** Measured iterations (warm-up excluded). */
  readonly samples: number;
  /** The budget each iteration was checked against, in nanoseconds; `null` when none was set. */
  readonly budgetNs: number | null;
  readonly elapsed: StateStats;
  readonly running: StateStats;
  readonly waiting: StateStats;
  readonly sleeping: StateStats;
  /** Iterations whose elapsed time reached the budget (`elapsedNs >= budgetNs`). */
  readonly violations: number;
  /** `violations / samples` (0 when there are no samples). */
  readonly violationRate: number;
  /** The worst iteration over budget, or `null` when none was. */
  readonly worstViolation: WorstViolation | null;
}

/** Summarizes a task's log: statistics per state, and its iterations checked against `budgetNs`. */
export function summarizeLog(log: SampleLog, budgetNs: number | null): TlobTaskStats {
  const elapsed = log.values('elapsed');
  let violations = 0;
  let worst = -1;
  if (budgetNs !== null) {
    for (let i = 0; i < elapsed.length; i++) {
      const e = elapsed[i] as number;
      if (e < budgetNs) continue;
      violations++;
      if (worst < 0 || e > (elapsed[worst] as number)) worst = i;
    }
  }
  return {
    samples: log.count,
    budgetNs,
    elapsed: summarize(elapsed),
    running: summarize(log.values('running')),
    waiting: summarize(log.values('waiting')),
    sleeping: summarize(log.values('sleeping')),
    violations,
    violationRate: log.count === 0 ? 0 : violations / log.count,
    worstViolation:
      worst < 0 || budgetNs === null
        ? null
        : {
            iteration: worst,
            elapsedNs: elapsed[worst] as number,
            runningNs: log.values('running')[worst] as number,
            waitingNs: log.values('waiting')[worst] as number,
            sleepingNs: log.values('sleeping')[worst] as number,
            overByNs: (elapsed[worst] as number) - budgetNs,
          },
  };
}
