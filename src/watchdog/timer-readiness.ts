import { currentTask, liveTask } from '../context/current-task.js';
import { outside } from '../context/outside.js';
import { timerDueNs } from '../context/timer-due.js';

/** A task that can remember when the timers it sleeps on come due (the tlob window). */
interface TimerAwareTask {
  timersChanged(runNow: number, timer: NodeJS.Timeout, dueNs: number): void;
}

const originalTimeout = globalThis.setTimeout;
const originalInterval = globalThis.setInterval;

/**
 * `setTimeout` (and `setInterval`) as the watchdog sees it: the same timer, and if a window is
 * current, the window keeps it until it runs or is cleared, and the earliest due time of those it
 * keeps (see `Window.timersChanged`). While the thread is blocked, no callback can tell the window
 * that such a timer came due; with this the watchdog counts a sleeping window as waiting from that
 * moment. Only the globals are seen (not `timers/promises`), and of an interval its first run.
 */
function seen(original: typeof setTimeout): typeof setTimeout {
  function timerSeen(this: unknown, ...args: Parameters<typeof setTimeout>): NodeJS.Timeout {
    const timer = Reflect.apply(original, this, args) as NodeJS.Timeout;
    if (outside.depth > 0) return timer; // tlob's own budget timer
    try {
      const task = liveTask(currentTask()) as (TimerAwareTask & object) | undefined;
      if (task !== undefined && 'timersChanged' in task) {
        const due = timerDueNs(timer);
        if (!Number.isNaN(due)) task.timersChanged(Number.NEGATIVE_INFINITY, timer, due);
      }
    } catch {
      // never fail the host's setTimeout
    }
    return timer;
  }
  Object.defineProperties(timerSeen, Object.getOwnPropertyDescriptors(original));
  return timerSeen as unknown as typeof setTimeout;
}

const timeoutSeen = seen(originalTimeout);
const intervalSeen = seen(originalInterval as unknown as typeof setTimeout) as unknown as typeof setInterval;

/** Installs (true) or removes (false) the watching timers; leaves a foreign replacement alone. */
export function trackTimers(on: boolean): void {
  if (on) {
    if (globalThis.setTimeout === originalTimeout) globalThis.setTimeout = timeoutSeen;
    if (globalThis.setInterval === originalInterval) globalThis.setInterval = intervalSeen;
  } else {
    if (globalThis.setTimeout === timeoutSeen) globalThis.setTimeout = originalTimeout;
    if (globalThis.setInterval === intervalSeen) globalThis.setInterval = originalInterval;
  }
}
