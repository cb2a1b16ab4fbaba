import { runOutside } from './context/outside.js';
import type { WindowResult, WindowStart } from './monitors/tlob/result.js';
import { type TlobViolation, type TransitionEvent, tlobMonitor } from './monitors/tlob/tlob-monitor.js';
import { checkTlobReactor, type TlobReactor } from './monitors/tlob/tlob-reactor.js';
import { current, run, start } from './monitors/tlob/window-api.js';
import { probes, tlobAttach } from './probes/tlob-attach.js';
import { followMonitorSwitch } from './probes/tlob-probe.js';
import type { ChannelName } from './report/channels.js';
import { describeValue, TlobTypeError, unknownOption } from './report/errors.js';
import type { ViolationRing as Ring } from './report/ring.js';
import { type NameStats, statsByName } from './report/stats.js';
import { subscribe } from './report/subscribe.js';
import type { TlobWarningMessage } from './report/tlob-warning.js';
import { violationRing } from './report/violation-ring.js';
import { watchdog } from './watchdog/watchdog.js';

/**
 * The bounded ring of violation records that `tlob.ring` returns: read it, iterate it, resize it,
 * clear it. Only a type: the monitor owns the one ring and is its only writer, so the package
 * exports no class to make another (nor to test `instanceof` against).
 */
export type ViolationRing = Ring<TlobViolation>;

/**
 * `subscribe`, with a `tlob:event` listener run in the context of no window. A transition is
 * published from inside the scheduler hooks, in the window's context: what a listener schedules
 * there (`console.log` queues a `process.nextTick`) would be a continuation of the window, whose
 * transitions it would publish in turn, and so on until the budget ran out. (tlob's own timeline
 * subscribes to the channel itself: it schedules nothing.)
 */
function subscribeOutside(name: ChannelName, listener: (message: unknown, name: string | symbol) => void) {
  if (name !== 'event' || typeof listener !== 'function') return subscribe(name, listener);
  return subscribe(name, (message, channelName) => runOutside(listener, message, channelName));
}

/** What each tlob channel publishes (docs/channels.md), by the name `tlob.subscribe` takes. */
export interface ChannelMessages {
  error: TlobViolation;
  event: TransitionEvent;
  stop: WindowResult;
  start: WindowStart;
  warning: TlobWarningMessage;
}

/** A listener of `tlob.subscribe(name, listener)`: the message of channel `N`, and the channel's full name. */
export type ChannelListener<N extends ChannelName> = (
  message: ChannelMessages[N],
  name: string | symbol,
) => void;

/** Options of `tlob.disable()`. */
export interface DisableOptions {
  /**
   * Also take the `tlob.attach` probes out of their slots until `enable()`: each patched property
   * (and module export) holds the original function again, so calls through it cost nothing. A
   * function looked up from such a property while disabled is the original, and stays unmonitored
   * after `enable()`. Without it, a disabled probe stays in place and costs one check per call.
   * Start/stop pairs (`stopPath`) always stay in place.
   * @default false
   */
  unpatch?: boolean;
}

/** Checks the options of `tlob.disable()` and returns `unpatch`; an unknown option (a typo) throws. */
function checkDisableOptions(options: unknown): boolean {
  if (options === undefined) return false;
  const unpatch = (options as DisableOptions | null)?.unpatch;
  const unknown =
    options !== null && typeof options === 'object' ? unknownOption(options, ['unpatch']) : undefined;
  if (
    options === null ||
    typeof options !== 'object' ||
    unknown !== undefined ||
    (unpatch !== undefined && typeof unpatch !== 'boolean')
  ) {
    const got =
      unknown !== undefined
        ? `an object with \`${unknown}\``
        : unpatch !== undefined && typeof unpatch !== 'boolean'
          ? `\`unpatch\`: ${describeValue(unpatch)}`
          : describeValue(options);
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.disable: expected no options or { unpatch: boolean }, got ${got}`,
    );
  }
  return unpatch === true;
}

/**
 * The tlob API: windows (`start`, `run`), the current window, probes (`attach`, `probes`), the
 * reactor, the violation ring, stats, channels, and enabling.
 */
export const tlob = {
  start,
  run,
  current,

  attach: tlobAttach,
  probes: probes as typeof probes, // named, so that the declaration file keeps the methods' docs

  /** Whether windows are monitored. A disabled monitor costs one check per call and publishes nothing. */
  get enabled(): boolean {
    return tlobMonitor.enabled;
  },

  /** Starts monitoring new windows again (the default), and switches the probes back on. */
  enable(): void {
    tlobMonitor.enabled = true;
    followMonitorSwitch(true);
  },

  /**
   * Stops monitoring new windows; windows already open finish normally. Probes stay in place and
   * cost one check per call, or, with `{ unpatch: true }`, are taken out of their slots until
   * `enable()`.
   */
  disable(options?: DisableOptions): void {
    const unpatch = checkDisableOptions(options);
    tlobMonitor.enabled = false;
    followMonitorSwitch(false, unpatch);
  },

  /**
   * Chooses what happens on a violation: `'log'` (default), `'nop'`, `'abort'`, `'throw'`, or a
   * function called with the violation record. Returns the reactor in force before.
   * @example tlob.reactor('nop');
   */
  reactor(reactor?: TlobReactor): TlobReactor {
    const previous = tlobMonitor.tlobReactor;
    if (reactor !== undefined) tlobMonitor.tlobReactor = checkTlobReactor(reactor);
    return previous;
  },

  /** The bounded ring of violation records (1024 by default, drop-new). */
  get ring(): ViolationRing {
    return violationRing as ViolationRing; // only the tlob monitor writes it
  },

  /** Per-name counts, violations and percentiles of elapsed, running, waiting and sleeping (ns). */
  stats(): NameStats[] {
    return [...statsByName.values()].map((s) => s.snapshot());
  },

  /** Clears all stats. */
  resetStats(): void {
    for (const s of statsByName.values()) s.reset();
  },

  /**
   * Subscribes to a tlob channel (`'error'`, `'event'`, `'stop'`, `'start'`, `'warning'`): an
   * exception thrown by `listener` is reported as a warning, not as an uncaught exception. Returns
   * the function that unsubscribes.
   */
  subscribe: subscribeOutside as <N extends ChannelName>(name: N, listener: ChannelListener<N>) => () => void,

  /**
   * The watchdog thread, which reports a budget broken while the event loop is blocked, with the
   * blocked thread's stack (docs/watchdog.md): `tlob.watchdog(true)` or options to turn it on,
   * `false` to turn it off, no argument for its status.
   */
  watchdog,
};
