import { parseBudget } from '../../engine/duration.js';
import { describeValue, TlobTypeError } from '../../report/errors.js';
import { type StatsRecorder, statsFor } from '../../report/stats.js';
import type { OnStop } from './window.js';

/** Options of a window: `tlob.start(options)`, `tlob.run(name, options, fn)`, `tlob.attach(…, options)`. */
export interface WindowOptions {
  /**
   * The latency budget: a number of milliseconds, or a string with a unit (`'250us'`, `'50ms'`,
   * `'1.5s'`, `'20000ns'`). From 1 µs to 1 h.
   * @example { budget: '50ms' }
   */
  budget: number | string;
  /**
   * Name reported in results, violations and stats.
   * @default 'window'
   */
  name?: string;
  /** Called with the result of each window when it stops. An exception it throws is reported, not thrown. */
  onStop?: OnStop;
}

/**
 * A place windows are opened from (a `tlob.run` name, a probe): its parsed budget, its stats, and
 * what it has learned about its calls (whether one ever returned a promise).
 */
export interface Site {
  readonly name: string;
  readonly budgetNs: number;
  readonly onStop: OnStop | undefined;
  readonly stats: StatsRecorder;
  /** The raw budget, to reuse the parse while callers pass the same value. */
  readonly budgetInput: unknown;
  /**
   * Set while the site takes the synchronous fast path (no AsyncLocalStorage.run): after
   * `FAST_PATH_AFTER` consecutive calls returned without a promise. A promise clears it.
   */
  fast: boolean;
  /** Consecutive calls that returned without a promise. */
  syncStreak: number;
  /**
   * Set after `FAST_PATH_AFTER` consecutive calls of a function that is not an `async function`
   * returned a promise that was still pending: later ones are assumed pending without reading their
   * state (`util.inspect`, ~0.7 µs), and checked only if their window reaches its deadline.
   */
  assumePending: boolean;
  /** Consecutive calls whose returned promise was found pending. */
  pendingStreak: number;
  /**
   * Set once a call of a probed function (`tlob.attach`, `@budget`) returned a thenable that is
   * not a native promise: its later calls keep the window open until the thenable settles.
   */
  returnsThenables: boolean;
}

/** The checked parts of window options. */
export interface CheckedOptions {
  readonly name: string;
  readonly budgetNs: number;
  readonly budget: unknown;
  readonly onStop: OnStop | undefined;
}

/** Checks window options. Throws `ERR_TLOB_*` errors naming the bad option. */
export function checkOptions(options: unknown, caller: string, defaultName = 'window'): CheckedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected options like { budget: "50ms" }, got ${describeValue(options)}`,
    );
  }
  const { budget, name = defaultName, onStop } = options as Partial<WindowOptions>;
  const budgetNs = parseBudget(budget, caller);
  if (typeof name !== 'string' || name.length === 0) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`name\` to be a non-empty string, got ${describeValue(name)}`,
    );
  }
  if (onStop !== undefined && typeof onStop !== 'function') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`onStop\` to be a function, got ${describeValue(onStop)}`,
    );
  }
  return { name, budgetNs, budget, onStop };
}

/** Checks window options and builds a site. Throws `ERR_TLOB_*` errors naming the bad option. */
export function createSite(options: unknown, caller: string, defaultName = 'window'): Site {
  const { name, budgetNs, budget, onStop } = checkOptions(options, caller, defaultName);
  return {
    name,
    budgetNs,
    onStop,
    stats: statsFor(name),
    budgetInput: budget,
    fast: false,
    syncStreak: 0,
    assumePending: false,
    pendingStreak: 0,
    returnsThenables: false,
  };
}
