import { callOrConstruct } from '../call-or-construct.js';
import { holdSettleHook, releaseSettleHook, returnedPending } from '../context/settle-watch.js';
import {
  enterWindow,
  openWindow,
  runInWindow,
  waitFor,
  windowYielded,
} from '../monitors/tlob/run-in-window.js';
import type { Site } from '../monitors/tlob/site.js';
import { tlobMonitor } from '../monitors/tlob/tlob-monitor.js';
import type { Window } from '../monitors/tlob/window.js';
import { reportInternalError } from '../report/errors.js';
import { wrapCallback } from './callback-wrapper.js';
import { observeThenable, type ThenableObserver } from './thenable-observer.js';

/*
 * The call paths of a probed function (`tlob.attach`, `@budget`) besides `runInWindow` (which
 * handles synchronous returns and native promises): callback-style calls, and functions that
 * return thenables.
 */

/**
 * Runs one call of a probed function in a window of `site`: through `runInWindow`, or, once the
 * site has returned a thenable that is not a native promise, through `runThenableAware`, so that
 * `tlob.attach` and `@budget` keep a window open for exactly the same time.
 */
export function runProbedCall(
  site: Site,
  original: Function,
  thisArg: unknown,
  args: ArrayLike<unknown>,
  newTarget: Function | undefined,
): unknown {
  if (site.returnsThenables) return runThenableAware(site, original, thisArg, args, newTarget);
  const result = runInWindow(site, original, thisArg, args, newTarget);
  // a thenable that is not a promise closed this call's window at the return; learn from it
  if (result !== null && typeof result === 'object' && !(result instanceof Promise) && hasThen(result)) {
    site.returnsThenables = true;
  }
  return result;
}

/** Opens a window and calls `fn` in it; a synchronous throw closes the window and is rethrown. */
function callInNewWindow(
  site: Site,
  fn: Function,
  thisArg: unknown,
  args: ArrayLike<unknown>,
  newTarget: Function | undefined,
  beforeFinish?: () => void,
): { window: Window; result: unknown } {
  const window = openWindow(site);
  try {
    return { window, result: enterWindow(window, fn, thisArg, args, newTarget) };
  } catch (error) {
    beforeFinish?.();
    window.end();
    throw error;
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

/** Closes a window when the thenable its call returned reports an outcome. */
class ThenableEnd implements ThenableObserver {
  constructor(readonly window: Window) {}
  outcome(): void {
    this.window.end();
  }
}

/**
 * The path of a probe whose function returns thenables that are not native promises (query
 * builders that run on `then`): the window stays open until the thenable reports an outcome to
 * its first `then` caller (observed as by `attach`, without an extra `then` call). Promises and
 * plain values end the window as in `runInWindow`.
 */
export function runThenableAware(
  site: Site,
  original: Function,
  thisArg: unknown,
  args: ArrayLike<unknown>,
  newTarget: Function | undefined,
): unknown {
  if (!tlobMonitor.enabled) return callOrConstruct(original, thisArg, args, newTarget);
  holdSettleHook();
  const { window, result } = callInNewWindow(site, original, thisArg, args, newTarget, releaseSettleHook);
  try {
    if (result instanceof Promise) {
      if (returnedPending(result, original)) waitFor(window, result);
      else window.end();
      return result;
    }
    if (result !== null && typeof result === 'object' && newTarget === undefined && hasThen(result)) {
      try {
        const then = (result as { then: Function }).then;
        if (observeThenable(result, then, new ThenableEnd(window))) {
          windowYielded(window);
          return result;
        }
      } catch (error) {
        // an exotic thenable (a Proxy whose traps throw): the call went fine, so it returns
        reportInternalError('observing a returned thenable', error);
      }
    }
    window.end();
    return result;
  } finally {
    releaseSettleHook();
  }
}

/**
 * A callback-style call (`{ callback: true }`): the window closes when the callback (the last
 * argument) is first called, or at a synchronous throw. The callee gets a wrapper of the callback
 * that calls the original with the same `this` and arguments, every time.
 */
export function runWithCallback(
  site: Site,
  original: Function,
  thisArg: unknown,
  args: ArrayLike<unknown>,
  newTarget: Function | undefined,
): unknown {
  if (!tlobMonitor.enabled) return callOrConstruct(original, thisArg, args, newTarget);
  const callArgs = Array.prototype.slice.call(args) as unknown[];
  const callback = callArgs[callArgs.length - 1] as Function;
  const state = { window: undefined as Window | undefined, called: false };
  callArgs[callArgs.length - 1] = wrapCallback(callback, () => {
    if (!state.called) {
      state.called = true;
      state.window?.end();
    }
  });
  const { window, result } = callInNewWindow(site, original, thisArg, callArgs, newTarget);
  state.window = window;
  if (state.called) window.end();
  else windowYielded(window);
  return result;
}
