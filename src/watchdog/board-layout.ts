import {
  SYNC_FIELDS as FIELDS,
  SYNC_SLOTS as SLOTS,
  SYNC_DEPTH,
  SYNC_IDLE,
} from '../monitors/tlob/watchdog-hooks.js';

/**
 * The layout of a thread's watchdog board: one SharedArrayBuffer per monitored thread, written by
 * that thread and read by the watchdog thread. The thread publishes the window with the earliest
 * deadline (the top of its deadline queue) as a record framed by a sequence number (`SEQ` is odd
 * while the record is being written), with plain stores only: an atomic operation costs ~10–15 ns,
 * and a window is published with every call. The watchdog reads the record between two atomic
 * loads of `SEQ` and acts on it only once it has seen the same even `SEQ` for a while (see
 * `worker.ts`): a thread that published nothing since has finished writing it, and whatever it
 * wrote is visible by then. The thread writes its own times as they are, `nowNs()` readings in
 * nanoseconds (no conversion on its side); the watchdog turns them into milliseconds on the clock
 * every thread of the process shares (`performance.timeOrigin + performance.now()`) with
 * `F_ORIGIN`. What the watchdog writes back (`*_REPORT_*`) is in those milliseconds.
 *
 * Int32 words (index into an `Int32Array` over the buffer):
 */
export const I_SEQ = 0;
/** Bumped and notified by the thread when the watchdog must look again (see `I_WAKE_AT`). */
export const I_BELL = 1;
/**
 * Who reports the published window's expiry: 0 nobody yet, `id` the watchdog took it, -1 the
 * thread is reporting a violation itself (the watchdog may not take one meanwhile).
 */
export const I_CLAIM = 2;
/** The id of the last window the thread reported itself while it held the claim. */
export const I_DONE = 3;
/** Published window: id (0 for none), index of its name in the names table, state at its last transition. */
export const I_ID = 4;
export const I_NAME = 5;
export const I_STATE = 6;
/** The thread's reactor: one of the `REACTOR_*` codes. */
export const I_REACTOR = 7;
/**
 * Written by the watchdog: the earliest deadline (milliseconds relative to `F_BASE`) it would see
 * in time without being rung, `NO_WAKE` when it sleeps on no deadline. The thread rings the bell
 * only for a deadline earlier than that.
 */
export const I_WAKE_AT = 8;
/** Watchdog's report of a taken window: its state at the deadline. */
export const I_REPORT_STATE = 9;
/** Counts the thread's publications: an empty board whose count moved belongs to a busy thread. */
export const I_PUBLISHES = 10;
/**
 * 1 while the watchdog waits for the main thread's stack (a capture posted, its lines not written
 * yet): the main thread's exit waits for it, briefly, so that a program that ends right after a
 * block (a native call that returns, then exit) still gets its stack printed.
 */
export const I_STACK_PENDING = 11;
/**
 * Synchronous windows (`tlob.run` of a call that returns without yielding) are not queued and not
 * published as above: each one writes its id, its site's key and its start into the slot of its
 * nesting depth, then the depth, with plain stores, and nothing else (no lock, no sequence number,
 * no notify; the protocol is `SyncWatch`'s, whose header is these two words). The watchdog polls
 * the slots while synchronous windows keep opening (the id in the first slot moves with every
 * outermost one) and goes back to sleeping on the bell when they stop.
 */
export const I_SYNC_DEPTH = 12 + SYNC_DEPTH;
/**
 * 1 while the watchdog sleeps on the bell alone as far as synchronous windows go: the next one to
 * open swaps it to 0 and rings once.
 */
export const I_SYNC_IDLE = 12 + SYNC_IDLE;
/** The smallest budget of a synchronous window so far, in whole ms (at least 1): sets the watchdog's polling period. */
export const I_SYNC_MIN_BUDGET = 14;
/**
 * Set to 1 (and notified) by the watchdog once it reads this board: the thread's `running`. A word
 * rather than a message: the first message event a thread receives makes Node load its bundled
 * undici for the event class, which holds the thread for 40–100 ms (see `watchdog.ts`).
 */
export const I_JOINED = 15;
/** Watchdog's report of a taken window: the index of its name in the names table. */
export const I_REPORT_NAME = 16;
/**
 * Bumped by the thread at the start of every callback of its event loop that is not a promise
 * reaction (a macrotask), with a plain store, while the watchdog is on: a thread whose count
 * moves is busy running callbacks, and its budget timer comes in its turn; one whose count stands
 * still is held inside one callback, or in a chain of microtasks that never ends.
 */
export const I_PROGRESS = 17;
/**
 * Watchdog's report of a taken window: 1 if it wrote the line (and acted for `abort`), 0 if its
 * rate limit kept it from doing so: the thread's reactor then reports the window as usual.
 */
export const I_REPORT_WRITTEN = 18;
/**
 * The watchdog's looks at the board, counted twice each (atomic adds): odd from when a look begins,
 * before it reads the record or the synchronous slots, even again once it wrote what it decided
 * (`I_WAKE_AT`, `I_SYNC_IDLE`). tlob itself does not read it: it is ground truth for the tests that
 * drive a board by hand and publish a window right after the watchdog changed one of those words.
 * The change was made by the look under way when the count was last read before the change was
 * seen, or by the next one; a count read by an atomic operation once the window is written (which
 * orders those plain stores before the watchdog's next add) that is still no further than the end
 * of that look says the next look will find the window.
 */
export const I_LOOKS = 19;
export const SYNC_SLOTS = SLOTS;
const INT32_WORDS = I_LOOKS + 1;

/** Float64 slots (index into a `Float64Array` over the same buffer, after the Int32 words). */
export const F_BASE = 0;
/**
 * Published window, in the thread's nanoseconds: deadline, start, last transition, the time
 * waiting and sleeping up to it, budget. Its time running up to the last transition is the rest
 * (the window's accounting covers every moment from its start to its last transition, in exactly
 * one of the three states): one store fewer for each transition, and none for leaving the thread
 * (only the time running moved then).
 */
export const F_DEADLINE = 1;
export const F_START = 2;
export const F_LAST = 3;
export const F_WAITING = 4;
export const F_SLEEPING = 5;
export const F_BUDGET = 6;
/** When something the sleeping window waits on became ready (a timer's due time, thread ns), else NaN. */
export const F_READY = 7;
/** Watchdog's report of a taken window: split at the deadline and when it was detected. */
export const F_REPORT_RUNNING = 8;
export const F_REPORT_WAITING = 9;
export const F_REPORT_SLEEPING = 10;
export const F_REPORT_DETECTED = 11;
/** Watchdog's report of a taken window: its deadline (epoch ms), for either kind of window. */
export const F_REPORT_DEADLINE = 12;
/** The thread's `performance.timeOrigin`: its `nowNs()` readings plus this, over 1e6, are epoch ms. */
export const F_ORIGIN = 13;
/**
 * The synchronous windows' slots, `SYNC_FIELDS` numbers per depth d from `F_SYNC + SYNC_FIELDS * d`:
 * id, site key and start (thread ns) (see `SyncWatch`).
 */
export const F_SYNC = 14;
export const SYNC_FIELDS = FIELDS;
/** Watchdog's report of a taken window: its start (epoch ms) and budget (ms). */
export const F_REPORT_START = F_SYNC + SYNC_FIELDS * SYNC_SLOTS;
export const F_REPORT_BUDGET = F_REPORT_START + 1;
const FLOAT64_SLOTS = F_REPORT_BUDGET + 1;

/** Byte offset of the Float64 slots (8-byte aligned). */
export const FLOAT64_OFFSET = Math.ceil((INT32_WORDS * 4) / 8) * 8;
export const BOARD_BYTES = FLOAT64_OFFSET + FLOAT64_SLOTS * 8;

/**
 * The table of sites, a growable SharedArrayBuffer of its own beside the board: `SITE_FIELDS`
 * Float64 numbers per site key k from `SITE_FIELDS * k`, the index of the site's name and its
 * budget (thread ns), written once, before the first slot that carries k. Keys are given per
 * distinct name and budget, up to `SITES_MAX`; a site past that gets the key -1 and its synchronous
 * windows are not watched.
 */
export const SITE_FIELDS = 2;
export const SITES_INITIAL = 64;
export const SITES_MAX = 65536;

export const NO_WAKE = 0x7fffffff;

/** Reactor codes: what the watchdog does itself when it takes a window. */
export const REACTOR_NOP = 0;
export const REACTOR_LOG = 1;
export const REACTOR_ABORT = 2;
export const REACTOR_OTHER = 3;
