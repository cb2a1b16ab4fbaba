import { subscribe as dcSubscribe, unsubscribe as dcUnsubscribe } from 'node:diagnostics_channel';
import { currentTask, enterSync, taskStorage } from '../../context/current-task.js';
import { ensureSwitchOut, holdSchedulerHooks } from '../../context/scheduler-hooks.js';
import { checkReactor, type Reactor } from '../../engine/reactors.js';
import { describeValue, reportInternalError, TlobTypeError } from '../../errors.js';
import { type ChannelName, channels } from '../../report/channels.js';
import type { ViolationRing } from '../../report/ring.js';
import { MAX_NAMES, type NameStats, statsByName } from '../../report/stats.js';
import { violationRing } from '../../report/violation-ring.js';
import type { WindowResult } from './result.js';
import { checkOptions, createSite, type Site, type WindowOptions } from './site.js';
import { tlobMonitor } from './tlob-monitor.js';
import type { Window } from './window.js';
import { openWindow, runInWindow } from './windows.js';

/** A window opened by `tlob.start()`: stop it with `stop()`. */
export interface TlobWindow {
  readonly name: string;
  /** Unique per thread; 0 for the inert window handed out while tlob is disabled. */
  readonly id: number;
  /** The budget, in nanoseconds. */
  readonly budgetNs: number;
  /** Stops the window and returns its result; a second call returns the same result. */
  stop(): WindowResult;
}

const inertResult = (name: string, budgetNs: number): WindowResult =>
  Object.freeze({
    name,
    id: 0,
    budgetNs,
    elapsedNs: 0,
    runningNs: 0,
    waitingNs: 0,
    sleepingNs: 0,
    overBudget: false,
    code: undefined,
  });

/** The window handed out by `start()` while tlob is disabled: it measures nothing. */
class InertWindow implements TlobWindow {
  readonly id = 0;
  private readonly result: WindowResult;
  constructor(
    readonly name: string,
    readonly budgetNs: number,
  ) {
    this.result = inertResult(name, budgetNs);
  }
  stop(): WindowResult {
    return this.result;
  }
}

/**
 * Opens a window of `site` bound to the current async context like `AsyncLocalStorage.enterWith`
 * (what `tlob.start` and the start probe of a pair do). The monitor must be enabled.
 */
export function startWindow(site: Site): Window {
  const window = openWindow(site);
  window.holdsHooks = true;
  holdSchedulerHooks();
  window.enteredWith = true;
  taskStorage.enterWith(window);
  if (currentTask() !== window) enterSync(window);
  ensureSwitchOut(window);
  return window;
}

/** The arguments of every `tlob.run` callback: none, and no array allocated per call. */
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/** Sites of `tlob.run` by name; the budget parse is reused while a name keeps its budget. */
const runSites = new Map<string, Site>();

function runSite(name: unknown, options: unknown): Site {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.run: expected \`name\` to be a non-empty string, got ${describeValue(name)}`,
    );
  }
  const site = runSites.get(name);
  const budget = (options as WindowOptions | null)?.budget;
  if (site !== undefined && site.budgetInput === budget && budget !== undefined) return site;
  const fresh = createSite({ ...(options as object), name, onStop: undefined }, 'tlob.run');
  if (site !== undefined) {
    fresh.fast = site.fast;
    fresh.syncStreak = site.syncStreak;
  }
  if (site !== undefined || runSites.size < MAX_NAMES) runSites.set(name, fresh);
  return fresh;
}

/** Subscribers added by `tlob.subscribe`, guarded so that their exceptions are only reported. */
type Listener = (message: unknown, name: string | symbol) => void;

/**
 * The tlob monitor's public face: windows (`start`, `run`), the current window, the reactor, the
 * violation ring, stats, and enabling. Probes and decorators build on it.
 */
export const tlob = {
  /**
   * Opens a window with a budget in the current async context (like `AsyncLocalStorage.enterWith`:
   * inside an async function it also covers the synchronous caller until that caller yields).
   * @example const w = tlob.start({ budget: '50ms', name: 'load' }); await load(); w.stop();
   */
  start(options: WindowOptions): TlobWindow {
    if (!tlobMonitor.enabled) {
      // still checked, so that bad input fails early whether or not tlob is enabled; no stats entry
      const { name, budgetNs } = checkOptions(options, 'tlob.start');
      return new InertWindow(name, budgetNs);
    }
    return startWindow(createSite(options, 'tlob.start'));
  },

  /**
   * Runs `fn` in its own window and async context; returns or throws exactly what `fn` does. The
   * window closes when `fn` returns, throws, or the promise it returned settles.
   * @example const rows = await tlob.run('query', { budget: '20ms' }, () => db.query(sql));
   */
  run<T>(name: string, options: WindowOptions, fn: () => T): T {
    const site = runSite(name, options);
    if (typeof fn !== 'function') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob.run: expected \`fn\` to be a function, got ${describeValue(fn)}`,
      );
    }
    const onStop = options.onStop;
    if (onStop !== undefined && typeof onStop !== 'function') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob.run: expected \`onStop\` to be a function, got ${describeValue(onStop)}`,
      );
    }
    return runInWindow<T>(site, fn, undefined, NO_ARGS, undefined, onStop, true);
  },

  /** The innermost open window of the current context, or `undefined`. */
  current(): TlobWindow | undefined {
    let task = currentTask() as Window | undefined;
    while (task?.stopped) task = task.parent as Window | undefined;
    return task;
  },

  /** Whether windows are monitored. A disabled monitor costs one check per call and publishes nothing. */
  get enabled(): boolean {
    return tlobMonitor.enabled;
  },
  /** Starts monitoring new windows again (the default). */
  enable(): void {
    tlobMonitor.enabled = true;
  },
  /** Stops monitoring new windows; windows already open finish normally. */
  disable(): void {
    tlobMonitor.enabled = false;
  },

  /**
   * Chooses what happens on a violation: `'log'` (default), `'nop'`, `'abort'`, `'throw'`, or a
   * function called with the violation record. Returns the reactor in force before.
   * @example tlob.reactor('nop');
   */
  reactor(reactor?: Reactor): Reactor {
    const previous = tlobMonitor.reactor;
    if (reactor !== undefined) tlobMonitor.reactor = checkReactor(reactor);
    return previous;
  },

  /** The bounded ring of violation records (1024 by default, drop-new). */
  get ring(): ViolationRing {
    return violationRing;
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
   * Subscribes to a tlob channel (`'error'`, `'event'`, `'stop'`, `'start'`, `'warning'`). Unlike a plain
   * `diagnostics_channel.subscribe`, an exception thrown by `listener` is reported through
   * `process.emitWarning` instead of becoming an uncaught exception. Returns an unsubscribe function.
   */
  subscribe(name: ChannelName, listener: Listener): () => void {
    const ch = Object.hasOwn(channels, name) ? channels[name] : undefined;
    if (ch === undefined) {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob.subscribe: expected a channel name "error", "event", "stop", "start" or "warning", got ${describeValue(name)}`,
      );
    }
    if (typeof listener !== 'function') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob.subscribe: expected \`listener\` to be a function, got ${describeValue(listener)}`,
      );
    }
    const guarded: Listener = (message, channelName) => {
      try {
        listener(message, channelName);
      } catch (error) {
        if (name !== 'warning') reportInternalError(`tlob:${name} subscriber`, error);
      }
    };
    dcSubscribe(ch.name, guarded);
    return () => {
      dcUnsubscribe(ch.name, guarded);
    };
  },
};
