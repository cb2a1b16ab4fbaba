import { types } from 'node:util';

/**
 * Whether a function given as the last argument of a `{ callback: true }` call is its completion
 * callback. A completion callback is a plain function or an arrow: an async function, a generator
 * function or a class is an iteratee, a task or a factory (`await async.each(items, async (x) =>
 * …)`), never the callback that reports a result, so the call is observed as a plain call (its
 * promise, if it returns one).
 */
export function isCompletionCallback(value: unknown): value is Function {
  if (typeof value !== 'function') return false;
  if (types.isAsyncFunction(value) || types.isGeneratorFunction(value)) return false;
  return !isClass(value);
}

/**
 * True for a `class` (its source starts with `class`); a plain constructor function is not one.
 * Only a function whose `prototype` is read-only (classes, some builtins) has its source read: an
 * arrow or a plain function costs one descriptor lookup.
 */
function isClass(fn: Function): boolean {
  const prototype = Reflect.getOwnPropertyDescriptor(fn, 'prototype');
  if (prototype === undefined || prototype.writable === true) return false;
  try {
    return /^class\b/.test(Function.prototype.toString.call(fn));
  } catch {
    return false; // a revoked proxy, say
  }
}

/**
 * Wraps a callback given to a probed callback-style function: `onCall(args)` runs first, then the
 * original with the same `this` and arguments, on every call. The wrapper looks like the callback
 * to the callee: the same [[Prototype]] (so `Symbol.toStringTag` too), own properties (`name`,
 * `length`, and what libraries hang on functions, like `async.memoize`'s `unmemoized`).
 */
export function wrapCallback(callback: Function, onCall: (args: unknown[]) => void): Function {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    onCall(args);
    return Reflect.apply(callback, this, args);
  };
  for (const key of Reflect.ownKeys(callback)) {
    if (key === 'prototype' || key === 'arguments' || key === 'caller') continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(callback, key);
    if (descriptor !== undefined) Reflect.defineProperty(wrapped, key, descriptor);
  }
  Reflect.setPrototypeOf(wrapped, Reflect.getPrototypeOf(callback));
  return wrapped;
}
