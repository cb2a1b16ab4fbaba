import { performance } from 'node:perf_hooks';
import type { Deadlined, EarliestWatcher } from '../engine/deadline-queue.js';
import { S_SLEEPING } from '../monitors/tlob/model.js';
import type { SyncWatch, WatchedSite } from '../monitors/tlob/watchdog-hooks.js';
import { nowMs } from '../real-timers.js';
import { MAX_NAMES } from '../report/stats.js';
import { emitTlobWarning } from '../report/tlob-warning.js';
import {
  BOARD_BYTES,
  F_BASE,
  F_BUDGET,
  F_DEADLINE,
  F_LAST,
  F_ORIGIN,
  F_READY,
  F_SLEEPING,
  F_START,
  F_SYNC,
  F_WAITING,
  FLOAT64_OFFSET,
  I_BELL,
  I_ID,
  I_NAME,
  I_PUBLISHES,
  I_REACTOR,
  I_SEQ,
  I_STATE,
  I_SYNC_DEPTH,
  I_SYNC_IDLE,
  I_SYNC_MIN_BUDGET,
  I_WAKE_AT,
  NO_WAKE,
  REACTOR_ABORT,
  REACTOR_LOG,
  REACTOR_NOP,
  REACTOR_OTHER,
  SITE_FIELDS,
  SITES_INITIAL,
  SITES_MAX,
  SYNC_FIELDS,
  SYNC_SLOTS,
} from './board-layout.js';

/** `SharedArrayBuffer` as ES2024 has it (past this project's `lib`): growable. */
type GrowableSharedArrayBuffer = new (
  length: number,
  options: { maxByteLength: number },
) => SharedArrayBuffer & { grow(length: number): void; readonly maxByteLength: number };

/** What the board needs to know of a window (the tlob window has all of it). */
export interface BoardWindow {
  readonly id: number;
  readonly name: string;
  readonly budgetNs: number;
  readonly startNs: number;
  readonly deadlineNs: number;
  readonly state: number;
  /** The last transition; the window was running for `lastNs - startNs - waitingNs - sleepingNs` up to it. */
  readonly lastNs: number;
  readonly waitingNs: number;
  readonly sleepingNs: number;
  /** When what the window sleeps on became ready, if known (a timer's due time); NaN otherwise. */
  readonly readyNs: number;
}

/** Slots that the names past the first `MAX_NAMES` take turns in (see `ThreadBoard.intern`). */
const NAMES_SHARED = 64;

/**
 * The monitored thread's side of its watchdog board: publishes the window with the earliest
 * deadline, with plain stores framed by a sequence number (no atomics), and rings the watchdog only
 * when that deadline is earlier than the one it sleeps until. Names are interned: a window carries
 * the index of its name, and a name new to its index is handed to `onName`.
 */
export class ThreadBoard implements SyncWatch, EarliestWatcher {
  readonly buffer = new SharedArrayBuffer(BOARD_BYTES);
  readonly i32 = new Int32Array(this.buffer, 0, FLOAT64_OFFSET / 4);
  readonly f64 = new Float64Array(this.buffer, FLOAT64_OFFSET);
  /** What synchronous calls write (see `SyncWatch`): the header words, and the slots. */
  readonly header = new Int32Array(this.buffer, I_SYNC_DEPTH * 4, 2);
  readonly slots = new Float64Array(this.buffer, FLOAT64_OFFSET + F_SYNC * 8, SYNC_FIELDS * SYNC_SLOTS);
  /** The table of sites (see `SITE_FIELDS`): grown as sites are learnt, never moved. */
  readonly sites = new (SharedArrayBuffer as unknown as GrowableSharedArrayBuffer)(
    SITE_FIELDS * 8 * SITES_INITIAL,
    {
      maxByteLength: SITE_FIELDS * 8 * SITES_MAX,
    },
  );
  /** Follows the table's length as it grows. */
  private readonly siteTable = new Float64Array(this.sites);
  /** Site keys by budget and name. */
  private readonly siteKeys = new Map<string, number>();
  /** `nowNs()` readings plus this, over 1e6, are milliseconds on the process-wide clock. */
  private readonly originMs = performance.timeOrigin;
  /** A `nowNs()` reading over 1e6 plus this is milliseconds since `F_BASE` (the unit of `I_WAKE_AT`). */
  private readonly wakeOffsetMs: number;
  readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  /** The slots names take turns in (see `intern`), and the next to be taken. */
  private readonly shared: number[] = [];
  private nextShared = 0;
  private lastName = '';
  private lastNameIndex = -1;
  /** The reactor last written to `I_REACTOR`. */
  private reactor: unknown = undefined;
  /** The smallest budget of a synchronous window published so far. */
  private minSyncBudgetNs = Number.POSITIVE_INFINITY;

  /** Set until the first window to watch (synchronous or queued), which calls `onFirst` (the watchdog starts lazily). */
  private cold = true;
  /**
   * A worker thread handed the up word: joins a watchdog thread that is up and that it has not
   * joined yet, as one of its windows opens (a new earliest deadline, or a synchronous call while
   * the idle flag is set), rather than in the turn its wait on the word resolves in, which a window
   * that blocks first never reaches; true when it is joined to the one up.
   */
  joinCheck: (() => boolean) | undefined = undefined;
  /** The table of sites is full (a warning said so once). */
  private sitesFull = false;

  constructor(
    private readonly onName: (index: number, name: string) => void,
    /** Where the thread's reactor is read (the tlob monitor). */
    private readonly monitor: { readonly reactor: unknown },
    private readonly onFirst: () => void,
  ) {
    this.f64[F_BASE] = Math.floor(this.originMs + nowMs());
    this.wakeOffsetMs = this.originMs - (this.f64[F_BASE] as number);
    this.f64[F_ORIGIN] = this.originMs;
    this.i32[I_WAKE_AT] = NO_WAKE; // the first deadline rings a watchdog that sleeps on none
    this.i32[I_SYNC_IDLE] = 1; // and so does the first synchronous window
    this.writeReactor(monitor.reactor); // then on each change (`reactorChanged`)
  }

  /**
   * A synchronous call opened with `header[SYNC_IDLE]` set: the watchdog sleeps on the bell alone
   * as far as synchronous windows go, and the first call to swap the flag rings it.
   */
  wake(): void {
    // a worker thread not joined to a watchdog thread that is up leaves the flag set: its next
    // synchronous call looks again
    if (this.joinCheck !== undefined && !this.joinCheck()) return;
    if (Atomics.compareExchange(this.i32, I_SYNC_IDLE, 1, 0) === 1) this.ring();
  }

  /**
   * The first synchronous call of a site on this board: the site gets the key of its name and
   * budget in the table of sites (what its calls write from then on; a new pair is written into
   * the table first), and a budget smaller than any before lowers the watchdog's polling period (a
   * site's budget never changes). The very first starts the watchdog.
   */
  learn(site: WatchedSite, name: string, budgetNs: number): void {
    if (this.cold) {
      this.cold = false;
      this.onFirst();
    }
    const pair = `${budgetNs} ${name}`;
    let key = this.siteKeys.get(pair);
    if (key === undefined) {
      key = this.siteKeys.size;
      if (key >= SITES_MAX) {
        key = -1;
        if (!this.sitesFull) {
          this.sitesFull = true;
          emitTlobWarning(
            `tlob: the watchdog watches the synchronous calls of at most ${SITES_MAX} distinct names and budgets; a synchronous call of a new one ("${name}") and of any after it is not caught while it blocks the thread`,
            'TLOB_WATCHDOG',
          );
        }
      } else {
        this.siteKeys.set(pair, key);
        const at = SITE_FIELDS * key;
        if (at >= this.siteTable.length)
          this.sites.grow(Math.min(2 * this.sites.byteLength, this.sites.maxByteLength));
        this.siteTable[at] = this.intern(name, true);
        this.siteTable[at + 1] = budgetNs;
      }
    }
    site.watchKey = key;
    site.watchBoard = this;
    if (budgetNs < this.minSyncBudgetNs) this.lowerMinBudget(budgetNs);
  }

  /**
   * A synchronous window with a smaller budget than any before: the watchdog, which may be polling
   * at the period of the larger ones, is rung to plan its next look by this one. The idle flag is
   * left alone: it is cleared only by the watchdog, or by `wake` for a window already written. This
   * ring comes before the window's slot is written, so the look it causes may find nothing open; a
   * flag cleared here would stay clear while the watchdog sleeps on the bell, and no later
   * synchronous window would ring.
   */
  private lowerMinBudget(budgetNs: number): void {
    this.minSyncBudgetNs = budgetNs;
    this.i32[I_SYNC_MIN_BUDGET] = Math.max(1, Math.floor(budgetNs / 1e6));
    this.ring();
  }

  /**
   * The window with the earliest deadline changed (or is `undefined`: no deadline is queued): its
   * record, with plain stores framed by `I_SEQ` (see `board-layout.ts` for why no atomics), in the
   * thread's own nanoseconds. The bell rings only for a deadline earlier than the one the watchdog
   * sleeps until.
   */
  publishEarliest(window: BoardWindow | undefined, reactor: unknown): void {
    const i32 = this.i32;
    const f64 = this.f64;
    i32[I_PUBLISHES] = (i32[I_PUBLISHES] as number) + 1;
    if (window === undefined) {
      // one store: a reader sees the record before it or none, both consistent
      i32[I_ID] = 0;
      return;
    }
    const seq = i32[I_SEQ] as number;
    i32[I_SEQ] = seq + 1;
    i32[I_ID] = window.id;
    i32[I_NAME] = this.intern(window.name);
    if (reactor !== this.reactor) this.writeReactor(reactor);
    const deadlineNs = window.deadlineNs;
    f64[F_DEADLINE] = deadlineNs;
    f64[F_START] = window.startNs;
    f64[F_BUDGET] = window.budgetNs;
    this.writeSplit(window);
    i32[I_SEQ] = seq + 2;
    // a plain read: the watchdog's last word is enough here (it also looks again on its own)
    if (deadlineNs / 1e6 + this.wakeOffsetMs < (i32[I_WAKE_AT] as number)) this.ring();
  }

  /**
   * The deadline queue's watcher (the board is it, with no layer between: a window at the top of
   * the queue calls `transition` twice per await). The window with the earliest deadline changed.
   */
  earliest(top: Deadlined | undefined): void {
    this.publishEarliest(top as BoardWindow | undefined, this.monitor.reactor);
    if (this.joinCheck !== undefined) this.joinCheck();
    if (this.cold) {
      this.cold = false;
      this.onFirst();
    }
  }

  /**
   * The published window changed state: its state and what of its accounting that transition
   * moved, as they are (three or four plain stores, no lock, no conversion). Leaving the thread
   * (into `sleeping`) moved only the time running, which the watchdog derives, and the window may
   * have set a timer meanwhile; any other transition moved the time waiting or sleeping. What
   * decides a report (the window's id and deadline) is framed by `I_SEQ`; these fields only feed
   * the split the report prints, and the watchdog reads them when the thread has not moved for
   * longer than the grace, i.e. is not writing them.
   */
  transition(top: Deadlined): void {
    const window = top as unknown as BoardWindow;
    const f64 = this.f64;
    const state = window.state;
    this.i32[I_STATE] = state;
    f64[F_LAST] = window.lastNs;
    if (state === S_SLEEPING) f64[F_READY] = window.readyNs;
    else {
      f64[F_WAITING] = window.waitingNs;
      f64[F_SLEEPING] = window.sleepingNs;
    }
  }

  /** The thread's reactor changed: written at once, for the synchronous windows that follow. */
  reactorChanged(reactor: unknown): void {
    if (reactor !== this.reactor) this.writeReactor(reactor);
  }

  /** Wakes the watchdog so that it reads the board again. */
  ring(): void {
    Atomics.add(this.i32, I_BELL, 1);
    Atomics.notify(this.i32, I_BELL);
  }

  private writeReactor(reactor: unknown): void {
    this.reactor = reactor;
    this.i32[I_REACTOR] =
      reactor === 'log'
        ? REACTOR_LOG
        : reactor === 'abort'
          ? REACTOR_ABORT
          : reactor === 'nop'
            ? REACTOR_NOP
            : REACTOR_OTHER;
  }

  private writeSplit(window: BoardWindow): void {
    const f64 = this.f64;
    this.i32[I_STATE] = window.state;
    f64[F_LAST] = window.lastNs;
    f64[F_WAITING] = window.waitingNs;
    f64[F_SLEEPING] = window.sleepingNs;
    f64[F_READY] = window.readyNs;
  }

  /**
   * The index of `name` on the board. The names of sites (`keep`, as many as there are sites) and
   * the first `MAX_NAMES` others keep theirs for good; further names take turns in `NAMES_SHARED`
   * shared slots, which is enough for the one window published at a time (a program that names its
   * windows after URLs sent the watchdog every one of them, and kept them all).
   */
  private intern(name: string, keep = false): number {
    if (name === this.lastName && !keep) return this.lastNameIndex;
    let index = this.nameIndex.get(name);
    if (index === undefined || (keep && this.shared.includes(index))) {
      if (keep || this.names.length - this.shared.length < MAX_NAMES) {
        index = this.names.length;
        this.names.push(name);
      } else if (this.shared.length < NAMES_SHARED) {
        index = this.names.length;
        this.names.push(name);
        this.shared.push(index);
      } else {
        index = this.shared[this.nextShared] as number;
        this.nextShared = (this.nextShared + 1) % NAMES_SHARED;
        const before = this.names[index] as string;
        if (this.nameIndex.get(before) === index) this.nameIndex.delete(before);
        this.names[index] = name;
      }
      this.nameIndex.set(name, index);
      this.onName(index, name);
    }
    this.lastName = name;
    this.lastNameIndex = index;
    return index;
  }
}
