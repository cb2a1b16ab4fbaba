import { describeValue, nearestName, TlobError, TlobTypeError } from '../report/errors.js';

/** A function slot found by walking a dotted path: the object that holds it and the property key. */
export interface Slot {
  /** The object reached by every segment but the last: the probe sets its property `key`. */
  readonly holder: object;
  /** The property key on `holder`. */
  readonly key: string;
  /** The property's descriptor, where it is defined (on `holder` or up its prototype chain). */
  readonly descriptor: PropertyDescriptor;
  /** True when `key` is inherited: the probe then shadows it with an own property of `holder`. */
  readonly inherited: boolean;
}

const SEGMENT_RE = /^[^.\s]+$/;

/** Splits `'Client.prototype.query'` into its segments; throws for an empty or malformed path. */
export function splitPath(path: unknown, caller: string): string[] {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`path\` like "query" or "Client.prototype.query", got ${describeValue(path)}`,
    );
  }
  const segments = path.split('.');
  for (const segment of segments) {
    if (!SEGMENT_RE.test(segment)) {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `${caller}: expected \`path\` like "query" or "Client.prototype.query", got ${describeValue(path)}`,
      );
    }
  }
  return segments;
}

/**
 * Walks `path` from `target` to the function it names and returns its slot: the object reached by
 * all segments but the last, and the last segment as key (as shimmer does, an inherited method is
 * shadowed on that object, so `attach(client, 'query')` affects `client` only and
 * `'Client.prototype.query'` affects every client). Throws `ERR_TLOB_NOT_FOUND` naming the path and the nearest existing name, or
 * `ERR_TLOB_NOT_A_FUNCTION` when the path ends on something that is not a function.
 */
export function resolveSlot(target: object, path: string, caller: string, label = 'target'): Slot {
  const segments = splitPath(path, caller);
  let holder: unknown = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    const next = readProperty(holder, segment);
    if (next === undefined || next === null || (typeof next !== 'object' && typeof next !== 'function')) {
      throw notFound(holder, segments, i, label, caller, next);
    }
    holder = next;
  }
  const last = segments[segments.length - 1] as string;
  const owner = findOwner(holder as object, last);
  if (owner === undefined) throw notFound(holder, segments, segments.length - 1, label, caller, undefined);
  const descriptor = Reflect.getOwnPropertyDescriptor(owner, last) as PropertyDescriptor;
  if ('value' in descriptor && typeof descriptor.value !== 'function') {
    throw new TlobTypeError(
      'ERR_TLOB_NOT_A_FUNCTION',
      `${caller}: expected \`${label}.${path}\` to be a function, got ${describeValue(descriptor.value)}`,
    );
  }
  return { holder: holder as object, key: last, descriptor, inherited: owner !== holder };
}

function readProperty(holder: unknown, key: string): unknown {
  try {
    return (holder as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function findOwner(start: object, key: string): object | undefined {
  let object: object | null = start;
  while (object !== null) {
    if (Object.hasOwn(object, key)) return object;
    object = Reflect.getPrototypeOf(object);
  }
  return undefined;
}

function notFound(
  holder: unknown,
  segments: string[],
  index: number,
  label: string,
  caller: string,
  found: unknown,
): TlobError {
  const walked = [label, ...segments.slice(0, index + 1)].join('.');
  const missing = segments[index] as string;
  const nearest =
    typeof holder === 'object' || typeof holder === 'function'
      ? nearestName(missing, propertyNames(holder as object))
      : undefined;
  const got = found === undefined ? 'nothing there' : describeValue(found);
  const hint = nearest === undefined ? '' : ` (did you mean "${nearest}"?)`;
  return new TlobError(
    'ERR_TLOB_NOT_FOUND',
    `${caller}: path "${segments.join('.')}" does not resolve: found ${got} at \`${walked}\`${hint}`,
  );
}

/** Every string key reachable on `object` (own and inherited, stopping before `Object.prototype`). */
function propertyNames(object: object): string[] {
  const names = new Set<string>();
  let current: object | null = object;
  while (current !== null && current !== Object.prototype && current !== Function.prototype) {
    for (const name of Object.getOwnPropertyNames(current)) names.add(name);
    current = Reflect.getPrototypeOf(current);
  }
  return [...names];
}
