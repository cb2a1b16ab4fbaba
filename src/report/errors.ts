import { emitTlobWarning } from './tlob-warning.js';

/** Stable error codes thrown by tlob at attach/start time. */
export type TlobErrorCode =
  | 'ERR_TLOB_INVALID_ARG'
  | 'ERR_TLOB_INVALID_BUDGET'
  | 'ERR_TLOB_BUDGET_RANGE'
  | 'ERR_TLOB_INVALID_REACTOR'
  | 'ERR_TLOB_INVALID_MODEL'
  | 'ERR_TLOB_BUDGET_EXCEEDED'
  | 'ERR_TLOB_NOT_A_FUNCTION'
  | 'ERR_TLOB_NOT_PATCHABLE'
  | 'ERR_TLOB_ALREADY_ATTACHED'
  | 'ERR_TLOB_INVALID_SPEC'
  | 'ERR_TLOB_NOT_FOUND'
  | 'ERR_TLOB_CONFIG'
  | 'ERR_TLOB_MISSING_PEER'
  | 'ERR_TLOB_DISABLED'
  | 'ERR_TLOB_UNSUPPORTED_NODE';

/**
 * The brand of tlob's error classes, the same in every copy of the package in a process (an ESM
 * app with a CommonJS dependency, two versions): each error's prototype lists the classes it is
 * an instance of, and `instanceof` accepts an error branded by another copy (as undici does).
 */
const ERROR_BRAND = Symbol.for('tlob.error');

/**
 * Brands `cls` as `name`, an error class whose instances are also instances of `parents`, and
 * gives it the `instanceof` that accepts the brand (inherited by subclasses, which are checked
 * the ordinary way unless branded too).
 */
export function brandErrorClass(cls: Function, name: string, parents: readonly string[] = []): void {
  Object.defineProperty(cls, 'brand', { value: name });
  Object.defineProperty(cls.prototype, ERROR_BRAND, { value: Object.freeze([name, ...parents]) });
  Object.defineProperty(cls, Symbol.hasInstance, { value: brandedHasInstance });
}

function brandedHasInstance(this: Function, value: unknown): boolean {
  return isBranded(this, value);
}

/**
 * `instanceof` for the branded classes: the ordinary check, or the brand of another copy. A user's
 * subclass (which has no brand of its own) gets the ordinary check only.
 */
function isBranded(cls: Function, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true;
  if (!Object.hasOwn(cls, 'brand') || value === null || typeof value !== 'object') return false;
  const names = (value as { [ERROR_BRAND]?: unknown })[ERROR_BRAND];
  return Array.isArray(names) && names.includes((cls as unknown as { brand: string }).brand);
}

/** A `TypeError` with a stable `code`, for arguments of the wrong type or shape. */
export class TlobTypeError extends TypeError {
  readonly code: TlobErrorCode;
  constructor(code: TlobErrorCode, message: string) {
    super(message);
    this.name = 'TypeError';
    this.code = code;
  }
}
brandErrorClass(TlobTypeError, 'TlobTypeError');

/** A `RangeError` with a stable `code`, for values outside their allowed range. */
export class TlobRangeError extends RangeError {
  readonly code: TlobErrorCode;
  constructor(code: TlobErrorCode, message: string) {
    super(message);
    this.name = 'RangeError';
    this.code = code;
  }
}
brandErrorClass(TlobRangeError, 'TlobRangeError');

/** A plain `Error` with a stable `code`, for everything that is neither a type nor a range problem. */
export class TlobError extends Error {
  readonly code: TlobErrorCode;
  constructor(code: TlobErrorCode, message: string) {
    super(message);
    this.name = 'Error';
    this.code = code;
  }
}
brandErrorClass(TlobError, 'TlobError');

/** The first own key of `options` that is not one of `known` (a misspelt option), if any. */
export function unknownOption(options: object, known: readonly string[]): string | undefined {
  return Object.keys(options).find((key) => !known.includes(key));
}

/**
 * Throws `ERR_TLOB_INVALID_ARG` when `options` has a key that is not one of `known` (a misspelt
 * option), naming the known option it is nearest to.
 */
export function refuseUnknownOptions(options: object, known: readonly string[], caller: string): void {
  const unknown = unknownOption(options, known);
  if (unknown === undefined) return;
  const nearest = nearestName(unknown, known);
  throw new TlobTypeError(
    'ERR_TLOB_INVALID_ARG',
    `${caller}: unknown option \`${unknown}\`${nearest === undefined ? '' : ` (did you mean \`${nearest}\`?)`}; ` +
      `expected ${known.map((k) => `\`${k}\``).join(', ')}`,
  );
}

/** A message of `util.parseArgs` ("Unknown option '--x'") as tlob words its own: lower-case first. */
export function parseArgsMessage(message: string): string {
  return message.replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());
}

/**
 * The candidate closest to `name` by edit distance (a letter added, dropped or changed, or two
 * swapped), when it is at most `most` edits away: close enough to be a likely typo.
 */
export function nearestName(
  name: string,
  candidates: readonly string[],
  most = Math.max(2, Math.floor(name.length / 3)),
): string | undefined {
  let best: string | undefined;
  let bestDistance = most + 1;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edits from `a` to `b`: letters added, dropped, changed, and two neighbours swapped (one edit). */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (beforePrevious[j - 2] as number) + 1);
      current[j] = d;
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/** Describes a value for an error message: `"fast" (string)`, `42 (number)`, `null`, `an object`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return `${JSON.stringify(value)} (string)`;
    case 'function':
      return `function ${value.name || '(anonymous)'}`;
    case 'object':
      return Array.isArray(value) ? 'an array' : `an object`;
    case 'symbol':
      return `${String(value)} (symbol)`;
    default:
      return `${String(value)} (${typeof value})`;
  }
}

let reporting = false;

/**
 * Reports a failure of our own code, or of a user hook, reactor or subscriber, that happened on an
 * observed call path. It never throws: the host call must go on unchanged. The error reaches
 * the `tlob:warning` channel, and `process.emitWarning` (type `TlobWarning`) unless the warnings'
 * rate limit suppresses it.
 */
export function reportInternalError(where: string, error: unknown): void {
  if (reporting) return; // a warning listener that throws must not recurse into us
  reporting = true;
  try {
    const message = `tlob: ${where} threw: ${error instanceof Error ? error.message : String(error)}`;
    emitTlobWarning(message, 'TLOB_HOOK_ERROR', errorDetail(error), { where, error });
  } catch {
    // emitWarning itself failed (a broken process.emitWarning override); nothing safer is left to try
  } finally {
    reporting = false;
  }
}

function errorDetail(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
