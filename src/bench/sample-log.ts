import type { WindowResult } from '../index.js';

/**
 * The per-iteration split of one task's windows, in growable typed arrays (no object kept per
 * sample), plus a running mean and variance of elapsed (Welford) for the stop rule.
 */
export class SampleLog {
  count = 0;
  elapsed = new Float64Array(1024);
  running = new Float64Array(1024);
  waiting = new Float64Array(1024);
  sleeping = new Float64Array(1024);
  /** Running mean and sum of squared deviations of elapsed. */
  mean = 0;
  m2 = 0;

  /** Records one finished window; a shared method, handed to `tlob.run` as its `onStop`. */
  readonly record = (result: WindowResult): void => {
    const i = this.count;
    if (i === this.elapsed.length) this.grow();
    const elapsed = result.elapsedNs;
    this.elapsed[i] = elapsed;
    this.running[i] = result.runningNs;
    this.waiting[i] = result.waitingNs;
    this.sleeping[i] = result.sleepingNs;
    this.count = i + 1;
    const delta = elapsed - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (elapsed - this.mean);
  };

  /** Forgets every sample (the end of warm-up). */
  reset(): void {
    this.count = 0;
    this.mean = 0;
    this.m2 = 0;
  }

  /** The sample variance of elapsed so far. */
  get variance(): number {
    return this.count > 1 ? this.m2 / (this.count - 1) : 0;
  }

  /** The recorded values of one state (a view, not a copy). */
  values(state: 'elapsed' | 'running' | 'waiting' | 'sleeping'): Float64Array {
    return this[state].subarray(0, this.count);
  }

  private grow(): void {
    const size = this.elapsed.length * 2;
    for (const key of ['elapsed', 'running', 'waiting', 'sleeping'] as const) {
      const bigger = new Float64Array(size);
      bigger.set(this[key]);
      this[key] = bigger;
    }
  }
}
