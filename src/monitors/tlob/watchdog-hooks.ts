import type { Window } from './window.js';

/** Where synchronous windows tell the watchdog that they hold the thread (the watchdog's board). */
export interface SyncWatch {
  /** A synchronous window's call starts; returns what `leave` takes back. */
  enter(window: Window): number;
  /** That call returned or threw. */
  leave(depth: number): void;
  /** The thread's reactor changed (the watchdog acts by it, and reads it only when told). */
  reactorChanged(reactor: unknown): void;
}

/**
 * What a watchdog's board learnt of a call site the first time one of its synchronous calls
 * opened, kept on the site so that the next calls pay nothing to find it again.
 */
export interface WatchedSite {
  /** The board that learnt it (another board, after the watchdog was turned off and on, learns it anew). */
  watchBoard: unknown;
  /** The index of the site's name in that board's table of names. */
  watchName: number;
}

/**
 * What the watchdog (a layer above, which knows the windows) plugs into the tlob glue when it is
 * loaded: taking over a violation it already reported from its own thread, releasing its claim on
 * a window, and watching synchronous calls. Without a watchdog the first two do nothing and `sync`
 * is undefined.
 */
export const watchdogHooks: {
  /** Fields of a violation the watchdog caught, or undefined when it did not take this one. */
  takeover(window: Window, now: number): Record<string, unknown> | undefined;
  /** The window's violation was reported, or it ended without one. */
  releaseClaim(window: Window): void;
  /** Set while a watchdog watches this thread. */
  sync: SyncWatch | undefined;
} = {
  takeover: () => undefined,
  releaseClaim: () => {},
  sync: undefined,
};
