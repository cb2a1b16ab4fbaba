import { cpus } from 'node:os';
import type { TlobTaskStats } from './task-stats.js';

/** The version of the JSON shape of `bench.results` and `--json`; raised when a field changes meaning. */
export const SCHEMA_VERSION = 1;

/** A warning about a task's measurement, with what to do about it. */
export interface BenchWarning {
  readonly code: 'clock-resolution' | 'gc';
  readonly message: string;
}

/** One task's result: its statistics per state, budget checks, throughput, GC and warnings. */
export interface TaskResult extends TlobTaskStats {
  /** The name of the `Bench` the task belongs to (`''` when it has none). */
  readonly bench: string;
  readonly name: string;
  /** `'completed'`, `'errored'` (the function threw; `error` says what) or `'aborted'` (the signal). */
  readonly state: 'completed' | 'errored' | 'aborted';
  readonly error?: string;
  /** Iterations kept in flight at once. */
  readonly concurrency: number;
  /** Wall-clock time of the measured phase, in nanoseconds. */
  readonly wallNs: number;
  /** Completed iterations per second of wall-clock time (with concurrency, all in flight together). */
  readonly throughput: { readonly opsPerSecond: number };
  /** Garbage collections that started during the measured phase, and their total pause time. */
  readonly gc: { readonly count: number; readonly durationNs: number };
  readonly warnings: readonly BenchWarning[];
}

/** Where the numbers were measured. */
export interface BenchEnvironment {
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpu: { readonly model: string; readonly cores: number; readonly speedMHz: number };
  /** The smallest step between two reads of tlob's clock (`performance.now()`), in nanoseconds. */
  readonly clockResolutionNs: number;
}

/** What `bench.results` holds and `tlob-bench --json` writes: plain JSON, all times in nanoseconds. */
export interface BenchResults extends BenchEnvironment {
  readonly schemaVersion: number;
  /** ISO time at which the run finished. */
  readonly date: string;
  readonly tasks: readonly TaskResult[];
}

/** The smallest positive step seen between two consecutive reads of the clock in `tries` tries, in ms. */
function smallestStep(tries: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < tries; i++) {
    const a = performance.now();
    let b = performance.now();
    while (b === a) b = performance.now();
    if (b - a < best) best = b - a;
  }
  return best;
}

/**
 * Measures the clock's resolution: the smallest step between two reads. Tries before the loop is
 * optimized see steps of the interpreter's own cost (80-120 ns for a 30 ns clock), so 20,000 warm it
 * first; then rounds of tries go on until ten in a row found no smaller step (at most 30 ms, once
 * per process).
 */
function measureClockResolution(): number {
  smallestStep(20_000);
  const start = performance.now();
  let best = Number.POSITIVE_INFINITY;
  let unchanged = 0;
  while (unchanged < 10 && performance.now() - start < 30) {
    const step = smallestStep(500);
    if (step < best) {
      best = step;
      unchanged = 0;
    } else unchanged++;
  }
  return Math.max(1, Math.round(best * 1e6));
}

let environment: BenchEnvironment | undefined;

/** The environment of this process (measured once). */
export function benchEnvironment(): BenchEnvironment {
  if (environment === undefined) {
    const cpu = cpus();
    environment = {
      node: process.version,
      v8: process.versions.v8,
      platform: process.platform,
      arch: process.arch,
      cpu: { model: cpu[0]?.model ?? 'unknown', cores: cpu.length, speedMHz: cpu[0]?.speed ?? 0 },
      clockResolutionNs: measureClockResolution(),
    };
  }
  return environment;
}
