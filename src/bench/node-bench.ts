import { type Duration, toBudgetNs } from '../engine/duration.js';
import { TlobTypeError, tlob, type WindowResult } from '../index.js';
import { describeValue } from '../report/errors.js';
import { checkOptionsObject } from './check-options.js';
import { isThenable, MEASURE_BUDGET } from './measure-window.js';

/** What `node:bench` hands a benchmark function: the part of it this helper uses. */
export interface NodeBenchSampler {
  record(sample: { operations: number; duration_ns: bigint; detail?: unknown }): void;
}

/** The `detail` of each sample recorded by `nodeBenchSample`, in nanoseconds. */
export interface NodeBenchDetail {
  readonly runningNs: number;
  readonly waitingNs: number;
  readonly sleepingNs: number;
  /** Whether the sample's elapsed time reached the budget (`false` without a budget). */
  readonly overBudget: boolean;
}

/**
 * A benchmark function for `node:bench` (Node ≥ 26.9, `--experimental-bench`): each sample runs
 * `fn` once in a tlob window and is recorded with `b.record()`, its elapsed time as the duration and
 * tlob's split as its `detail`.
 * @example
 * import { bench } from 'node:bench';
 * bench('fetch', { samples: 30 }, nodeBenchSample('fetch', () => fetchUser(1), { budget: '20ms' }));
 */
export function nodeBenchSample(
  name: string,
  fn: () => unknown,
  options: { budget?: Duration } = {},
): (b: NodeBenchSampler) => unknown {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `nodeBenchSample: expected \`name\` to be a non-empty string, got ${describeValue(name)}`,
    );
  }
  if (typeof fn !== 'function') {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `nodeBenchSample: expected \`fn\` function, got ${describeValue(fn)}`,
    );
  }
  checkOptionsObject(options, ['budget'], 'nodeBenchSample');
  const budgetNs = options.budget === undefined ? null : toBudgetNs(options.budget, 'nodeBenchSample');
  return (b) => {
    let result: WindowResult | undefined;
    const record = () => {
      const r = result as WindowResult;
      const detail: NodeBenchDetail = {
        runningNs: r.runningNs,
        waitingNs: r.waitingNs,
        sleepingNs: r.sleepingNs,
        overBudget: budgetNs !== null && r.elapsedNs >= budgetNs,
      };
      b.record({ operations: 1, duration_ns: BigInt(Math.round(r.elapsedNs)), detail });
    };
    const out = tlob.run(name, { budget: MEASURE_BUDGET, onStop: (r) => (result = r) }, fn);
    if (isThenable(out)) return Promise.resolve(out).then(record);
    record();
    return undefined;
  };
}
