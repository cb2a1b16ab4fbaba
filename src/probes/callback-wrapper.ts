/**
 * Wraps a callback given to a probed callback-style function: `onCall(args)` runs first, then the
 * original with the same `this` and arguments, on every call. The wrapper has the callback's
 * `name` and `length`.
 */
export function wrapCallback(callback: Function, onCall: (args: unknown[]) => void): Function {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    onCall(args);
    return Reflect.apply(callback, this, args);
  };
  Object.defineProperty(wrapped, 'name', { value: callback.name });
  Object.defineProperty(wrapped, 'length', { value: callback.length });
  return wrapped;
}
