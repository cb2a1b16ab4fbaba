import { formatNs } from '../../engine/duration.js';
import { Monitor } from '../../engine/monitor.js';
import type { Violation } from '../../report/violation.js';
import { tlobModel } from './model.js';
import { watchdogHooks } from './watchdog-hooks.js';
import type { Window } from './window.js';

/** The violation record of tlob: the generic fields plus the budget and the split at the violation. */
export interface TlobViolation extends Violation {
  readonly monitor: 'tlob';
  readonly budgetNs: number;
  readonly elapsedNs: number;
  readonly runningNs: number;
  readonly waitingNs: number;
  readonly sleepingNs: number;
  /** `'watchdog'` when the watchdog thread caught it while the thread was blocked; absent otherwise. */
  readonly detectedBy?: 'watchdog';
  /** With the watchdog: the blocked thread's JS stack when it was caught, if it could be read. */
  readonly stack?: string;
}

function format(v: Violation): string {
  const t = v as TlobViolation;
  return (
    `tlob: "${t.name}" #${t.id} over budget ${formatNs(t.budgetNs)}: elapsed ${formatNs(t.elapsedNs)} ` +
    `(running ${formatNs(t.runningNs)}, waiting ${formatNs(t.waitingNs)}, sleeping ${formatNs(t.sleepingNs)}) ` +
    `state=${t.state} event=${t.event}` +
    (t.reportedLateNs >= 1e6 ? ` (found ${formatNs(t.reportedLateNs)} late)` : '')
  );
}

/** The tlob monitor: the generic engine running the tlob model over windows. */
export const tlobMonitor: Monitor<Window> = new Monitor<Window>(tlobModel, {
  detail(window, at) {
    window.accountUntil(at); // the split at the violation (detail_env_tlob), frozen there
    return {
      budgetNs: window.budgetNs,
      elapsedNs: Math.round(at - window.startNs),
      runningNs: Math.round(window.runningNs),
      waitingNs: Math.round(window.waitingNs),
      sleepingNs: Math.round(window.sleepingNs),
    };
  },
  format,
  takeover: (window, now) => watchdogHooks.takeover(window, now),
  onViolation(window) {
    watchdogHooks.releaseClaim(window);
    window.violated();
  },
});
