import type { Window } from './window.js';

/**
 * What the watchdog (a layer above, which knows the windows) plugs into the tlob glue when it is
 * loaded: taking over a violation it already reported from its own thread, and releasing its claim
 * on a window. Without a watchdog both do nothing.
 */
export const watchdogHooks: {
  /** Fields of a violation the watchdog caught, or undefined when it did not take this one. */
  takeover(window: Window, now: number): Record<string, unknown> | undefined;
  /** The window's violation was reported, or it ended without one. */
  releaseClaim(window: Window): void;
} = {
  takeover: () => undefined,
  releaseClaim: () => {},
};
