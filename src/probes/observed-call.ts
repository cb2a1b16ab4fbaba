import { type CallEndHandler, CallPath, PATH_THENABLE } from '../monitors/tlob/call-path.js';
import { isCompletionCallback, wrapCallback } from '../monitors/tlob/completion-callback.js';
import { FOLLOW_FULFILLED, FOLLOW_REJECTED } from '../monitors/tlob/thenable-observer.js';
import { nowMs } from '../real-timers.js';
import { reportInternalError } from '../report/errors.js';
import type { CallRunner } from './function-wrapper.js';
import {
  enterObservedCall,
  leaveObservedCall,
  observeSettlement,
  type SettlementObserver,
} from './promise-settlement.js';

/**
 * How an observed call ended: a synchronous return or throw, a returned promise or thenable that
 * fulfilled or rejected, or (with `{ callback: true }`) its callback was called.
 */
export type CallEnd = 'return' | 'throw' | 'fulfilled' | 'rejected' | 'callback';

/** One call of a probed function, as the `entry` and `ret` handlers see it. */
export interface ProbeCall<Probe = unknown> {
  /** The probe that observed the call. */
  readonly probe: Probe;
  /** `this` of the call (for `new`, undefined: the instance does not exist yet). */
  readonly thisArg: unknown;
  /** The arguments, as passed by the caller. */
  readonly args: readonly unknown[];
  /** `new.target` when the function was called with `new`, else undefined. */
  readonly newTarget: Function | undefined;
  /** Per-call scratch space shared by `entry` and `ret` (the kernel's `__u64 *data`). */
  readonly data: Record<PropertyKey, unknown>;
  /** How the call ended; undefined in `entry`. */
  readonly end: CallEnd | undefined;
  /** The return value, fulfilled value, or the callback's arguments (an array) for `'callback'`. */
  readonly result: unknown;
  /** The thrown error or rejection reason; for `'callback'`, the callback's first argument. */
  readonly error: unknown;
  /**
   * When the call ended (`performance.now()`): the moment the promise or thenable settled (`ret`
   * runs a little later for those, see docs/probes.md), else the time of the first read of
   * `endedAt` in `ret` (which runs right at the return, throw or callback): no clock is read for a
   * call whose `ret` does not ask.
   */
  readonly endedAt: number;
}

/** A call as `ret` sees it: ended. */
export interface EndedProbeCall<Probe = unknown> extends ProbeCall<Probe> {
  /** How the call ended. */
  readonly end: CallEnd;
}

/** The handlers of a probe, as `ObservedCall` needs them. */
export interface CallHandlers {
  readonly label: string;
  readonly entry: ((call: ProbeCall<any>) => void) | undefined;
  readonly ret: ((call: ProbeCall<any>) => void) | undefined;
  readonly callback: boolean;
}

/**
 * The record of one observed call; also what the classifier hands its end to, and the observer of
 * its promise, thenable or callback. A promise's value is read after Node's unhandled-rejection
 * pass (`observeSettlement`), so that observing it changes nothing the process does.
 */
export class ObservedCall implements ProbeCall, CallEndHandler {
  end: CallEnd | undefined = undefined;
  result: unknown = undefined;
  error: unknown = undefined;
  private endedAtMs = -1;
  private dataObject: Record<PropertyKey, unknown> | undefined = undefined;

  constructor(
    readonly probe: unknown,
    readonly handlers: CallHandlers,
    readonly thisArg: unknown,
    readonly args: unknown[],
    readonly newTarget: Function | undefined,
  ) {}

  get data(): Record<PropertyKey, unknown> {
    if (this.dataObject === undefined) this.dataObject = {};
    return this.dataObject;
  }

  get endedAt(): number {
    if (this.endedAtMs < 0 && this.end !== undefined) this.endedAtMs = nowMs();
    return this.endedAtMs;
  }

  returned(value: unknown): void {
    this.finish('return', value, undefined);
  }

  promised(promise: Promise<unknown>, pending: boolean): void {
    observeSettlement(promise, this, pending);
  }

  awaitsThenable(): void {}

  followPromise(promise: Promise<unknown>, counts: number): void {
    observeSettlement(promise, new FollowedPromise(this, counts), true);
  }

  outcome(rejected: boolean, value: unknown, at: number): void {
    if (rejected) this.finish('rejected', undefined, value, at);
    else this.finish('fulfilled', value, undefined, at);
  }

  finish(end: CallEnd, result: unknown, error: unknown, at = -1): void {
    if (this.end !== undefined) return;
    this.end = end;
    this.endedAtMs = at;
    this.result = result;
    this.error = error;
    const ret = this.handlers.ret;
    if (ret === undefined) return;
    try {
      ret(this);
    } catch (thrown) {
      reportInternalError(`probe ${this.handlers.label} ret handler`, thrown);
    }
  }
}

/**
 * The promise a thenable's `then` returned to a caller that passed no callback for an outcome: it
 * settles with that outcome. Read (after Node's unhandled-rejection pass) only if the call has not
 * ended by then through the callback that was passed, so that no reaction marks it handled for
 * nothing. A settlement of the kind the caller passed a callback for is not the thenable's outcome
 * (that callback would have run first): it is let pass.
 */
class FollowedPromise implements SettlementObserver {
  constructor(
    private readonly call: ObservedCall,
    /** The kinds of outcome that stand for the thenable's (`FOLLOW_FULFILLED`, `FOLLOW_REJECTED`). */
    private readonly counts: number,
  ) {}

  get wanted(): boolean {
    return this.call.end === undefined;
  }

  outcome(rejected: boolean, value: unknown, at: number): void {
    if ((this.counts & (rejected ? FOLLOW_REJECTED : FOLLOW_FULFILLED)) !== 0)
      this.call.outcome(rejected, value, at);
  }
}

/**
 * Runs the calls of a probe with `entry`/`ret` handlers. Whatever the handlers do, the caller gets
 * exactly what `original` returns or throws.
 */
export class ObservedCallRunner implements CallRunner {
  /** The classifier of how each call ended, which observes every thenable from the first one on. */
  private readonly path = new CallPath(PATH_THENABLE);

  constructor(
    readonly probe: unknown,
    readonly handlers: CallHandlers,
  ) {}

  invoke(
    original: Function,
    thisArg: unknown,
    argsLike: ArrayLike<unknown>,
    newTarget: Function | undefined,
  ): unknown {
    const handlers = this.handlers;
    const args = Array.prototype.slice.call(argsLike) as unknown[];
    const call = new ObservedCall(
      this.probe,
      handlers,
      newTarget === undefined ? thisArg : undefined,
      args,
      newTarget,
    );
    if (handlers.entry !== undefined) {
      try {
        handlers.entry(call);
      } catch (thrown) {
        reportInternalError(`probe ${handlers.label} entry handler`, thrown);
      }
    }
    let callArgs: unknown[] = args;
    let byCallback = false;
    if (handlers.callback && args.length > 0 && isCompletionCallback(args[args.length - 1])) {
      callArgs = args.slice();
      callArgs[callArgs.length - 1] = wrapCallback(args[args.length - 1] as Function, (callbackArgs) =>
        call.finish('callback', callbackArgs, callbackArgs[0] ?? undefined),
      );
      byCallback = true;
    }
    // the settle hook is held during the call, to recognise a promise that settles before it returns
    const watch = !byCallback && handlers.ret !== undefined;
    if (watch) enterObservedCall();
    let result: unknown;
    try {
      result =
        newTarget === undefined
          ? Reflect.apply(original, thisArg, callArgs)
          : Reflect.construct(original, callArgs, newTarget);
    } catch (error) {
      // caught, not let through a `finally`: the record of the call (`call.error`, which `ret`
      // reads) needs the error. Thrown again, it makes Node's report of an uncaught error point here.
      if (watch) leaveObservedCall();
      call.finish('throw', undefined, error);
      throw error;
    }
    if (watch) {
      try {
        this.path.ended(call, original, result, newTarget);
      } catch (error) {
        // an exotic result (a Proxy whose traps throw): the call itself went fine, so it returns
        reportInternalError('observing a returned value', error);
        call.finish('return', result, undefined);
      } finally {
        leaveObservedCall();
      }
    }
    return result;
  }
}
