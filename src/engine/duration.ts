import { describeValue, TlobRangeError, TlobTypeError } from '../report/errors.js';

/** Nanoseconds per unit accepted in duration strings. */
const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
};

/** A duration: a number of milliseconds, or a string with a unit (`'250us'`, `'50ms'`, `'1.5s'`). */
export type Duration = number | string;

const MIN_BUDGET_NS = 1_000;
const MAX_BUDGET_NS = 3_600_000_000_000;

const DURATION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ns|us|µs|μs|ms|s)\s*$/;

/**
 * Parses a duration into nanoseconds: a number is milliseconds, a string needs one of the units
 * `ns`, `us`, `µs`, `ms`, `s`. Throws a `TypeError` (`ERR_TLOB_INVALID_BUDGET`) for anything else.
 */
export function toDurationNs(value: unknown, what: string, caller: string): number {
  let ns: number;
  if (typeof value === 'number') {
    // as "-5ms" does not parse: a duration is never negative
    if (!Number.isFinite(value) || value < 0) throw invalid(value, what, caller);
    ns = value * 1e6;
  } else if (typeof value === 'string') {
    const match = DURATION_RE.exec(value);
    if (match === null) throw invalid(value, what, caller);
    ns = Number(match[1]) * (UNIT_NS[match[2] as string] as number);
  } else {
    throw invalid(value, what, caller);
  }
  return Math.round(ns);
}

/** Budgets already parsed, by their string form: `tlob.start({ budget: '50ms' })` on a hot path. */
const parsedBudgets = new Map<string, number>();

/** Parses a budget into nanoseconds and checks the kernel's range, 1 µs to 3600 s (`RangeError` outside). */
export function toBudgetNs(value: unknown, caller: string): number {
  if (typeof value === 'string') {
    const known = parsedBudgets.get(value);
    if (known !== undefined) return known;
  }
  // a negative number of milliseconds is a number out of the budget's range (not a malformed one)
  const ns = typeof value === 'number' && value < 0 ? value * 1e6 : toDurationNs(value, 'budget', caller);
  if (ns < MIN_BUDGET_NS || ns > MAX_BUDGET_NS) {
    throw new TlobRangeError(
      'ERR_TLOB_BUDGET_RANGE',
      `${caller}: expected \`budget\` between 1us and 3600s (1 hour), got ${describeValue(value)}`,
    );
  }
  if (typeof value === 'string' && parsedBudgets.size < 1024) parsedBudgets.set(value, ns);
  return ns;
}

/**
 * A duration in nanoseconds: a number is milliseconds, a string needs one of the units `ns`, `us`,
 * `µs`, `ms`, `s` (`'250us'`, `'1.5s'`). Never negative; no upper limit. Throws a `TypeError`
 * (`ERR_TLOB_INVALID_BUDGET`) for anything else.
 */
export function parseDuration(value: Duration): number {
  return toDurationNs(value, 'value', 'parseDuration');
}

/**
 * A budget in nanoseconds, parsed as `parseDuration` does and checked against the kernel's range,
 * 1 µs to 3600 s inclusive (a `RangeError`, `ERR_TLOB_BUDGET_RANGE`, outside it).
 */
export function parseBudget(value: Duration): number {
  return toBudgetNs(value, 'parseBudget');
}

/**
 * Formats nanoseconds for humans, three significant digits: `850ns`, `12.3us`, `45.7ms`, `1.50s`.
 * Self-contained: the watchdog thread runs it from its source text.
 */
export function formatNs(ns: number): string {
  const trim = (n: number) => (n >= 99.95 ? n.toFixed(0) : n >= 9.995 ? n.toFixed(1) : n.toFixed(2));
  // each unit up to what its three digits round to: 999.6 ns is "1.00us", not "1000ns"
  if (ns < 999.5) return `${Math.round(ns)}ns`;
  if (ns < 999.5e3) return `${trim(ns / 1e3)}us`;
  if (ns < 999.5e6) return `${trim(ns / 1e6)}ms`;
  return `${trim(ns / 1e9)}s`;
}

function invalid(value: unknown, what: string, caller: string): TlobTypeError {
  return new TlobTypeError(
    'ERR_TLOB_INVALID_BUDGET',
    `${caller}: expected \`${what}\` like "50ms" (a number of milliseconds or a string with ns, us, ms or s), got ${describeValue(value)}`,
  );
}
