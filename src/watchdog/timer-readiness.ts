import { syncBuiltinESMExports } from 'node:module';
import { currentTask, liveTask } from '../context/current-task.js';
import { outside, runOutside } from '../context/outside.js';
import { timerDueNs } from '../context/timer-due.js';
import {
  clearImmediate as realClearImmediate,
  clearTimeout as realClearTimeout,
  setImmediate as realSetImmediate,
  setTimeout as realSetTimeout,
} from '../real-timers.js';

/** A task that can remember when the timers and immediates it sleeps on make it ready (the tlob window). */
interface TimerAwareTask {
  timersChanged(runNow: number, timer: object, dueNs: number): void;
}

/** The current window, if any: none inside tlob's own work (its budget timer, its immediates). */
function currentWindow(): TimerAwareTask | undefined {
  if (outside.depth > 0) return undefined;
  const task = liveTask(currentTask()) as (TimerAwareTask & object) | undefined;
  return task !== undefined && 'timersChanged' in task ? task : undefined;
}

/** Hands `timer`, ready at `dueNs`, to `window` (never fails the host's call). */
function keep(window: TimerAwareTask, timer: object, dueNs: number): void {
  try {
    window.timersChanged(Number.NEGATIVE_INFINITY, timer, dueNs);
  } catch {
    // never fail the host's call
  }
}

/**
 * Runs `action` once the `signal` of a `timers/promises` call's `options` aborts; false, and
 * nothing arranged, if it has aborted already.
 */
function onAbort(options: unknown, action: () => void): boolean {
  const signal = (options as { signal?: AbortSignal } | undefined)?.signal;
  if (signal?.aborted === true) return false;
  signal?.addEventListener('abort', action, { once: true });
  return true;
}

const originalTimeout = globalThis.setTimeout;
const originalInterval = globalThis.setInterval;
/** `node:timers/promises` as `require` has it: the object its ES module exports are synced from. */
const timersPromises = process.getBuiltinModule('node:timers/promises') as {
  setTimeout: (...args: unknown[]) => Promise<unknown>;
  setImmediate: (...args: unknown[]) => Promise<unknown>;
};
const originalSleep = timersPromises.setTimeout;
const originalImmediate = globalThis.setImmediate;
const originalYield = timersPromises.setImmediate;

/**
 * `setTimeout` (and `setInterval`) as the watchdog sees it: the same timer, and if a window is
 * current, the window keeps it until it runs or is cleared, and the earliest due time of those it
 * keeps (see `Window.timersChanged`). While the thread is blocked, no callback can tell the window
 * that such a timer came due; with this the watchdog counts a sleeping window as waiting from that
 * moment. Only the globals are seen (and `timers/promises`' `setTimeout`, below), and of an
 * interval its first run.
 */
function seen(original: typeof setTimeout): typeof setTimeout {
  function timerSeen(this: unknown, ...args: Parameters<typeof setTimeout>): NodeJS.Timeout {
    const timer = Reflect.apply(original, this, args) as NodeJS.Timeout;
    const window = currentWindow();
    if (window === undefined) return timer;
    const due = timerDueNs(timer);
    if (!Number.isNaN(due)) keep(window, timer, due);
    return timer;
  }
  Object.defineProperties(timerSeen, Object.getOwnPropertyDescriptors(original));
  return timerSeen as unknown as typeof setTimeout;
}

/** A timer of `timers/promises`, as a window keeps it: due as its shadow, done once aborted. */
interface SleepTimer {
  readonly _idleStart: unknown;
  readonly _idleTimeout: unknown;
  _destroyed: boolean;
}

const noop = () => {};

/**
 * `timers/promises`' `setTimeout` as the watchdog sees it: the same promise, and if a window is
 * current, the window keeps a record of its timer, which Node does not hand out: its due time is
 * that of a timer made and cleared at once with the same delay, right before the call makes its
 * own (the delay's coercion is the same, and the loop clock read then is never later, so the
 * record is never due after the call's timer, and the window forgets it when that timer's callback
 * runs; see `Window.switchIn`), and it is done once the call's `signal` aborts it.
 */
function sleepSeen(this: unknown, ...args: unknown[]): Promise<unknown> {
  const window = currentWindow();
  if (window === undefined) return Reflect.apply(originalSleep, this, args);
  let timer: SleepTimer | undefined;
  try {
    const shadow = realSetTimeout(noop, args[0] as number);
    const shadowed = shadow as unknown as SleepTimer;
    // read before clearing it, which sets its delay to -1
    timer = { _idleStart: shadowed._idleStart, _idleTimeout: shadowed._idleTimeout, _destroyed: false };
    realClearTimeout(shadow);
  } catch {
    // never fail the host's call
  }
  const promise = Reflect.apply(originalSleep, this, args);
  if (timer === undefined) return promise;
  try {
    const kept = timer;
    const due = timerDueNs(kept);
    if (
      !Number.isNaN(due) &&
      onAbort(args[2], () => {
        kept._destroyed = true;
      })
    )
      keep(window, kept, due);
  } catch {
    // never fail the host's call
  }
  return promise;
}
Object.defineProperties(sleepSeen, Object.getOwnPropertyDescriptors(originalSleep));

/**
 * `setImmediate` as the watchdog sees it: the same immediate, and if a window is current, the
 * window keeps it until it runs or is cleared: a window with an immediate queued is ready (its
 * continuation waits behind whatever holds the thread), not sleeping.
 */
function immediateSeen(this: unknown, ...args: unknown[]): NodeJS.Immediate {
  const immediate = Reflect.apply(originalImmediate, this, args) as NodeJS.Immediate;
  const window = currentWindow();
  if (window !== undefined) keep(window, immediate, Number.NEGATIVE_INFINITY);
  return immediate;
}
Object.defineProperties(immediateSeen, Object.getOwnPropertyDescriptors(originalImmediate));

/**
 * `timers/promises`' `setImmediate` as the watchdog sees it: the same promise, and if a window is
 * current, the window keeps an immediate of tlob's own, queued outside every window right before
 * the call queues its own (Node hands that one out to nobody): it runs right before it, in the same
 * check phase, so the window forgets it then; cleared when the call's `signal` aborts. Not ref'd:
 * it never keeps the process alive.
 */
function yieldSeen(this: unknown, ...args: unknown[]): Promise<unknown> {
  const window = currentWindow();
  if (window === undefined) return Reflect.apply(originalYield, this, args);
  let shadow: NodeJS.Immediate | undefined;
  try {
    shadow = runOutside(realSetImmediate, noop).unref();
  } catch {
    // never fail the host's call
  }
  const promise = Reflect.apply(originalYield, this, args);
  if (shadow === undefined) return promise;
  try {
    const kept = shadow;
    if (onAbort(args[1], () => realClearImmediate(kept))) keep(window, kept, Number.NEGATIVE_INFINITY);
    else realClearImmediate(kept);
  } catch {
    // never fail the host's call
  }
  return promise;
}
Object.defineProperties(yieldSeen, Object.getOwnPropertyDescriptors(originalYield));

const timeoutSeen = seen(originalTimeout);
const intervalSeen = seen(originalInterval as unknown as typeof setTimeout) as unknown as typeof setInterval;

/**
 * Installs (true) or removes (false) the watching timers; leaves a foreign replacement alone, and a
 * slot that cannot be written (a read-only global `setTimeout`, as a hardened program makes it).
 * Returns the names of the slots it had to install into and could not: timer readiness is off for
 * their timers. Never throws.
 */
export function trackTimers(on: boolean): string[] {
  const left: string[] = [];
  if (on) {
    if (!replace(globalThis, 'setTimeout', originalTimeout, timeoutSeen)) left.push('setTimeout');
    if (!replace(globalThis, 'setInterval', originalInterval, intervalSeen)) left.push('setInterval');
    if (!replace(timersPromises, 'setTimeout', originalSleep, sleepSeen))
      left.push("timers/promises' setTimeout");
    if (!replace(globalThis, 'setImmediate', originalImmediate, immediateSeen)) left.push('setImmediate');
    if (!replace(timersPromises, 'setImmediate', originalYield, yieldSeen))
      left.push("timers/promises' setImmediate");
  } else {
    replace(globalThis, 'setTimeout', timeoutSeen, originalTimeout);
    replace(globalThis, 'setInterval', intervalSeen, originalInterval);
    replace(timersPromises, 'setTimeout', sleepSeen, originalSleep);
    replace(globalThis, 'setImmediate', immediateSeen, originalImmediate);
    replace(timersPromises, 'setImmediate', yieldSeen, originalYield);
  }
  // the named imports of `node:timers/promises` in ES modules follow its exports object
  syncBuiltinESMExports();
  return left;
}

/**
 * Puts `to` in `holder[key]` if it holds `from`. False only when it held `from` and still does: the
 * slot is read-only, or a setter refused the value (or threw).
 */
function replace(holder: object, key: string, from: unknown, to: unknown): boolean {
  if (Reflect.get(holder, key) !== from) return true;
  try {
    Reflect.set(holder, key, to);
  } catch {
    // a setter that throws: the slot stays as it was
  }
  return Reflect.get(holder, key) !== from;
}
