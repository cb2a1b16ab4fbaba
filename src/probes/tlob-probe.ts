import { currentTask } from '../context/current-task.js';
import { holdSettleHook, releaseSettleHook } from '../context/settle-watch.js';
import type { CallSite } from '../monitors/tlob/call-site.js';
import { createSite, type WindowOptions } from '../monitors/tlob/site.js';
import { tlobMonitor } from '../monitors/tlob/tlob-monitor.js';
import { Window } from '../monitors/tlob/window.js';
import { describeValue, reportInternalError, TlobTypeError } from '../report/errors.js';
import { type AttachTarget, ProbeBase } from './attach.js';

/**
 * Attached tlob probes. They follow `tlob.enable()`/`tlob.disable()`: a disabled monitor's probe
 * costs the wrapper's one field check (a getter reading the monitor measured 4x the hand-written
 * wrapper), or, after `disable({ unpatch: true })`, nothing: its originals are back in their
 * slots. `CallSite.invoke` checks the monitor again, so a monitor switched without `tlob.enable` is
 * still obeyed, only less cheaply.
 */
const liveTlobProbes = new Set<TlobProbe>();

/**
 * Switches every attached tlob probe on or off after the monitor was enabled or disabled; with
 * `unpatch`, off also takes the wrappers out of their slots (`resume` puts them back).
 */
export function followMonitorSwitch(enabled: boolean, unpatch = false): void {
  for (const probe of liveTlobProbes) {
    if (enabled) probe.resume();
    else if (unpatch) probe.suspend();
    else probe.active = false;
  }
}

/** The monitor key of every tlob probe: one tlob probe per function. */
export const TLOB_MONITOR = Symbol.for('tlob.monitor.tlob');

/**
 * A `tlob.attach` probe: every call of the function runs in its own window, in its own async
 * context, so nested and concurrent calls each get theirs. Its wrappers hand each call straight to
 * the probe's call site (`CallSite.invoke`): no frame of the probe sits between.
 */
export class TlobProbe extends ProbeBase<undefined> {
  readonly name: string;
  readonly budgetNs: number;
  readonly stopPath = undefined;

  constructor(
    target: AttachTarget | string,
    path: string,
    readonly site: CallSite,
    caller: string,
  ) {
    super(target, path, undefined, TLOB_MONITOR, caller);
    this.name = site.name;
    this.budgetNs = site.budgetNs;
  }

  override get runner(): CallSite {
    return this.site;
  }

  protected override get publicType(): string {
    return 'TlobProbe';
  }

  protected override shown(): object {
    const { name, budgetNs, target, path, stopPath, attached } = this;
    return { name, budgetNs, target, path, stopPath, attached };
  }

  protected override onInstalled(): void {
    liveTlobProbes.add(this);
    this.active = tlobMonitor.enabled;
  }

  protected override onDetached(): void {
    liveTlobProbes.delete(this);
  }
}

/** Windows opened by the start probe of each pair, so that its stop probe finds its own. */
const pairWindows = new WeakMap<Window, PairState>();

/** What the two probes of a start/stop pair share. */
export interface PairState {
  readonly site: CallSite;
}

/**
 * The start probe of a pair (the kernel's OFFSET_START): at the entry of the function it opens a
 * window in the caller's async context (as `tlob.start` does), and leaves it open.
 */
export class PairStartProbe extends ProbeBase<undefined> {
  constructor(
    target: AttachTarget | string,
    path: string,
    readonly pair: PairState,
    caller: string,
  ) {
    super(target, path, undefined, TLOB_MONITOR, caller);
  }

  override invoke(
    original: Function,
    thisArg: unknown,
    args: ArrayLike<unknown>,
    newTarget: Function | undefined,
  ): unknown {
    if (tlobMonitor.enabled) {
      try {
        pairWindows.set(this.pair.site.start(), this.pair);
      } catch (error) {
        reportInternalError(`probe ${this.path} (pair start)`, error);
      }
    }
    return newTarget === undefined
      ? Reflect.apply(original, thisArg, args)
      : Reflect.construct(original, args, newTarget);
  }
}

/**
 * The stop probe of a pair (OFFSET_STOP): when the function returns (or the promise it returned
 * settles), it stops the innermost open window of its pair in the current async context.
 */
export class PairStopProbe extends ProbeBase<undefined> {
  constructor(
    target: AttachTarget | string,
    path: string,
    readonly pair: PairState,
    caller: string,
  ) {
    super(target, path, undefined, Symbol.for('tlob.monitor.tlob-stop'), caller);
  }

  override invoke(
    original: Function,
    thisArg: unknown,
    args: ArrayLike<unknown>,
    newTarget: Function | undefined,
  ): unknown {
    const window = findPairWindow(this.pair);
    if (window === undefined) {
      return newTarget === undefined
        ? Reflect.apply(original, thisArg, args)
        : Reflect.construct(original, args, newTarget);
    }
    holdSettleHook(); // to recognise a promise that settles before the call returns
    let result: unknown;
    let returned = false;
    try {
      result =
        newTarget === undefined
          ? Reflect.apply(original, thisArg, args)
          : Reflect.construct(original, args, newTarget);
      returned = true;
    } finally {
      // a throw goes on to the caller uncaught, so that Node reports the line that threw it
      if (!returned) {
        releaseSettleHook();
        window.close();
      }
    }
    try {
      this.pair.site.ended(window, original, result, newTarget);
    } catch (error) {
      reportInternalError('observing a returned value', error);
      window.close();
    }
    releaseSettleHook();
    return result;
  }
}

function findPairWindow(pair: PairState): Window | undefined {
  let task = currentTask();
  while (task !== undefined) {
    if (task instanceof Window && !task.stopped && pairWindows.get(task) === pair) return task;
    task = task.parent;
  }
  return undefined;
}

/** Options of `tlob.attach`. */
export interface TlobAttachOptions extends WindowOptions {
  /**
   * A second path on the same target: the window opens at the entry of `path` and closes at the
   * return of `stopPath` in the same async context (the kernel's OFFSET_START / OFFSET_STOP).
   * @default undefined (each call of `path` is its own window)
   * @example tlob.attach(conn, 'begin', { budget: '50ms', stopPath: 'commit' })
   */
  stopPath?: string;
  /**
   * Treat a function passed as the last argument as the completion callback: the window closes
   * when it is first called (for callback APIs such as `fs.readFile(path, cb)`).
   * @default false
   */
  callback?: boolean;
  /**
   * Also attach the other names of the function on the object that holds it (`async.forEach`
   * for `async.each`), with the same wrapper, so that aliases stay identical (see `attach`).
   * @default true
   */
  aliases?: boolean;
}

/** Checks `tlob.attach` options and builds the call site, named `defaultName` unless `options.name` is given. */
export function tlobSite(options: unknown, defaultName: string, caller: string): CallSite {
  const stopPath = (options as TlobAttachOptions | null)?.stopPath;
  if (stopPath !== undefined && (typeof stopPath !== 'string' || stopPath.length === 0)) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`stopPath\` to be a non-empty string, got ${describeValue(stopPath)}`,
    );
  }
  for (const key of ['callback', 'aliases'] as const) {
    const value = (options as TlobAttachOptions | null)?.[key];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `${caller}: expected \`${key}\` to be a boolean, got ${describeValue(value)}`,
      );
    }
  }
  const callback = (options as TlobAttachOptions | null)?.callback === true;
  return createSite(options, caller, defaultName, callback, ATTACH_OPTIONS);
}

/** The options `tlob.attach` takes. */
const ATTACH_OPTIONS = ['budget', 'name', 'onStop', 'stopPath', 'callback', 'aliases'] as const;
