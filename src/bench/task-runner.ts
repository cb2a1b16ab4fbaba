import { tlob, type WindowResult } from '../index.js';
import { setImmediate } from '../real-timers.js';
import type { GcWatch } from './gc-watch.js';
import { DRAINED, type LoopDrain, unsettledError } from './loop-drain.js';
import { isThenable, MEASURE_BUDGET } from './measure-window.js';
import type { Progress } from './progress.js';
import type { BenchWarning, TaskResult } from './results.js';
import { SampleLog } from './sample-log.js';
import { relativeMoe } from './statistics.js';
import { taskKey } from './table.js';
import { summarizeLog } from './task-stats.js';

/** A hook around a task's iterations; may return a promise, which is then awaited. */
export type BenchHook = () => unknown;

/** A task as the runner sees it: the function, its hooks and the resolved options. */
export interface RunnableTask {
  readonly name: string;
  readonly fn: () => unknown;
  readonly budgetNs: number | null;
  readonly beforeAll?: BenchHook;
  readonly beforeEach?: BenchHook;
  readonly afterEach?: BenchHook;
  readonly afterAll?: BenchHook;
}

/** The resolved run options (times in milliseconds). */
export interface RunLimits {
  readonly time: number;
  readonly iterations: number;
  readonly warmup: boolean;
  readonly warmupTime: number;
  readonly warmupIterations: number;
  readonly concurrency: number;
  /** Stop early once the relative margin of error of elapsed is at most this (percent); 0: never. */
  readonly rme: number;
  readonly signal: AbortSignal | undefined;
}

/** Median elapsed below this many clock steps draws a `clock-resolution` warning. */
const RESOLUTION_FACTOR = 100;

/** Calls a hook and waits for it only when it returned a promise (which must settle). */
async function callHook(hook: BenchHook | undefined, name: string, drain: LoopDrain): Promise<void> {
  if (hook === undefined) return;
  const out = hook();
  if (isThenable(out) && (await drain.race(out)) === DRAINED) throw unsettledError(name);
}

/** What a phase did: its span on the clock, and the first error of the function or a hook, if one threw. */
interface PhaseEnd {
  readonly start: number;
  readonly end: number;
  readonly failure: { readonly error: unknown } | undefined;
}

/**
 * One phase (warm-up or measurement) of a task: `concurrency` loops that each run an iteration in
 * a `tlob.run` window until the phase has both its minimum iterations and its time (or, when
 * `rme` is set, a small enough margin of error). A synchronous function is called synchronously,
 * iteration after iteration; only promises are awaited. The first error (of the function or of
 * `beforeEach`/`afterEach`) ends the phase: no loop starts another iteration, and the phase
 * resolves once the iterations in flight in the other loops have finished. An iteration is
 * recorded once its function returned or its promise fulfilled, so the one that threw is not. When
 * the event loop runs dry while an iteration's promise is pending, that promise can never settle:
 * the phase ends with that as its error, leaving the loops that await it behind.
 */
/** How often the loops of a phase with a signal let the event loop turn, at most (`phase`). */
const TURN_EVERY_MS = 100;

async function phase(
  task: RunnableTask,
  log: SampleLog,
  limits: RunLimits,
  drain: LoopDrain,
  timeMs: number,
  minIterations: number,
  rme: number,
  progress: Progress,
  key: string,
  label: string,
): Promise<PhaseEnd> {
  const { fn, beforeEach, afterEach, name } = task;
  const signal = limits.signal;
  const start = performance.now();
  const deadline = start + timeMs;
  let done = signal?.aborted === true;
  let failure: PhaseEnd['failure'];
  // what each loop awaits (undefined once it ended), for the error when it never settles
  const awaiting: (string | undefined)[] = [];
  progress.begin(start);
  /**
   * When the loops last let the event loop turn: a function that never yields would otherwise keep
   * the signal's listener (Ctrl-C under `tlob bench`, `AbortSignal.timeout`) from running until the
   * phase ends. Between iterations, outside every window: no sample includes it.
   */
  let turnedAt = start;
  const loop = async (k: number): Promise<void> => {
    // one options object per loop: its window's result waits here until the iteration succeeded
    let result: WindowResult | undefined;
    const options = {
      budget: MEASURE_BUDGET,
      onStop: (r: WindowResult) => {
        result = r;
      },
    };
    try {
      while (!done) {
        if (beforeEach !== undefined) {
          const before = beforeEach();
          awaiting[k] = '`beforeEach`';
          if (isThenable(before)) await before;
        }
        const out = tlob.run(name, options, fn);
        awaiting[k] = 'the function';
        if (isThenable(out)) await out;
        if (result === undefined) throw new Error('tlob bench: an iteration ended without its window');
        log.record(result);
        result = undefined;
        if (afterEach !== undefined) {
          const after = afterEach();
          awaiting[k] = '`afterEach`';
          if (isThenable(after)) await after;
        }
        let now = performance.now();
        if (signal !== undefined && now - turnedAt >= TURN_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          now = turnedAt = performance.now();
        }
        if (now >= progress.next) progress.draw(now, key, label, log.count, log.mean);
        if (signal?.aborted) done = true;
        else if (log.count >= minIterations) {
          done = now >= deadline || (rme > 0 && relativeMoe(log.count, log.mean, log.variance) <= rme);
        }
      }
    } catch (error) {
      failure ??= { error };
      done = true;
    }
  };
  const loops: Promise<void>[] = [];
  for (let k = 0; k < limits.concurrency; k++) loops.push(loop(k).finally(() => (awaiting[k] = undefined)));
  // no loop rejects: each keeps its error in `failure`
  const all: Promise<unknown> = loops.length === 1 ? (loops[0] as Promise<void>) : Promise.all(loops);
  if ((await drain.race(all)) === DRAINED) {
    failure ??= { error: unsettledError(awaiting.find((what) => what !== undefined) ?? 'the function') };
    done = true;
  }
  progress.end();
  return { start, end: performance.now(), failure };
}

/** Runs a task (warm-up, then measurement) and returns its result; a throwing function ends it as `errored`. */
export async function runTask(
  bench: string,
  task: RunnableTask,
  limits: RunLimits,
  clockResolutionNs: number,
  gc: GcWatch,
  progress: Progress,
  drain: LoopDrain,
): Promise<TaskResult> {
  const log = new SampleLog();
  // the progress line names the task as the table does: among many benches a task's name alone is ambiguous
  const key = taskKey({ bench, name: task.name });
  let failure: PhaseEnd['failure'];
  let span = { start: 0, end: 0 };
  try {
    try {
      // inside: `afterAll` cleans up after a `beforeAll` that threw half-way, too
      await callHook(task.beforeAll, '`beforeAll`', drain);
      if (limits.warmup) {
        const warm = await phase(
          task,
          log,
          limits,
          drain,
          limits.warmupTime,
          limits.warmupIterations,
          0,
          progress,
          key,
          'warm-up',
        );
        failure = warm.failure;
        log.reset(); // an error in warm-up leaves the task without measured iterations
      }
      // an abort during warm-up starts no measured iteration
      if (failure === undefined && limits.signal?.aborted !== true) {
        const run = await phase(
          task,
          log,
          limits,
          drain,
          limits.time,
          limits.iterations,
          limits.rme,
          progress,
          key,
          'run',
        );
        span = run;
        failure = run.failure;
      }
    } finally {
      await callHook(task.afterAll, '`afterAll`', drain);
    }
  } catch (thrown) {
    failure ??= { error: thrown }; // the function's error, when afterAll threw after it
  }
  const thrown = failure?.error;
  const state: TaskResult['state'] =
    failure !== undefined ? 'errored' : limits.signal?.aborted ? 'aborted' : 'completed';
  const error =
    failure === undefined
      ? undefined
      : thrown instanceof Error
        ? (thrown.stack ?? thrown.message)
        : String(thrown);
  const stats = summarizeLog(log, task.budgetNs);
  const wallNs = Math.round((span.end - span.start) * 1e6);
  const gcSeen = await gc.countBetween(span.start, span.end);
  const warnings: BenchWarning[] = [];
  if (stats.samples > 0 && stats.elapsed.p50 < RESOLUTION_FACTOR * clockResolutionNs) {
    warnings.push({
      code: 'clock-resolution',
      message:
        `median elapsed ${Math.round(stats.elapsed.p50)}ns is under ${RESOLUTION_FACTOR} steps of the clock ` +
        `(${clockResolutionNs}ns): the clock and the window's own cost dominate each sample; batch the ` +
        'function (call it k times per iteration and divide the times by k)',
    });
  }
  if (gcSeen.count > 0) {
    warnings.push({
      code: 'gc',
      message:
        `${gcSeen.count} garbage collection${gcSeen.count === 1 ? '' : 's'} (${(gcSeen.durationNs / 1e6).toFixed(2)}ms) ran during the ` +
        'measurement; they count as running in the samples they hit: allocate in beforeEach, or compare runs with the same heap',
    });
  }
  return {
    bench,
    name: task.name,
    state,
    ...(error === undefined ? {} : { error }),
    concurrency: limits.concurrency,
    wallNs,
    throughput: { opsPerSecond: wallNs > 0 ? (stats.samples * 1e9) / wallNs : 0 },
    gc: gcSeen,
    warnings,
    ...stats,
  };
}
