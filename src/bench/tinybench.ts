// `tlob/tinybench`: tlob's per-state statistics and budget checks for the tasks of a tinybench `Bench`.
import type { Fn, FnOptions, Task, Bench as Tinybench } from 'tinybench';
import { type Duration, TlobTypeError, tlob, type WindowResult } from '../index.js';
import { describeValue } from '../report/errors.js';
import { checkWithTlobOptions } from './check-options.js';
import { isThenable, MEASURE_BUDGET } from './measure-window.js';
import { SampleLog } from './sample-log.js';
import { summarizeLog, type TlobTaskStats } from './task-stats.js';

/** Options of `withTlob(bench, options)`. */
export interface WithTlobOptions {
  /** Budget every iteration is checked against. @default undefined (no violations counted) */
  budget?: Duration;
  /**
   * What tinybench records as each sample: `'wall'` its own clock (the default), `'running'` the
   * window's running time (`overriddenDuration`), with the window's elapsed time as the iteration's
   * cost (`overriddenIterationCost`) so that tinybench's `time` budget stays a wall-clock budget.
   * @default 'wall'
   */
  mode?: 'wall' | 'running';
}

/** A tinybench task that `withTlob` wrapped: `task.tlob` holds tlob's statistics of its measured iterations. */
export type TlobTask = Task & { readonly tlob: TlobTaskStats };

/** The bench `withTlob` returns: the same object, its tasks typed as `TlobTask`s. */
export type TlobBench<B extends Tinybench = Tinybench> = {
  getTask(name: string): TlobTask | undefined;
  readonly tasks: TlobTask[];
} & B;

const asSample = (r: WindowResult) => ({
  overriddenDuration: r.runningNs / 1e6,
  overriddenIterationCost: r.elapsedNs / 1e6,
});

/** The iteration function that runs `fn` in a window and records it in `log`. */
function measured(name: string, fn: Fn, log: SampleLog, mode: 'wall' | 'running'): Fn {
  const options = { budget: MEASURE_BUDGET, onStop: log.record };
  if (mode === 'wall') return () => tlob.run(name, options, fn);
  return () => {
    let result: WindowResult | undefined;
    const out = tlob.run(
      name,
      {
        budget: MEASURE_BUDGET,
        onStop: (r) => {
          log.record(r);
          result = r;
        },
      },
      fn,
    );
    // through a promise of its own: a thenable's `then` need not return one to chain on
    if (isThenable(out)) return Promise.resolve(out).then(() => asSample(result as WindowResult));
    return asSample(result as WindowResult);
  };
}

/**
 * Whether tinybench would run `fn` as asynchronous: an async function, or one whose call returns a
 * thenable. Decided here, with the one call tinybench would make, outside any window: tinybench's own
 * detection call would go through the wrapper and be recorded, and a promise it returns may settle
 * after the log's reset at the start of the measured phase.
 */
function isAsyncTask(fn: Fn): boolean {
  if (fn.constructor.name === 'AsyncFunction') return true;
  try {
    const out = fn();
    if (!isThenable(out)) return false;
    // followed with callbacks, as tinybench does: a thenable may call both (or throw in `then`
    // when handed none), and a rejection here is not unhandled
    Promise.resolve(out).catch(() => {});
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes every task added to `bench` from now on run each iteration in a tlob window: the task then
 * carries `task.tlob` (per-state statistics, violations) for its measured iterations (warm-up and
 * tinybench's async detection call excluded). Call it before `bench.add`.
 * @example
 * const bench = withTlob(new Bench({ time: 500 }), { budget: '2ms' });
 * bench.add('parse', () => JSON.parse(text));
 * await bench.run();
 * const p99 = bench.getTask('parse')?.tlob.running.p99;
 */
export function withTlob<B extends Tinybench>(bench: B, options: WithTlobOptions = {}): TlobBench<B> {
  if (bench === null || typeof bench !== 'object' || typeof bench.add !== 'function') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `withTlob: expected a tinybench Bench, got ${describeValue(bench)}`,
    );
  }
  if (bench.tasks.length > 0) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `withTlob: expected a Bench without tasks (call withTlob before add), got one with ${bench.tasks.length}`,
    );
  }
  const { mode, budgetNs } = checkWithTlobOptions(options, 'withTlob');
  const add = bench.add;
  Object.defineProperty(bench, 'add', {
    configurable: true,
    writable: true,
    value(name: string, fn: Fn, fnOpts: FnOptions = {}): B {
      const log = new SampleLog();
      const { beforeAll, afterAll } = fnOpts;
      add.call(bench, name, measured(name, fn, log, mode), {
        ...fnOpts,
        async: fnOpts.async ?? isAsyncTask(fn),
        beforeAll(this: Task, phase) {
          if (phase !== 'warmup') log.reset();
          return beforeAll?.call(this, phase);
        },
        afterAll(this: Task, phase) {
          // also when warm-up threw: tinybench then never measures the task, and leaves no samples
          if (phase === 'warmup') log.reset();
          return afterAll?.call(this, phase);
        },
      });
      const task = bench.getTask(name);
      if (task !== undefined) {
        Object.defineProperty(task, 'tlob', { configurable: true, get: () => summarizeLog(log, budgetNs) });
      }
      return bench;
    },
  });
  return bench as TlobBench<B>; // every task added from now on carries `tlob`
}
