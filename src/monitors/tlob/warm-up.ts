import { runOutside } from '../../context/outside.js';
import { releaseUnheldHooksNow } from '../../context/scheduler-hooks.js';
import { releaseUnheldSettleHookNow } from '../../context/settle-watch.js';
import { deadlines } from '../../engine/deadline-queue.js';
import { setImmediate } from '../../real-timers.js';
import { channels } from '../../report/channels.js';
import { reportInternalError } from '../../report/errors.js';
import { statsByName } from '../../report/stats.js';
import { PATH_ASYNC, PATH_SYNC } from './call-path.js';
import { CallSite, issuingNoIds } from './call-site.js';
import { tlobMonitor } from './tlob-monitor.js';
import { watchdogHooks } from './watchdog-hooks.js';
import { openWindows } from './window.js';

/** The name of the windows of the warm-up; its statistics are removed again. */
const WARM_UP_NAME = 'tlob:warm-up';

const NO_ARGS: readonly unknown[] = [];

/**
 * Runs tlob's call path once on each of its main paths, in windows that report nowhere, so that
 * the first window of the process measures its call and not tlob's own first run. V8 compiles a
 * function when it is first called and its inline caches learn on the first calls: without this,
 * the first window of a process took 1–3 ms more than the next ones (~0.9 ms of it running), so a
 * 1 ms budget broke once per process on tlob's own set-up.
 *
 * Called once where the process's API is composed, at load. Everything here is synchronous, so no
 * other code runs meanwhile: a synchronous call on the fast path, a call returning a promise that
 * is still pending when it returns (its deadline queued, the scheduler and settle hooks taken and
 * let go when it settles) and an `async function` that settles during the call. What the windows
 * would leave behind is taken back: their ids, their statistics, the budget timer, the hooks they
 * turned on (at once, not in the loop's next turn as after a window). What needs the event loop
 * runs in its first check phase (`warmUpContinuations`). Nothing happens
 * when a window could see it: the monitor off, a window open, a subscriber to a `tlob:` channel, a
 * watchdog watching the thread (it would start its thread for these windows).
 */
export function warmUpCallPath(): void {
  if (!nothingCouldSee()) return;
  try {
    issuingNoIds(runEachPath);
  } catch (error) {
    reportInternalError('warming up the call path', error);
  } finally {
    forgetStats();
    deadlines.reschedule(); // the queue is empty again: no timer stays armed for these windows
    // and no hook stays on until the loop's next turn: the program's first awaits would pay for it
    releaseUnheldHooksNow();
    releaseUnheldSettleHookNow();
  }
  // unref'd: a program with nothing else to do exits without it
  runOutside(setImmediate, warmUpContinuations).unref();
}

/**
 * The rest of the warm-up, which needs the event loop: a window whose call resumes after awaits
 * (its continuations switched onto the thread by the scheduler hooks, its promise settled in a
 * later microtask). Without it the first such window of a process took 0.2–0.5 ms more than the
 * next ones; with it 0.0–0.15 ms. It runs in the loop's first check phase if nothing could see it
 * then (as at load): an immediate's callback and the microtasks it queues run with nothing else
 * in between, so no window of the program can open meanwhile. Its statistics are removed as it
 * closes; the hooks it held are let go as after any window.
 */
function warmUpContinuations(): void {
  if (!nothingCouldSee()) return;
  try {
    issuingNoIds(() => {
      const site = new CallSite(WARM_UP_NAME, 60e9, undefined, '60s');
      // two at once: each one's continuations also follow the other's (one window alone left
      // 0.2 ms on Node 22)
      site.invoke(resumeTwice, undefined, NO_ARGS, undefined, forgetStats);
      site.invoke(resumeTwice, undefined, NO_ARGS, undefined, forgetStats);
    });
  } catch (error) {
    reportInternalError('warming up the call path', error);
    forgetStats();
  }
}

async function resumeTwice(): Promise<void> {
  await null;
  await null;
}

function forgetStats(): void {
  statsByName.delete(WARM_UP_NAME);
}

/**
 * Whether a window opened now would be seen by no one: the monitor on, no window open, no
 * subscriber to a `tlob:` channel, no watchdog watching the thread (it would start its thread for
 * these windows), and no warm-up's statistics left.
 */
function nothingCouldSee(): boolean {
  return (
    tlobMonitor.enabled &&
    openWindows.count === 0 &&
    !channels.start.hasSubscribers &&
    !channels.stop.hasSubscribers &&
    !channels.event.hasSubscribers &&
    !channels.error.hasSubscribers &&
    watchdogHooks.sync === undefined &&
    deadlines.watcher === undefined &&
    !statsByName.has(WARM_UP_NAME)
  );
}

function runEachPath(): void {
  const site = new CallSite(WARM_UP_NAME, 60e9, undefined, '60s');
  site.path = PATH_SYNC;
  for (let i = 0; i < 2; i++) site.invoke(returnNothing, undefined, NO_ARGS, undefined);
  site.path = PATH_ASYNC;
  let settle = returnNothing as () => void;
  const pending = new Promise<void>((resolve) => {
    settle = resolve;
  });
  site.invoke(() => pending, undefined, NO_ARGS, undefined);
  settle(); // the window closes in the settle hook, now
  site.invoke(settleDuringCall, undefined, NO_ARGS, undefined);
}

function returnNothing(): void {}

async function settleDuringCall(): Promise<void> {}
