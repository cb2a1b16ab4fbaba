import { toBudgetNs } from '../engine/duration.js';
import { TlobTypeError } from '../index.js';
import { describeValue, refuseUnknownOptions } from '../report/errors.js';
import type { WithTlobOptions } from './tinybench.js';

/**
 * Checks an options argument of the harness: an object (or `undefined`), each of whose keys is one
 * of `known`; a misspelt key throws, naming the option it is nearest to.
 */
export function checkOptionsObject(options: unknown, known: readonly string[], caller: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected options object, got ${describeValue(options)}`,
    );
  }
  refuseUnknownOptions(options, known, caller);
}

/** Checks an optional boolean option and returns it, or `fallback` when it is `undefined`. */
export function checkBoolean(value: unknown, what: string, caller: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`${what}\` to be a boolean, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Checks the options of `withTlob` (and of `createProvider`, which hands them on) and resolves them. */
export function checkWithTlobOptions(
  options: WithTlobOptions,
  caller: string,
): { mode: 'wall' | 'running'; budgetNs: number | null } {
  checkOptionsObject(options, ['budget', 'mode'], caller);
  const mode = options.mode ?? 'wall';
  if (mode !== 'wall' && mode !== 'running') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`mode\` 'wall' or 'running', got ${describeValue(mode)}`,
    );
  }
  return { mode, budgetNs: options.budget === undefined ? null : toBudgetNs(options.budget, caller) };
}
