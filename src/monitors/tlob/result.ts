import { formatNs } from '../../engine/duration.js';
import { brandErrorClass, TlobError } from '../../report/errors.js';

/** The fields of every `WindowResult`: the window, its budget, elapsed time and where that time went. */
interface WindowResultFields {
  /** The window's name (`tlob.start({ name })`, `tlob.run(name, …)`, or the probe's name). */
  readonly name: string;
  /** Unique id of the window in this thread; 0 for the inert window of a disabled monitor. */
  readonly id: number;
  /** The window's budget, in nanoseconds. */
  readonly budgetNs: number;
  /** Time from start to stop. */
  readonly elapsedNs: number;
  /** Time the JS thread ran code of the window (its own frames, synchronous callees, its continuations). */
  readonly runningNs: number;
  /** Time a continuation of the window was ready to run but the thread was busy with other work. */
  readonly waitingNs: number;
  /** Time the window waited on something that was not ready (I/O, timers, other calls). */
  readonly sleepingNs: number;
}

/**
 * What `window.stop()` returns: the window's budget, elapsed time and where that time went. A union
 * on `overBudget`: where it is true, `code` is `'EOVERFLOW'`; where it is false, `undefined`.
 */
export type WindowResult = WindowResultFields &
  (
    | {
        /** False: the window kept its budget. */
        readonly overBudget: false;
        /** `undefined` within budget. */
        readonly code: undefined;
      }
    | {
        /** True: the window broke its budget (then exactly one violation was reported). */
        readonly overBudget: true;
        /** `'EOVERFLOW'`, the kernel's TRACE_STOP return for a window over budget. */
        readonly code: 'EOVERFLOW';
      }
  );

/** What `tlob:start` carries when a window opens. */
export interface WindowStart {
  readonly name: string;
  /** The id its result will carry. */
  readonly id: number;
  /** The budget, in nanoseconds. */
  readonly budgetNs: number;
  /** When it opened, on tlob's monotonic clock: `performance.now()` in nanoseconds (fractional). */
  readonly startNs: number;
}

/** Thrown by `stop()` and `run()` for an over-budget window when the monitor's reactor is `'throw'`. */
export class TlobBudgetError extends TlobError {
  constructor(readonly result: WindowResult) {
    super(
      'ERR_TLOB_BUDGET_EXCEEDED',
      `tlob: window "${result.name}" exceeded its budget of ${formatNs(result.budgetNs)} (elapsed ${formatNs(result.elapsedNs)})`,
    );
    this.name = 'TlobBudgetError';
  }
}
brandErrorClass(TlobBudgetError, 'TlobBudgetError', ['TlobError']);
