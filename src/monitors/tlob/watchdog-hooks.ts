import type { Window } from './window.js';

/**
 * Where synchronous windows tell the watchdog that they hold the thread: views of the watchdog's
 * board (a SharedArrayBuffer the watchdog thread reads), written with plain stores by
 * `CallSite.invoke` itself rather than by a method of the board (a method inlined there would
 * take V8's inlining budget from the rest of the call). A call at depth d (the number of
 * synchronous calls open around it, `header[SYNC_DEPTH]`), if d < `SYNC_SLOTS`, writes its
 * window's id, its site's key and its start in slot d, then sets the depth to d + 1; when it
 * returns or throws, the depth goes back to d (one store). What a site's calls all share (its name
 * and budget) is learnt once into the board's table of sites, under the site's key. There is no
 * lock and no sequence number: the watchdog trusts a slot only once it has read the same slot
 * below the depth it read, twice, a settling time apart (a window's id is never reused, so a slot
 * that did not change was not written meanwhile, and whatever the thread wrote before is visible
 * by then).
 * `header[SYNC_IDLE]` not 0: the watchdog sleeps on its bell alone, and `wake` rings it.
 */
export interface SyncWatch {
  /** `SYNC_DEPTH`, `SYNC_IDLE`. */
  readonly header: Int32Array;
  /**
   * The slots, `SYNC_FIELDS` numbers per depth d from `SYNC_FIELDS * d`: the window's id, its
   * site's key and its start (thread ns). One view for all of them.
   */
  readonly slots: Float64Array;
  /** A site's first synchronous call on this board: sets the site's `watchBoard` and `watchKey`. */
  learn(site: WatchedSite, name: string, budgetNs: number): void;
  /** `header[SYNC_IDLE]` was not 0 as a synchronous call opened. */
  wake(): void;
  /** The thread's reactor changed (the watchdog acts by it, and reads it only when told). */
  reactorChanged(reactor: unknown): void;
}

/** Indices into `SyncWatch.header`. */
export const SYNC_DEPTH = 0;
export const SYNC_IDLE = 1;
/** How many nesting depths have a slot (deeper synchronous calls are counted, not written). */
export const SYNC_SLOTS = 8;
/** A slot's fields, in this order from `SYNC_FIELDS * depth`: id, site key, start. */
export const SYNC_FIELDS = 3;

/**
 * What a watchdog's board learnt of a call site the first time one of its synchronous calls
 * opened, kept on the site so that the next calls pay nothing to find it again.
 */
export interface WatchedSite {
  /** The board that learnt it (another board, after the watchdog was turned off and on, learns it anew). */
  watchBoard: unknown;
  /** The site's key in that board's table of sites (its name and budget), or -1 when the table is full. */
  watchKey: number;
}

/**
 * What the watchdog (a layer above, which knows the windows) plugs into the tlob glue when it is
 * loaded: taking over a violation it already reported from its own thread, releasing its claim on
 * a window, and watching synchronous calls. Without a watchdog the first two do nothing and `sync`
 * is undefined.
 */
export const watchdogHooks: {
  /** Fields of a violation the watchdog caught and whether it wrote its line, or undefined when it did not take this one. */
  takeover(window: Window, now: number): { fields: Record<string, unknown>; reported: boolean } | undefined;
  /** The window's violation was reported, or it ended without one. */
  releaseClaim(window: Window): void;
  /** Set while a watchdog watches this thread. */
  sync: SyncWatch | undefined;
} = {
  takeover: () => undefined,
  releaseClaim: () => {},
  sync: undefined,
};
