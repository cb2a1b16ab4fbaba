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
 * `perf_hooks` histograms in batches: a histogram `record()` is a native call (~17–30 ns), four
 * per window would cost more than the rest of a monitored synchronous call.
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
    const [elapsed, running, waiting, sleeping] = this.histograms.map(distribution) as [
      Distribution,
      Distribution,
      Distribution,
      Distribution,
    ];
    return {
      name: this.name,
      count: this.count,
      violations: this.violations,
      elapsed,
      running,
      waiting,
      sleeping,
    };
  }

  reset(): void {
    this.count = this.violations = this.buffered = 0;
    for (const h of this.histograms) h.reset();
  }

  private flush(): void {
    const b = this.buffer;
    const n = this.buffered * FIELDS;
    for (let i = 0; i < n; i++) {
      // perf_hooks histograms hold integers >= 1; a zero split (no sleeping at all) is recorded as 1 ns.
      (this.histograms[i % FIELDS] as RecordableHistogram).record(Math.max(1, Math.round(b[i] as number)));
    }
    this.buffered = 0;
  }
}

function distribution(h: RecordableHistogram): Distribution {
  if (h.count === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const v = (n: number) => (n <= 1 ? 0 : n);
  return {
    min: v(h.min),
    mean: h.mean,
    p50: v(h.percentile(50)),
    p90: v(h.percentile(90)),
    p99: v(h.percentile(99)),
    max: v(h.max),
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
