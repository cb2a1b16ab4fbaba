import { channels } from './channels.js';

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
  | 'ERR_TLOB_CONFIG';

/** A `TypeError` with a stable `code`, for arguments of the wrong type or shape. */
export class TlobTypeError extends TypeError {
  readonly code: TlobErrorCode;
  constructor(code: TlobErrorCode, message: string) {
    super(message);
    this.name = 'TypeError';
    this.code = code;
  }
}

/** A `RangeError` with a stable `code`, for values outside their allowed range. */
export class TlobRangeError extends RangeError {
  readonly code: TlobErrorCode;
  constructor(code: TlobErrorCode, message: string) {
    super(message);
    this.name = 'RangeError';
    this.code = code;
  }
}

/** A plain `Error` with a stable `code`, for everything that is neither a type nor a range problem. */
export class TlobError extends Error {
  readonly code: TlobErrorCode;
  constructor(code: TlobErrorCode, message: string) {
    super(message);
    this.name = 'Error';
    this.code = code;
  }
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
 * `process.emitWarning` (type `TlobWarning`) and the `tlob:warning` channel.
 */
export function reportInternalError(where: string, error: unknown): void {
  if (reporting) return; // a warning listener that throws must not recurse into us
  reporting = true;
  try {
    if (channels.warning.hasSubscribers) channels.warning.publish({ where, error });
    const message = `tlob: ${where} threw: ${error instanceof Error ? error.message : String(error)}`;
    process.emitWarning(message, {
      type: 'TlobWarning',
      code: 'TLOB_HOOK_ERROR',
      detail: errorDetail(error),
    });
  } catch {
    // emitWarning itself failed (a broken process.emitWarning override); nothing safer is left to try
  } finally {
    reporting = false;
  }
}

function errorDetail(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
