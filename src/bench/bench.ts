import { type Duration, toBudgetNs } from '../engine/duration.js';
import { TlobError, TlobRangeError, TlobTypeError, tlob } from '../index.js';
import { describeValue as describe } from '../report/errors.js';
import { checkBoolean, checkOptionsObject } from './check-options.js';
import { GcWatch } from './gc-watch.js';
import { LoopDrain } from './loop-drain.js';
import { Progress } from './progress.js';
import { BENCH_BRAND, benchRegistry } from './registry.js';
import { type BenchResults, benchEnvironment, SCHEMA_VERSION, type TaskResult } from './results.js';
import { type BenchTableRow, tableRows, taskKey } from './table.js';
import { type BenchHook, type RunLimits, type RunnableTask, runTask } from './task-runner.js';

/** Options of `new Bench(options)`; times are in milliseconds. */
export interface BenchOptions {
  /** A name for the bench, shown before its tasks' names by the command. @default '' */
  name?: string;
  /** Minimum time of a task's measured phase, in ms. @default 1000 */
  time?: number;
  /** Minimum number of measured iterations per task, at most 1e8 (each sample is kept). @default 64 */
  iterations?: number;
  /** Whether to run a warm-up phase (discarded) before measuring. @default true */
  warmup?: boolean;
  /** Minimum time of the warm-up phase, in ms. @default 250 */
  warmupTime?: number;
  /** Minimum number of warm-up iterations, at most 1e8. @default 16 */
  warmupIterations?: number;
  /**
   * Budget every iteration is checked against (tasks may set their own): a number of ms or a
   * string with a unit. @default undefined (no budget: no violations are counted)
   * @example new Bench({ budget: '5ms' })
   */
  budget?: Duration;
  /** Iterations kept in flight at once; contention between them shows as waiting. @default 1 */
  concurrency?: number;
  /**
   * Stop a task early, once it has `iterations` samples, when the relative margin of error of its
   * mean elapsed time is at most this many percent. @default 0 (run for the whole `time`)
   */
  rme?: number;
  /**
   * An `AbortSignal` that aborts the run: the current task stops after its iterations in flight,
   * the rest are skipped. (Typed by its `aborted` alone, so that these declarations compile
   * without Node's types or the DOM library; anything else is refused at run time.)
   */
  signal?: { readonly aborted: boolean };
  /** Draw a progress line on stderr. @default whether stderr is a TTY */
  progress?: boolean;
}

/** Options of `bench.add(name, fn, options)`. Hooks may return promises, which are awaited. */
export interface TaskOptions {
  /** This task's budget, instead of the bench's. */
  budget?: Duration;
  /** Runs once before the task's iterations (warm-up included). */
  beforeAll?: BenchHook;
  /** Runs before each iteration, outside its window. */
  beforeEach?: BenchHook;
  /** Runs after each iteration, outside its window. */
  afterEach?: BenchHook;
  /** Runs once after the task's iterations, also when the function threw. */
  afterAll?: BenchHook;
}

const HOOKS = ['beforeAll', 'beforeEach', 'afterEach', 'afterAll'] as const;
const BENCH_OPTIONS = [
  'name',
  'time',
  'iterations',
  'warmup',
  'warmupTime',
  'warmupIterations',
  'budget',
  'concurrency',
  'rme',
  'signal',
  'progress',
] as const satisfies readonly (keyof BenchOptions)[];
const TASK_OPTIONS = ['budget', ...HOOKS] as const satisfies readonly (keyof TaskOptions)[];

/**
 * The largest count option (`iterations`, `warmupIterations`, `concurrency`): every measured
 * iteration keeps 32 bytes, so 10^8 of them take 3.2 GB; a larger count would never finish.
 */
const MAX_COUNT = 1e8;

function checkNumber(value: unknown, what: string, min: number, integer: boolean): number {
  if (typeof value !== 'number' || Number.isNaN(value) || (integer && !Number.isInteger(value))) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `new Bench: expected \`${what}\` to be ${integer ? 'an integer' : 'a number'}, got ${describe(value)}`,
    );
  }
  if (!Number.isFinite(value)) {
    throw new TlobRangeError(
      'ERR_TLOB_INVALID_ARG',
      `new Bench: expected \`${what}\` to be a finite number, got ${describe(value)}`,
    );
  }
  if (value < min) {
    throw new TlobRangeError(
      'ERR_TLOB_INVALID_ARG',
      `new Bench: expected \`${what}\` >= ${min}, got ${value}`,
    );
  }
  if (integer && value > MAX_COUNT) {
    throw new TlobRangeError('ERR_TLOB_INVALID_ARG', `new Bench: expected \`${what}\` <= 1e8, got ${value}`);
  }
  return value;
}

/**
 * A set of tasks measured one after the other, each iteration in a tlob window: the result has,
 * per task, statistics of elapsed, running, waiting and sleeping time and the budget checks.
 * @example
 * const bench = new Bench({ time: 500, budget: '2ms' });
 * bench.add('parse', () => JSON.parse(text));
 * await bench.run();
 * console.table(bench.table());
 */
export class Bench {
  readonly [BENCH_BRAND] = true;
  readonly name: string;
  private readonly limits: RunLimits;
  private readonly budget: Duration | undefined;
  private readonly progress: boolean;
  private readonly list: RunnableTask[] = [];
  private last: TaskResult[] = [];
  private finishedAt = '';

  constructor(options: BenchOptions = {}) {
    checkOptionsObject(options, BENCH_OPTIONS, 'new Bench');
    const name: unknown = options.name === undefined ? '' : options.name;
    if (typeof name !== 'string') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `new Bench: expected \`name\` string, got ${describe(name)}`,
      );
    }
    this.name = name;
    if (options.budget !== undefined) toBudgetNs(options.budget, 'new Bench');
    this.budget = options.budget;
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `new Bench: expected \`signal\` AbortSignal, got ${describe(signal)}`,
      );
    }
    this.limits = {
      time: checkNumber(options.time ?? 1000, 'time', 0, false),
      iterations: checkNumber(options.iterations ?? 64, 'iterations', 1, true),
      warmup: checkBoolean(options.warmup, 'warmup', 'new Bench', true),
      warmupTime: checkNumber(options.warmupTime ?? 250, 'warmupTime', 0, false),
      warmupIterations: checkNumber(options.warmupIterations ?? 16, 'warmupIterations', 1, true),
      concurrency: checkNumber(options.concurrency ?? 1, 'concurrency', 1, true),
      rme: checkNumber(options.rme ?? 0, 'rme', 0, false),
      signal,
    };
    this.progress = checkBoolean(options.progress, 'progress', 'new Bench', process.stderr.isTTY === true);
    const registry = benchRegistry();
    if (registry.collecting) registry.benches.push(this);
  }

  /** Adds a task; its function is called with no arguments, once per iteration. */
  add(name: string, fn: () => unknown, options: TaskOptions = {}): this {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `bench.add: expected \`name\` non-empty string, got ${describe(name)}`,
      );
    }
    if (this.list.some((t) => t.name === name)) {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `bench.add: expected a new task name, got "${name}" twice`,
      );
    }
    if (typeof fn !== 'function') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `bench.add: expected \`fn\` function, got ${describe(fn)}`,
      );
    }
    checkOptionsObject(options, TASK_OPTIONS, 'bench.add');
    for (const hook of HOOKS) {
      const value = options[hook];
      if (value !== undefined && typeof value !== 'function') {
        throw new TlobTypeError(
          'ERR_TLOB_INVALID_ARG',
          `bench.add: expected \`${hook}\` function, got ${describe(value)}`,
        );
      }
    }
    const budget = options.budget ?? this.budget;
    this.list.push({
      ...options,
      name,
      fn,
      budgetNs: budget === undefined ? null : toBudgetNs(budget, 'bench.add'),
    });
    return this;
  }

  /** The names of the tasks, in the order they run. */
  get tasks(): readonly string[] {
    return this.list.map((t) => t.name);
  }

  /** Runs every task (warm-up, then measurement) one after the other; resolves to `bench.results`. */
  async run(): Promise<BenchResults> {
    if (!tlob.enabled) {
      throw new TlobError(
        'ERR_TLOB_DISABLED',
        'bench.run: expected tlob enabled (each iteration is measured in a window), got tlob.disable() in force: call tlob.enable() first',
      );
    }
    const env = benchEnvironment();
    const gc = new GcWatch();
    const drain = new LoopDrain();
    const progress = new Progress(this.progress);
    const results: TaskResult[] = [];
    const registry = benchRegistry();
    // the command's Ctrl-C stops the run as the bench's own signal does
    const interrupt = registry.interrupt;
    const own = this.limits.signal;
    const signal =
      interrupt === undefined ? own : own === undefined ? interrupt : AbortSignal.any([own, interrupt]);
    const limits = { ...this.limits, signal };
    try {
      for (const task of this.list) {
        if (signal?.aborted) break;
        registry.current = taskKey({ bench: this.name, name: task.name });
        results.push(await runTask(this.name, task, limits, env.clockResolutionNs, gc, progress, drain));
      }
    } finally {
      gc.stop();
      drain.stop();
      registry.current = undefined;
    }
    this.last = results;
    this.finishedAt = new Date().toISOString();
    return this.results;
  }

  /** The last run's results as plain JSON (no tasks before the first run). */
  get results(): BenchResults {
    return { schemaVersion: SCHEMA_VERSION, date: this.finishedAt, ...benchEnvironment(), tasks: this.last };
  }

  /** The last run's results as rows for `console.table` (times in ms). */
  table(): BenchTableRow[] {
    return tableRows(this.last);
  }
}
