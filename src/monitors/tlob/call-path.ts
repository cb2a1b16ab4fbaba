import { types } from 'node:util';
import { isAsyncFunction, isNativePromise, isPending, settledJustNow } from '../../context/settle-watch.js';
import { observeThenable, type ThenableObserver } from './thenable-observer.js';

/*
 * The paths a call site runs its calls on (`CallPath.path`), learned from the calls it has seen.
 */
/** The default: `AsyncLocalStorage` carries the window; every returned promise's state is read. */
export const PATH_ASYNC = 0;
/** The synchronous fast path: no `AsyncLocalStorage` (the calls returned synchronously). */
export const PATH_SYNC = 1;
/** As `PATH_ASYNC`, but a returned promise is assumed pending, and checked only at its deadline. */
export const PATH_PENDING = 2;
/**
 * As `PATH_ASYNC`, and a returned thenable that is not a native promise is observed until it
 * reports an outcome. Final: a site never leaves it; `attach` observes every call this way.
 */
export const PATH_THENABLE = 3;

/** Consecutive calls that confirm a path before a site takes it (`PATH_SYNC`, `PATH_PENDING`). */
export const FAST_PATH_AFTER = 16;

/**
 * What the classifier hands a call's end to: a window (which closes when the call has ended), or
 * `attach`'s record of an observed call (which also reads the value, after Node's
 * unhandled-rejection pass). Also told the outcome of an observed thenable.
 */
export interface CallEndHandler extends ThenableObserver {
  /** The call returned `value`, which is neither a native promise nor an observed thenable: it ended now. */
  returned(value: unknown): void;
  /**
   * The call returned a native promise (or a subclass, or one of another realm). `pending`: it had
   * not settled yet (else it had, during the call or before). `assumed`: pending without a look
   * at its state, which the window checks at its deadline.
   */
  promised(promise: Promise<unknown>, pending: boolean, assumed: boolean): void;
  /** The call returned a thenable that is now observed: `outcome` comes when it reports one. */
  awaitsThenable(): void;
}

/**
 * The one classifier of how a call ended, with what it learns from each call. A value ends the
 * call now. A native promise ends it when it settles, observed without marking it handled (now, if
 * it had settled already). A thenable that is not a native promise, once the path knows its
 * function returns them (`PATH_THENABLE`), ends it when it reports an outcome to its first `then`
 * caller; before that, it ends at the return, unless it is a promise of a global `Promise` that
 * replaced the native one. An object made by `new` is a value.
 */
export class CallPath {
  /**
   * How the next call runs. A call that cannot have continuations should not pay for binding the
   * window to its async context (~220 ns on Node 24 and 26): after `FAST_PATH_AFTER` consecutive
   * synchronous returns the site takes `PATH_SYNC` (never for an `async function`), and the first
   * promise takes it back. After as many pending promises from a function that is not an
   * `async function`, `PATH_PENDING` skips reading their state (`util.inspect`, ~0.7 µs); a window
   * that reaches its deadline checks it then, and a promise that had in fact settled takes the
   * site back. The first thenable that is not a native promise switches to `PATH_THENABLE`.
   * Native: made by the engine's own %Promise% (`isNativePromise`), whatever the global `Promise` is.
   */
  path: number;
  /**
   * Consecutive calls that argue for a faster path: n > 0, n synchronous returns; n < 0, -n
   * pending promises from a function that is not an `async function`.
   */
  streak = 0;

  constructor(path: number) {
    this.path = path;
  }

  /**
   * Hands how the call of `fn` ended to `end`. On `PATH_SYNC` the settle hook was not held
   * during the call, so a returned promise's state is read; on every other path the caller holds
   * it around the call (`holdSettleHook`), which recognises a promise that settled during it.
   */
  ended(end: CallEndHandler, fn: Function, result: unknown, newTarget: Function | undefined): void {
    const path = this.path;
    if (isNativePromise(result) && newTarget === undefined) {
      this.promised(end, fn, result, path);
    } else if (
      newTarget === undefined &&
      result !== null &&
      (typeof result === 'object' || typeof result === 'function') &&
      hasThen(result)
    ) {
      if (isForeignPromise(result)) this.promised(end, fn, result as Promise<unknown>, path);
      else if (path !== PATH_THENABLE) {
        this.path = PATH_THENABLE;
        this.streak = 0;
        // a promise of the program's own global `Promise` is waited for from the first one on;
        // any other thenable is learnt at the return: this call ends there, later ones wait
        if (isGlobalPromise(result)) this.observe(end, result);
        else end.returned(result);
      } else {
        this.observe(end, result);
      }
    } else {
      if (path === PATH_ASYNC || path === PATH_PENDING) {
        this.streak = Math.max(this.streak, 0) + 1;
        if (this.streak >= FAST_PATH_AFTER) this.path = PATH_SYNC;
      }
      end.returned(result);
    }
  }

  /** Waits for the outcome `thenable` reports to its first `then` caller. */
  private observe(end: CallEndHandler, thenable: object): void {
    if (observeThenable(thenable, (thenable as { then: Function }).then, end)) end.awaitsThenable();
    else end.returned(thenable); // frozen: it cannot be observed
  }

  private promised(end: CallEndHandler, fn: Function, promise: Promise<unknown>, path: number): void {
    if (path === PATH_SYNC && !isAsyncFunction(fn)) {
      // the fast path's call turned asynchronous
      this.path = PATH_ASYNC;
      this.streak = 0;
      end.promised(promise, isPending(promise), false);
    } else if (settledJustNow(promise)) {
      end.promised(promise, false, false);
    } else if (isAsyncFunction(fn)) {
      // an async function's promise is new: if it did not settle during the call, it is pending
      if (path !== PATH_THENABLE) this.streak = 0;
      end.promised(promise, true, false);
    } else if (path === PATH_PENDING) {
      end.promised(promise, true, true);
    } else if (isPending(promise)) {
      if (path === PATH_ASYNC) {
        this.streak = Math.min(this.streak, 0) - 1;
        if (this.streak <= -FAST_PATH_AFTER) this.path = PATH_PENDING;
      }
      end.promised(promise, true, false);
    } else {
      // an older promise that had settled (a cached one)
      if (path !== PATH_THENABLE) this.streak = 0;
      end.promised(promise, false, false);
    }
  }

  /** A promise this site's calls were assumed to leave pending had settled: back to reading each one's state. */
  distrustPending(): void {
    if (this.path === PATH_PENDING) this.path = PATH_ASYNC;
    this.streak = 0;
  }
}

/** Whether `value` has a callable `then` (a getter that throws counts as no). */
export function hasThen(value: object): boolean {
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/** A native promise of another realm (a `vm` context): not `instanceof Promise`, but one all the same. */
function isForeignPromise(value: unknown): boolean {
  return types.isPromise(value);
}

/**
 * A promise of the global `Promise` that replaced the native one (bluebird, a core-js polyfill,
 * zone.js): a thenable, but one the program itself calls a promise, so its outcome is waited for
 * from the first call on. False while the global is the native `Promise`.
 */
function isGlobalPromise(value: object): boolean {
  const Global = globalThis.Promise as unknown;
  try {
    return typeof Global === 'function' && value instanceof Global;
  } catch {
    return false; // a global without a usable `prototype` or `Symbol.hasInstance`
  }
}
