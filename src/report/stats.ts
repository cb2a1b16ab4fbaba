import { LogLinearHistogram } from './histogram.js';
import { emitTlobWarning } from './tlob-warning.js';

/** Percentiles of one quantity, in nanoseconds. */
export interface Distribution {
  /** Smallest value (exact). */
  min: number;
  /** Arithmetic mean (exact). */
  mean: number;
  /** Median, within 0.4%. */
  p50: number;
  /** 90th percentile, within 0.4%. */
  p90: number;
  /** 99th percentile, within 0.4%. */
  p99: number;
  /** Largest value (exact). */
  max: number;
}

/** What `tlob.stats()` reports per window or probe name. */
export interface NameStats {
  name: string;
  /** Finished windows. */
  count: number;
  /** Violations reported, including those of windows that were never stopped. */
  violations: number;
  /** Elapsed time of the finished windows. */
  elapsed: Distribution;
  /** Time on the JS thread. */
  running: Distribution;
  /** Time ready but behind other work. */
  waiting: Distribution;
  /** Time waiting on something not ready. */
  sleeping: Distribution;
}

/**
 * Per-name counters and the distributions of elapsed, running, waiting and sleeping time, in
 * nanoseconds, recorded straight into JS log-linear histograms (no allocation, no native call).
 */
export class StatsRecorder {
  count = 0;
  violations = 0;
  private readonly elapsed = new LogLinearHistogram();
  private readonly running = new LogLinearHistogram();
  private readonly waiting = new LogLinearHistogram();
  private readonly sleeping = new LogLinearHistogram();
  /**
   * The elapsed time of the windows that ran all along (a synchronous call: running the whole
   * time, never waiting or sleeping), recorded once instead of four times; `snapshot` counts them
   * in every distribution.
   */
  private readonly ranAlong = new LogLinearHistogram();

  constructor(readonly name: string) {}

  /** Records one finished window (its violation, if any, was counted when it was reported). */
  record(elapsedNs: number, runningNs: number, waitingNs: number, sleepingNs: number): void {
    this.count++;
    if (runningNs === elapsedNs && waitingNs === 0 && sleepingNs === 0) {
      this.ranAlong.record(elapsedNs);
      return;
    }
    this.elapsed.record(elapsedNs);
    this.running.record(runningNs);
    this.waiting.record(waitingNs);
    this.sleeping.record(sleepingNs);
  }

  /** A snapshot of this name's statistics. */
  snapshot(): NameStats {
    const ranAlong = this.ranAlong;
    return {
      name: this.name,
      count: this.count,
      violations: this.violations,
      elapsed: distribution(this.elapsed.plus(ranAlong)),
      running: distribution(this.running.plus(ranAlong)),
      waiting: distribution(this.waiting.withZeros(ranAlong.count)),
      sleeping: distribution(this.sleeping.withZeros(ranAlong.count)),
    };
  }

  reset(): void {
    this.count = this.violations = 0;
    for (const h of [this.elapsed, this.running, this.waiting, this.sleeping, this.ranAlong]) h.reset();
  }
}

/** The distribution `tlob.stats()` reports for the values of one histogram. */
export function distribution(h: LogLinearHistogram): Distribution {
  if (h.count === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  return {
    min: h.min,
    mean: h.mean,
    p50: h.percentile(50),
    p90: h.percentile(90),
    p99: h.percentile(99),
    max: h.max,
  };
}

/** Every name's recorder, in first-seen order. */
export const statsByName = new Map<string, StatsRecorder>();

/** Names kept apart; windows of further names are counted together under `OTHER_NAME`. */
export const MAX_NAMES = 1000;
export const OTHER_NAME = '(other)';

/** The recorder of `name`, created on first use; past `MAX_NAMES` names, the shared `(other)` one. */
export function statsFor(name: string): StatsRecorder {
  let stats = statsByName.get(name);
  if (stats !== undefined) return stats;
  if (statsByName.size >= MAX_NAMES) {
    stats = statsByName.get(OTHER_NAME);
    if (stats !== undefined) return stats;
    emitTlobWarning(
      `tlob: more than ${MAX_NAMES} window names; the windows of further names are counted under "${OTHER_NAME}" (use few, stable names: a route, not a URL)`,
      'TLOB_TOO_MANY_NAMES',
    );
    name = OTHER_NAME;
  }
  statsByName.set(name, (stats = new StatsRecorder(name)));
  return stats;
}
