/**
 * The budget of the windows that measure iterations: the longest tlob allows, so that no window is
 * cut short at a violation (its split would stop there). The harness checks the user's budget
 * against each window's elapsed time itself.
 */
export const MEASURE_BUDGET = '3600s';

/** Whether an iteration returned something to wait for (a promise or another thenable). */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null &&
  (typeof value === 'object' || typeof value === 'function') &&
  typeof (value as { then?: unknown }).then === 'function';
