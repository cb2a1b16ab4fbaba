import { currentTask, liveTask } from '../context/current-task.js';
import { outside } from '../context/outside.js';
import { timerDueNs } from '../context/timer-due.js';

/** A task that can remember when the timer it sleeps on comes due (the tlob window). */
interface TimerAwareTask {
  readyNs: number;
  readyTimer: NodeJS.Timeout | undefined;
}

const original = globalThis.setTimeout;

/**
 * `setTimeout` as the watchdog sees it: the same timer, and if a window is current, the window
 * remembers the earliest due time of the timers it created since it last ran. While the thread is
 * blocked, no callback can tell the window that such a timer came due; with this the watchdog
 * counts a sleeping window as waiting from that moment. Only the global `setTimeout` is seen
 * (not `timers/promises`).
 */
function setTimeoutSeen(this: unknown, ...args: Parameters<typeof setTimeout>): NodeJS.Timeout {
  const timer = Reflect.apply(original, this, args) as NodeJS.Timeout;
  if (outside.depth > 0) return timer; // tlob's own budget timer
  try {
    const task = liveTask(currentTask()) as (TimerAwareTask & object) | undefined;
    if (task !== undefined && 'readyNs' in task) {
      const due = timerDueNs(timer);
      if (!Number.isNaN(due) && !(task.readyNs <= due)) {
        task.readyNs = due;
        task.readyTimer = timer;
      }
    }
  } catch {
    // never fail the host's setTimeout
  }
  return timer;
}
Object.defineProperties(setTimeoutSeen, Object.getOwnPropertyDescriptors(original));

/** Installs (true) or removes (false) the watching `setTimeout`; leaves a foreign replacement alone. */
export function trackTimers(on: boolean): void {
  if (on && globalThis.setTimeout === original)
    globalThis.setTimeout = setTimeoutSeen as unknown as typeof setTimeout;
  else if (!on && globalThis.setTimeout === (setTimeoutSeen as unknown)) globalThis.setTimeout = original;
}
