import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Percentiles of one quantity, in nanoseconds. */
export interface Distribution {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** What `tlob.stats()` reports per window or probe name. */
export interface NameStats {
  name: string;
  /** Finished windows. */
  count: number;
  /** Violations reported, including those of windows that were never stopped. */
  violations: number;
  elapsed: Distribution;
  running: Distribution;
  waiting: Distribution;
  sleeping: Distribution;
}

const FIELDS = 4;
const BATCH = 256;

/**
 * Per-name counters and histograms. Samples are buffered in a typed array and folded into
 * `perf_hooks` histograms in batches, and zeros (most windows never wait, synchronous ones never
 * sleep) are counted instead of recorded: a histogram `record()` is a native call (~17–30 ns), and
 * four per window cost more than the rest of a monitored synchronous call.
 */
export class StatsRecorder {
  count = 0;
  violations = 0;
  private readonly buffer = new Float64Array(BATCH * FIELDS);
  private buffered = 0;
  private readonly histograms: RecordableHistogram[] = [
    createHistogram(),
    createHistogram(),
    createHistogram(),
    createHistogram(),
  ];
  /** Samples below 0.5 ns (recorded as zero) per field, kept out of the histograms. */
  private readonly zeros = [0, 0, 0, 0];

  constructor(readonly name: string) {}

  /** Records one finished window (its violation, if any, was counted when it was reported). */
  record(elapsedNs: number, runningNs: number, waitingNs: number, sleepingNs: number): void {
    this.count++;
    const i = this.buffered * FIELDS;
    const b = this.buffer;
    b[i] = elapsedNs;
    b[i + 1] = runningNs;
    b[i + 2] = waitingNs;
    b[i + 3] = sleepingNs;
    if (++this.buffered === BATCH) this.flush();
  }

  /** A snapshot of this name's statistics. */
  snapshot(): NameStats {
    this.flush();
    const d = (field: number) =>
      distribution(this.histograms[field] as RecordableHistogram, this.zeros[field] as number);
    return {
      name: this.name,
      count: this.count,
      violations: this.violations,
      elapsed: d(0),
      running: d(1),
      waiting: d(2),
      sleeping: d(3),
    };
  }

  reset(): void {
    this.count = this.violations = this.buffered = 0;
    this.zeros.fill(0);
    for (const h of this.histograms) h.reset();
  }

  private flush(): void {
    const b = this.buffer;
    const n = this.buffered * FIELDS;
    for (let field = 0; field < FIELDS; field++) {
      const h = this.histograms[field] as RecordableHistogram;
      let zeros = 0;
      for (let i = field; i < n; i += FIELDS) {
        const v = Math.round(b[i] as number);
        if (v > 0) h.record(v);
        else zeros++;
      }
      this.zeros[field] = (this.zeros[field] as number) + zeros;
    }
    this.buffered = 0;
  }
}

/** The distribution of a histogram plus `zeros` samples of 0 that were counted, not recorded. */
function distribution(h: RecordableHistogram, zeros: number): Distribution {
  const total = h.count + zeros;
  if (h.count === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const zeroShare = zeros / total;
  const at = (p: number) =>
    p / 100 <= zeroShare ? 0 : h.percentile(((p / 100 - zeroShare) / (1 - zeroShare)) * 100);
  return {
    min: zeros > 0 ? 0 : h.min,
    mean: (h.mean * h.count) / total,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: h.max,
  };
}

/** Every name's recorder, in first-seen order. */
export const statsByName = new Map<string, StatsRecorder>();

/** The recorder of `name`, created on first use. */
export function statsFor(name: string): StatsRecorder {
  let stats = statsByName.get(name);
  if (stats === undefined) statsByName.set(name, (stats = new StatsRecorder(name)));
  return stats;
}
