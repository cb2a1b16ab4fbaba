import { type InspectOptions, inspect } from 'node:util';
import { currentTask } from '../../context/current-task.js';
import { isNativePromise } from '../../context/settle-watch.js';
import { describeValue, TlobTypeError } from '../../report/errors.js';
import { MAX_NAMES } from '../../report/stats.js';
import { hasThen } from './call-path.js';
import { CallSite } from './call-site.js';
import { TlobBudgetError, type WindowResult } from './result.js';
import { checkOptions, createSite, type WindowOptions } from './site.js';
import { tlobMonitor } from './tlob-monitor.js';
import { type OnStop, type Window, WindowView, windowsKept } from './window.js';

/** A window opened by `tlob.start()`: stop it with `stop()`. */
export interface TlobWindow {
  readonly name: string;
  /** Unique per thread; 0 for the inert window handed out while tlob is disabled. */
  readonly id: number;
  /** The budget, in nanoseconds. */
  readonly budgetNs: number;
  /** Stops the window and returns its result; a second call returns the same result. */
  stop(): WindowResult;
}

const inertResult = (name: string, budgetNs: number): WindowResult =>
  Object.freeze({
    name,
    id: 0,
    budgetNs,
    elapsedNs: 0,
    runningNs: 0,
    waitingNs: 0,
    sleepingNs: 0,
    overBudget: false,
    code: undefined,
  });

/**
 * The window handed out by `start()` while tlob is disabled: it measures nothing, and it is
 * immutable, so one serves every `start()` with the same options (`inertWindowFor`).
 */
class InertWindow implements TlobWindow {
  readonly id = 0;
  private readonly result: WindowResult;
  constructor(
    readonly name: string,
    readonly budgetNs: number,
    /** The options it was made from, and the values read from them then. */
    readonly options: object,
    readonly nameInput: unknown,
    readonly budgetInput: unknown,
    readonly onStopInput: unknown,
  ) {
    this.result = inertResult(name, budgetNs);
  }
  stop(): WindowResult {
    return this.result;
  }
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return inspect(this.toJSON(), options);
  }
  toJSON(): WindowView {
    return new WindowView(this.name, 0, this.budgetNs, false, undefined);
  }
}

/** The inert window of the last `start()` made while tlob was disabled. */
let lastInert: InertWindow | undefined;

/**
 * The inert window for `options`: the last one again when the same options object still holds the
 * same values (a call site passes one options object every time), so that a disabled `start()`
 * costs a few property reads; otherwise the options are checked, so that bad input fails early
 * whether or not tlob is enabled (no stats entry is made).
 */
function inertWindowFor(options: WindowOptions): InertWindow {
  const last = lastInert;
  if (
    last !== undefined &&
    last.options === options &&
    last.budgetInput === options.budget &&
    last.nameInput === options.name &&
    last.onStopInput === options.onStop
  )
    return last;
  const { name, budgetNs, budget, onStop } = checkOptions(options, 'tlob.start');
  lastInert = new InertWindow(name, budgetNs, options, options.name, budget, onStop);
  return lastInert;
}

/** The arguments of every `tlob.run` callback: none, and no array allocated per call. */
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/** Sites of `tlob.run` by name; the budget parse is reused while a name keeps its budget. */
const runSites = new Map<string, CallSite>();

/** The site of the last `tlob.run`: a loop that runs one name finds it without the map lookup. */
let lastRunSite: CallSite | undefined;

function runSite(name: unknown, options: unknown, fn: unknown): CallSite {
  const last = lastRunSite;
  if (
    last !== undefined &&
    last.name === name &&
    last.budgetInput === (options as WindowOptions | null)?.budget
  )
    return last;
  lastRunSite = runSiteByName(name, options, fn);
  return lastRunSite;
}

/** The options `tlob.run` takes (`name` is ignored: the first argument names the window). */
const RUN_OPTIONS = ['budget', 'onStop', 'name'] as const;

/**
 * The site of `name`, made when the name or its budget is new. Every argument is checked before a
 * site is made: a site takes a stats name for good, so a refused call must not make one.
 */
function runSiteByName(name: unknown, options: unknown, fn: unknown): CallSite {
  const site = runSites.get(name as string);
  const budget = (options as WindowOptions | null)?.budget;
  if (site !== undefined && site.budgetInput === budget && budget !== undefined) return site;
  const budgetNs = checkRunArguments(name, options, fn);
  const fresh = new CallSite(name as string, budgetNs, undefined, budget);
  if (site !== undefined) fresh.learnFrom(site);
  if (site !== undefined || runSites.size < MAX_NAMES) runSites.set(name as string, fresh);
  return fresh;
}

/**
 * Checks the arguments of `tlob.run` in order (`name`, `options`, `fn`) and returns the budget in
 * nanoseconds; throws `ERR_TLOB_*` errors naming the first bad one. `options.name` is ignored.
 */
function checkRunArguments(name: unknown, options: unknown, fn: unknown): number {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.run: expected \`name\` to be a non-empty string, got ${describeValue(name)}`,
    );
  }
  const { budgetNs } = checkOptions(options, 'tlob.run', undefined, name, RUN_OPTIONS);
  if (typeof fn !== 'function') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.run: expected \`fn\` to be a function, got ${describeValue(fn)}`,
    );
  }
  return budgetNs;
}

/**
 * Opens a window with a budget in the current async context (like `AsyncLocalStorage.enterWith`:
 * inside an async function it also covers the synchronous caller until that caller yields). While
 * tlob is disabled, the window is inert: it measures nothing.
 * @example const w = tlob.start({ budget: '50ms', name: 'load' }); await load(); w.stop();
 */
export function start(options: WindowOptions): TlobWindow {
  if (!tlobMonitor.enabled) return inertWindowFor(options);
  return createSite(options, 'tlob.start').start();
}

/**
 * Runs `fn` in its own window and async context; returns or throws exactly what `fn` does. The
 * window closes when `fn` returns, throws, or the promise it returned settles.
 * @example const rows = await tlob.run('query', { budget: '20ms' }, () => db.query(sql));
 */
export function run<T>(name: string, options: WindowOptions, fn: () => T): T {
  if (!tlobMonitor.enabled) {
    // checked as when enabled, then just called, with no site: nothing is counted
    checkRunArguments(name, options, fn);
    return fn();
  }
  const site = runSite(name, options, fn);
  const onStop = options.onStop;
  // a site found again was made by a call whose arguments were good: only these can differ
  if (typeof fn !== 'function' || (onStop !== undefined && typeof onStop !== 'function'))
    checkRunArguments(name, options, fn);
  if (tlobMonitor.throwing) return runThrowing(site, fn, onStop) as T;
  return site.invoke(fn, undefined, NO_ARGS, undefined, onStop) as T;
}

/**
 * `tlob.run` under the `'throw'` reactor, one of the two API boundaries of that policy (the other
 * is `stop()`): an over-budget call throws a `TlobBudgetError` instead of returning, and a promise
 * it returned rejects with one instead of fulfilling. The call's own throw or rejection passes
 * through unchanged.
 */
function runThrowing(site: CallSite, fn: Function, onStop: OnStop | undefined): unknown {
  const outcome = new ThrowingOutcome(onStop);
  const value = site.invoke(fn, undefined, NO_ARGS, undefined, outcome.onStop);
  if (outcome.result !== undefined) return outcome.check(value); // closed already
  if (isNativePromise(value)) return value.then((fulfilled) => outcome.afterSettled(fulfilled));
  // a thenable whose outcome the window waits for: followed through a promise of its own, which
  // is the thenable's first `then` caller (the one the window observes)
  if (isThenable(value)) return Promise.resolve(value).then((fulfilled) => outcome.afterSettled(fulfilled));
  return outcome.check(value);
}

/** Whether `value` is an object with a callable `then`. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && hasThen(value);
}

/** The result of one `tlob.run` call under the `'throw'` reactor, caught as the window closes. */
class ThrowingOutcome {
  result: WindowResult | undefined = undefined;
  readonly onStop: OnStop;

  constructor(userOnStop: OnStop | undefined) {
    this.onStop = (result) => {
      this.result = result;
      userOnStop?.(result);
    };
  }

  /** Returns `value`, or throws for an over-budget result. */
  check<T>(value: T): T {
    if (this.result?.overBudget === true) throw new TlobBudgetError(this.result);
    return value;
  }

  /**
   * The call's promise fulfilled. Its window closes at that moment, in a microtask queued when the
   * promise settled, which may still be ahead of this one: then the check waits for one more turn.
   */
  afterSettled<T>(value: T): T | Promise<T> {
    if (this.result !== undefined) return this.check(value);
    return Promise.resolve().then(() => this.check(value));
  }
}

/** The innermost open window of the current context, or `undefined`. */
export function current(): TlobWindow | undefined {
  let task = currentTask() as Window | undefined;
  while (task?.stopped) task = task.parent as Window | undefined;
  if (task !== undefined) windowsKept.count++; // the caller may keep it: its site must not reuse it
  return task;
}
