import { isNativePromise, isPending } from '../../context/settle-watch.js';
import { nowMs } from '../../real-timers.js';

/** Receives a thenable's outcome, as its `then` reports it to the first caller of `then`. */
export interface ThenableObserver {
  outcome(rejected: boolean, value: unknown, at: number): void;
  /**
   * The first caller of `then` passed no callback for an outcome (`.then(onFulfilled)`), and `then`
   * returned `promise`, a native promise still pending: that outcome reaches it (it settles as the
   * thenable did), so the observer watches it without a reaction. `counts` tells which of its
   * outcomes stand for the thenable's (`FOLLOW_FULFILLED`, `FOLLOW_REJECTED`, or both): those the
   * caller passed no callback for; the other kind reaches the callback first, so such a settlement
   * of `promise` before it is not the thenable's. Not called once an outcome was reported; an
   * outcome may still come after it (the callback that was passed), and the first one counts.
   */
  followPromise(promise: Promise<unknown>, counts: number): void;
}

/** `followPromise`: the fulfilment of the promise followed stands for the thenable's outcome. */
export const FOLLOW_FULFILLED = 1;
/** `followPromise`: the rejection of the promise followed stands for the thenable's outcome. */
export const FOLLOW_REJECTED = 2;

/**
 * Observes a thenable that is not a native promise without calling its `then` ourselves (some
 * thenables start their work in `then`, or count its calls): an own `then` property is laid over
 * the object until its first caller calls it; that call restores the object as it was and runs the
 * original `then` with the caller's arguments, as many as the caller passed, each callback (a
 * function) wrapped to report the outcome. An outcome the caller passed no callback for is learnt
 * from the native promise `then` returns, if it returns one still pending (`followPromise`; a `then`
 * that keeps the Promises/A+ contract returns a promise that settles only after a callback of its
 * would have run, so one settled already is not the outcome's); otherwise it cannot be learnt
 * without passing `then` a callback its caller did not. Returns false when the object
 * cannot be shadowed (not extensible, or a non-configurable own `then`); the caller then treats
 * the thenable as a plain return value.
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
  const shadow = function (this: unknown, ...args: unknown[]): unknown {
    if (own === undefined) Reflect.deleteProperty(thenable, 'then');
    else Reflect.defineProperty(thenable, 'then', own);
    const [onFulfilled, onRejected] = args;
    if (typeof onFulfilled === 'function') {
      args[0] = function (this: unknown, ...values: unknown[]): unknown {
        report(false, values[0]);
        return Reflect.apply(onFulfilled, this, values);
      };
    }
    if (typeof onRejected === 'function') {
      args[1] = function (this: unknown, ...errors: unknown[]): unknown {
        report(true, errors[0]);
        return Reflect.apply(onRejected, this, errors);
      };
    }
    let result: unknown;
    try {
      result = Reflect.apply(then, this, args);
    } catch (error) {
      // caught: the outcome reported is this error (the thenable's own `then` threw)
      report(true, error);
      throw error;
    }
    const counts =
      (typeof onFulfilled === 'function' ? 0 : FOLLOW_FULFILLED) |
      (typeof onRejected === 'function' ? 0 : FOLLOW_REJECTED);
    if (counts !== 0 && !reported && isNativePromise(result) && isPending(result))
      observer.followPromise(result, counts);
    return result;
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
