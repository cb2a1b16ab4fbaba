import { isReactor } from '../../engine/reactors.js';
import { describeValue, TlobTypeError } from '../../report/errors.js';
import type { TlobViolation } from './tlob-monitor.js';

/** A function as tlob's reactor: called with the frozen violation record of a window. */
export type TlobReactorFn = (violation: TlobViolation) => void;

/**
 * What happens when a window breaks its budget, chosen with `tlob.reactor()`: one of the engine's
 * reactors (`'log'`, the default; `'nop'`; `'abort'`; a function called with the violation), or
 * `'throw'`: nothing reacts at the violation, and `stop()` and `tlob.run` throw a
 * `TlobBudgetError` carrying the over-budget result (probed functions never throw for it).
 */
export type TlobReactor = 'log' | 'nop' | 'abort' | 'throw' | TlobReactorFn;

/** Checks a reactor given by a user; throws `ERR_TLOB_INVALID_REACTOR` for anything else. */
export function checkTlobReactor(value: unknown, caller = 'tlob.reactor', what = '`reactor`'): TlobReactor {
  if (value === 'throw' || isReactor(value)) return value;
  // a reactor named in text (a flag, a variable) cannot be a function
  const choices = typeof value === 'string' && caller !== 'tlob.reactor' ? '' : ' or a function';
  throw new TlobTypeError(
    'ERR_TLOB_INVALID_REACTOR',
    `${caller}: expected ${what} to be one of "log", "nop", "abort", "throw"${choices}, got ${describeValue(value)}`,
  );
}
