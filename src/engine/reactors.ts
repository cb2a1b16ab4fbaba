import { describeValue, TlobTypeError } from '../report/errors.js';
import type { Violation } from '../report/violation.js';

/** A reaction to a violation: called once per violation, after the record is built. */
export type ReactorFn = (violation: Violation) => void;

/**
 * What happens on a violation, chosen per monitor at run time (the kernel's RV reactors):
 * - `'log'` (default): one line on stderr, rate-limited, with a count of suppressed lines;
 * - `'nop'`: nothing (the violation still reaches the ring, the channels and the stats);
 * - `'abort'`: writes a diagnostic report, then aborts the process (the kernel's `panic`);
 * - `'throw'`: `stop()` and `run()` throw a `TlobBudgetError` carrying the result;
 * - a function: called with the violation record.
 */
export type Reactor = 'log' | 'nop' | 'abort' | 'throw' | ReactorFn;

export const REACTOR_NAMES = ['log', 'nop', 'abort', 'throw'] as const;

/** Checks a reactor given by a user; throws `ERR_TLOB_INVALID_REACTOR` for anything else. */
export function checkReactor(value: unknown, caller = 'tlob.reactor'): Reactor {
  if (typeof value === 'function') return value as ReactorFn;
  if (typeof value === 'string' && (REACTOR_NAMES as readonly string[]).includes(value))
    return value as Reactor;
  throw new TlobTypeError(
    'ERR_TLOB_INVALID_REACTOR',
    `${caller}: expected \`reactor\` to be one of "log", "nop", "abort", "throw" or a function, got ${describeValue(value)}`,
  );
}

/** Writes a diagnostic report (when `process.report` is available), then aborts: the kernel's panic. */
export function abortReactor(violation: Violation, format: (v: Violation) => string): void {
  process.stderr.write(`${format(violation)}\n`);
  try {
    process.report?.writeReport?.(new Error(format(violation)));
  } finally {
    process.abort();
  }
}
