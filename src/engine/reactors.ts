import type { Violation } from '../report/violation.js';

/** A reaction to a violation: called once per violation, after the record is built. */
export type ReactorFn = (violation: Violation) => void;

/**
 * What the engine does on a violation, chosen per monitor at run time (the kernel's RV reactors):
 * - `'log'` (default): one line on stderr, rate-limited, with a count of suppressed lines;
 * - `'nop'`: nothing (the violation still reaches the ring, the channels and the stats);
 * - `'abort'`: writes a diagnostic report, then aborts the process (the kernel's `panic`);
 * - a function: called with the violation record.
 */
export type Reactor = 'log' | 'nop' | 'abort' | ReactorFn;

const REACTOR_NAMES: readonly unknown[] = ['log', 'nop', 'abort'];

/** Whether `value` is one of the engine's reactors. */
export function isReactor(value: unknown): value is Reactor {
  return typeof value === 'function' || REACTOR_NAMES.includes(value);
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
