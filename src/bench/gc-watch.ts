import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

/**
 * Garbage collections seen while a bench runs, through a `PerformanceObserver` on `gc` entries.
 * Node delivers the entries after the event loop turns, so `countBetween` first lets it turn.
 */
export class GcWatch {
  private readonly entries: { start: number; duration: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => this.keep(list.getEntries()));

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Collections that started between `start` and `end` (`performance.now()` times): count and pause in ns. */
  async countBetween(start: number, end: number): Promise<{ count: number; durationNs: number }> {
    await new Promise((resolve) => setImmediate(resolve));
    this.keep(this.observer.takeRecords());
    let count = 0;
    let duration = 0;
    for (const e of this.entries) {
      if (e.start < start || e.start > end) continue;
      count++;
      duration += e.duration;
    }
    return { count, durationNs: Math.round(duration * 1e6) };
  }

  /** Stops observing. */
  stop(): void {
    this.observer.disconnect();
  }

  private keep(list: PerformanceEntry[]): void {
    for (const e of list) this.entries.push({ start: e.startTime, duration: e.duration });
  }
}
