import { toBudgetNs } from '../../engine/duration.js';
import { describeValue, refuseUnknownOptions, TlobTypeError } from '../../report/errors.js';
import { CallSite } from './call-site.js';
import type { OnStop } from './window.js';

/** Options of a window: `tlob.start(options)`, `tlob.run(name, options, fn)`, `tlob.attach(…, options)`. */
export interface WindowOptions {
  /**
   * The latency budget: a number of milliseconds, or a string with a unit (`'250us'`, `'50ms'`,
   * `'1.5s'`, `'20000ns'`). From 1 µs to 3600 s.
   * @example { budget: '50ms' }
   */
  budget: number | string;
  /**
   * Name reported in results, violations and stats. Defaults to `'window'` for `tlob.start`, to
   * `Label.path` (`MODULE:PATH` for a module) for `tlob.attach`; `tlob.run` takes its name as its
   * first argument and ignores this one.
   */
  name?: string;
  /** Called with the result of each window when it stops. An exception it throws is reported, not thrown. */
  onStop?: OnStop;
}

/** The checked parts of window options. */
export interface CheckedOptions {
  readonly name: string;
  readonly budgetNs: number;
  readonly budget: unknown;
  readonly onStop: OnStop | undefined;
}

/**
 * Checks window options. Throws `ERR_TLOB_*` errors naming the bad option. `givenName`: the name
 * given apart from the options (`tlob.run`'s), which then ignores `options.name`. `known`: the
 * options the caller takes; another key (a misspelt option) throws. Left out where options are
 * checked on every call (`tlob.start`): listing an object's keys costs more than the rest.
 */
export function checkOptions(
  options: unknown,
  caller: string,
  defaultName = 'window',
  givenName?: unknown,
  known?: readonly string[],
): CheckedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected options like { budget: "50ms" }, got ${describeValue(options)}`,
    );
  }
  if (known !== undefined) refuseUnknownOptions(options, known, caller);
  const { budget, onStop } = options as Partial<WindowOptions>;
  // only an absent name takes the default: `null`, like any other non-string, is refused
  const optionName = (options as Partial<WindowOptions>).name;
  const name = givenName ?? (optionName === undefined ? defaultName : optionName);
  const budgetNs = toBudgetNs(budget, caller);
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

/** Checks window options and builds a call site. Throws `ERR_TLOB_*` errors naming the bad option. */
export function createSite(
  options: unknown,
  caller: string,
  defaultName = 'window',
  callback = false,
  known?: readonly string[],
): CallSite {
  const { name, budgetNs, budget, onStop } = checkOptions(options, caller, defaultName, undefined, known);
  return new CallSite(name, budgetNs, onStop, budget, callback);
}
