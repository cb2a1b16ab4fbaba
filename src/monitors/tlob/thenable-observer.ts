/** Receives a thenable's outcome, as its `then` reports it to the first caller of `then`. */
import { nowMs } from '../../real-timers.js';
export interface ThenableObserver {
  outcome(rejected: boolean, value: unknown, at: number): void;
}

/**
 * Observes a thenable that is not a native promise without calling its `then` ourselves (some
 * thenables start their work in `then`, or count its calls): an own `then` property is laid over
 * the object until its first caller calls it; that call restores the object as it was and runs the
 * original `then` with the caller's callbacks wrapped to report the outcome. Returns false when the
 * object cannot be shadowed (not extensible, or a non-configurable own `then`); the caller then
 * treats the thenable as a plain return value.
 */
export function observeThenable(thenable: object, then: Function, observer: ThenableObserver): boolean {
  const own = Reflect.getOwnPropertyDescriptor(thenable, 'then');
  if (own !== undefined ? own.configurable !== true : !Object.isExtensible(thenable)) return false;
  let reported = false;
  const report = (rejected: boolean, value: unknown) => {
    if (reported) return;
    reported = true;
    observer.outcome(rejected, value, nowMs());
  };
  const shadow = function (
    this: unknown,
    onFulfilled?: unknown,
    onRejected?: unknown,
    ...rest: unknown[]
  ): unknown {
    if (own === undefined) Reflect.deleteProperty(thenable, 'then');
    else Reflect.defineProperty(thenable, 'then', own);
    const fulfilled = function (this: unknown, ...values: unknown[]): unknown {
      report(false, values[0]);
      if (typeof onFulfilled === 'function') return Reflect.apply(onFulfilled, this, values);
      return values[0];
    };
    const rejected = function (this: unknown, ...errors: unknown[]): unknown {
      report(true, errors[0]);
      if (typeof onRejected === 'function') return Reflect.apply(onRejected, this, errors);
      throw errors[0];
    };
    try {
      return Reflect.apply(then, this, [fulfilled, rejected, ...rest]);
    } catch (error) {
      // caught: the outcome reported is this error (the thenable's own `then` threw)
      report(true, error);
      throw error;
    }
  };
  Object.defineProperty(shadow, 'name', { value: then.name });
  Object.defineProperty(shadow, 'length', { value: then.length });
  return Reflect.defineProperty(thenable, 'then', {
    value: shadow,
    writable: true,
    enumerable: own?.enumerable ?? false,
    configurable: true,
  });
}
