import type { formatNs } from '../engine/duration.js';
import type { deadlineSplit } from './deadline-split.js';

/** What the watchdog thread is started with (its `workerData`). */
export interface WatchdogWorkerData {
  /**
   * BroadcastChannel name on which worker threads join and hand over new names. The main thread
   * joins through `boards` and `port` and has no BroadcastChannel: it receives nothing.
   */
  channel: string;
  /** Milliseconds after a deadline before a thread that has not handled it counts as blocked. */
  graceMs: number;
  /** Whether to fetch the blocked main thread's stack. */
  stacks: boolean;
  /** How long an `abort` waits for the stack before it aborts anyway, in ms. */
  abortAfterMs: number;
  /** The tlob model's state names, by index. */
  states: string[];
  /** The board layout (`board-layout.ts`), since this code runs from its source text. */
  layout: Record<string, number>;
  /** Boards joined at start (the main thread's). */
  boards: JoinMessage[];
  /** The main thread's port for its later messages (new names). */
  port: import('node:worker_threads').MessagePort;
  /**
   * Under `tlob run`: the file it appends each signal it receives to, the global key of the main
   * thread's `RunSignals` (see `run-signals.ts`), when the process started (epoch ms) and its
   * process group as the file names it (`g<pgid>`, or '' where not known).
   */
  runSignals: { file: string; key: string; since: number; group: string } | undefined;
  /** The process's count of inspector sessions and its closing flag, at these indexes (`inspector-sessions.ts`). */
  sessions: { buffer: SharedArrayBuffer; count: number; closing: number };
  /**
   * The main thread's up word (`up-word.ts`) and this thread's generation: once it listens for
   * joins, the watchdog sets the word from minus its generation to its generation, unless the main
   * thread turned it off or started another meanwhile.
   */
  up?: { buffer: SharedArrayBuffer; generation: number };
}

/** A thread joins (again) with its board and its names so far. */
export interface JoinMessage {
  type: 'join';
  key: string;
  buffer: SharedArrayBuffer;
  /** The thread's table of sites (growable; see `SITE_FIELDS`). */
  sites: SharedArrayBuffer;
  threadId: number;
  /** A worker thread's id in the OS, by which the watchdog tells that it ended; 0 if not known (and for the main thread). */
  osThreadId: number;
  /** Global key of the thread's stack capture function; only for the main thread, else ''. */
  capture: string;
  names: string[];
}

/**
 * The watchdog thread. It sleeps until the earliest published deadline plus a grace
 * (`Atomics.waitAsync` on each board's bell, and one timer), and reads each board: if a thread
 * still publishes a window whose deadline passed more than the grace ago, that thread has not
 * moved since, so it is blocked. The watchdog then takes the window (the claim word), writes the
 * violation line on fd 2 at once (a worker's `process.stderr` goes through the main thread),
 * fetches the blocked main thread's JS stack by evaluating tlob's capture function there through
 * the inspector (no debugger is enabled: the evaluation runs at the blocked thread's next
 * interrupt check), and with the `abort` reactor kills the process with SIGABRT. It reports a
 * thread again only after that thread released the claim, i.e. moved.
 *
 * Self-contained (no imports, no closure): it runs from its source text, with `split` passed in.
 */
export function watchdogMain(split: typeof deadlineSplit, format: typeof formatNs): void {
  const { workerData, BroadcastChannel, receiveMessageOnPort } =
    process.getBuiltinModule('node:worker_threads');
  const { existsSync, readFileSync, writeFileSync, writeSync } = process.getBuiltinModule('node:fs');
  const { performance } = process.getBuiltinModule('node:perf_hooks');
  const data = workerData as WatchdogWorkerData;
  const L = data.layout as Record<string, number>;
  const I_SEQ = L.I_SEQ as number;
  const I_BELL = L.I_BELL as number;
  const I_CLAIM = L.I_CLAIM as number;
  const I_DONE = L.I_DONE as number;
  const I_ID = L.I_ID as number;
  const I_WAKE_AT = L.I_WAKE_AT as number;
  const NO_WAKE = L.NO_WAKE as number;
  const F_BASE = L.F_BASE as number;
  const I_PUBLISHES = L.I_PUBLISHES as number;
  const I_PROGRESS = L.I_PROGRESS as number;
  const I_LOOKS = L.I_LOOKS as number;
  /**
   * How soon the watchdog looks again at a board it found empty while its thread keeps opening and
   * closing windows: without it, each new window would find the watchdog asleep on nothing and ring it.
   */
  const BUSY_LOOK_MS = 20;
  /**
   * How long a published record must have stayed the same (its `I_SEQ` unchanged) before the
   * watchdog reports from it: the thread writes it with plain stores, in an order other cores may
   * see shuffled; a thread that published nothing for this long has finished writing, and all of
   * it is visible. The record of a window is first read long before its deadline, in the common
   * case: this delays no report then. A synchronous window is reported once two looks this far
   * apart found it open past its deadline (see `nextSyncLook`).
   */
  const SETTLE_MS = 1;
  /** Shortest period of the looks at a thread's synchronous windows while they keep opening. */
  const SYNC_LOOK_MIN_MS = 10;
  /**
   * How long after going to sleep on a board's bell alone (the idle flag set), or after raising
   * `I_WAKE_AT` (to a later deadline, or to `NO_WAKE`), the watchdog looks once more: a window the
   * thread opened as the word changed may have read it as it was and not rung (see `planSync` and
   * `planRecord`).
   */
  const CONFIRM_MS = 10;
  /** How often the file of signals that reached `tlob run` is read (see `watchRunSignals`). */
  const SIGNAL_POLL_MS = 100;
  /**
   * CPU time a thread may have had while its count of macrotasks stood still and still count as
   * kept from a CPU (see `keptFromCpu`): the loop's own work between its callbacks, when it gets a
   * CPU back, is microseconds; the kernel brings a running thread's CPU time up to date at each
   * scheduler tick (every 1–4 ms), so a thread that ran for the grace shows more.
   */
  const HELD_CPU_NS = 500_000;
  /** The shortest wait before the watchdog looks again at a thread it found kept from a CPU (a grace of 0). */
  const RECHECK_MIN_MS = 5;
  /** How long after disconnecting a session the watchdog counts it as connected still (see `evaluateOnMainThread`). */
  const DISCONNECT_MS = 5;
  /** At most this many reports (a line and its stack) per second, as the `log` reactor's lines. */
  const REPORTS_PER_SECOND = 10;
  const I_SYNC_DEPTH = L.I_SYNC_DEPTH as number;
  const I_SYNC_IDLE = L.I_SYNC_IDLE as number;
  const F_SYNC = L.F_SYNC as number;
  const SYNC_FIELDS = L.SYNC_FIELDS as number;
  const SYNC_SLOTS = L.SYNC_SLOTS as number;
  const SITE_FIELDS = L.SITE_FIELDS as number;

  interface Board {
    key: string;
    i32: Int32Array;
    f64: Float64Array;
    /** The thread's table of sites: follows its length as the thread grows it. */
    sites: Float64Array;
    threadId: number;
    osThreadId: number;
    capture: string;
    names: string[];
    waiting: boolean;
    /** `I_PUBLISHES` when the board was last found empty. */
    publishes: number;
    /** The id in the first synchronous slot at the last look: it moves with every outermost window. */
    syncFirst: number;
    /** What each synchronous slot held at the last look, and when the watchdog first saw it past its deadline. */
    syncSeen: SyncSeen[];
    /** The last look found no synchronous window open and none opened since the one before: idle flag set. */
    syncQuiet: boolean;
    /** When to look at the synchronous windows next (+Infinity: when the bell rings). */
    syncLook: number;
    /** `I_SEQ` of the record last read, and when it was first read with it. */
    recordSeq: number;
    recordSince: number;
    /** The thread's count of macrotasks (`I_PROGRESS`) at the last look, and when it was first seen with it. */
    progress: number;
    progressSince: number;
    /** The thread's CPU time (ns) when the count was first seen with its value; NaN where not known. */
    progressCpuNs: number;
    /** Not before this time may the thread count as blocked: it was last found kept from a CPU. */
    recheckAt: number;
    /** A look at the board is under way (`I_LOOKS` is odd). */
    looking: boolean;
  }
  interface SyncSeen {
    id: number;
    key: number;
    start: number;
    /** The budget read from the site's entry (NaN while not readable). */
    budget: number;
    /** The first look that found this window open at or after its deadline, else NaN. */
    late: number;
  }
  interface Snapshot {
    id: number;
    /** `I_SEQ` when the record was read (-1 for a synchronous window). */
    seq: number;
    name: number;
    state: number;
    reactor: number;
    deadline: number;
    start: number;
    last: number;
    running: number;
    waiting: number;
    sleeping: number;
    budget: number;
    ready: number;
  }

  const boards = new Map<string, Board>();
  const sessions = new Int32Array(data.sessions.buffer);
  const now = () => performance.timeOrigin + performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Why the inspector cannot be used here, once known. */
  let inspectorMissing: string | undefined;

  function join(m: JoinMessage): void {
    const old = boards.get(m.key);
    if (old !== undefined) {
      // a join may arrive after names sent later by another way: merge, never shrink
      for (let i = 0; i < m.names.length; i++) old.names[i] = m.names[i] as string;
      return;
    }
    const offset = L.FLOAT64_OFFSET as number;
    const i32 = new Int32Array(m.buffer, 0, offset / 4);
    boards.set(m.key, {
      key: m.key,
      i32,
      f64: new Float64Array(m.buffer, offset),
      sites: new Float64Array(m.sites),
      threadId: m.threadId,
      osThreadId: m.osThreadId,
      capture: m.capture,
      names: m.names.slice(),
      waiting: false,
      publishes: -1,
      syncFirst: -1,
      syncSeen: [],
      syncQuiet: false,
      syncLook: Number.POSITIVE_INFINITY,
      recordSeq: -1,
      recordSince: 0,
      progress: -1,
      progressSince: 0,
      progressCpuNs: Number.NaN,
      recheckAt: 0,
      looking: false,
    });
    // tell the thread that the watchdog reads its board: a word, not a message (see `I_JOINED`)
    Atomics.store(i32, L.I_JOINED as number, 1);
    Atomics.notify(i32, L.I_JOINED as number);
    // a pool that ends its workers and starts new ones leaves their boards behind
    for (const b of boards.values()) if (!runs(b)) leave(b);
  }

  /**
   * Whether the thread of `b` still runs. A worker thread that ended without leaving (terminated,
   * or exited by `process.exit()`) leaves its board, and perhaps a window on it, behind: it is
   * looked up in `/proc` (Linux); where it cannot be, the thread is taken to run.
   */
  function runs(b: Board): boolean {
    return (
      b.osThreadId === 0 || existsSync(`/proc/self/task/${b.osThreadId}`) || !existsSync('/proc/self/task')
    );
  }

  /** Stops reading the board `b`, and ends the wait on its bell. */
  function leave(b: Board): void {
    boards.delete(b.key);
    Atomics.notify(b.i32, I_BELL);
  }

  /**
   * The published record, read between two loads of its sequence number (retried while it is odd
   * or moved), its times turned into epoch ms; undefined when no window is published.
   */
  function read(b: Board): Snapshot | undefined {
    const { i32, f64 } = b;
    const origin = f64[L.F_ORIGIN as number] as number;
    for (let tries = 0; tries < 1000; tries++) {
      const seq = Atomics.load(i32, I_SEQ);
      if ((seq & 1) === 1) continue;
      const id = i32[I_ID] as number;
      const ready = f64[L.F_READY as number] as number;
      const start = f64[L.F_START as number] as number;
      const last = f64[L.F_LAST as number] as number;
      const waiting = f64[L.F_WAITING as number] as number;
      const sleeping = f64[L.F_SLEEPING as number] as number;
      const s: Snapshot = {
        id,
        seq,
        name: i32[L.I_NAME as number] as number,
        state: i32[L.I_STATE as number] as number,
        reactor: i32[L.I_REACTOR as number] as number,
        deadline: origin + (f64[L.F_DEADLINE as number] as number) / 1e6,
        start: origin + start / 1e6,
        last: origin + last / 1e6,
        // the rest of the time up to the last transition (see board-layout.ts)
        running: Math.max(0, last - start - waiting - sleeping) / 1e6,
        waiting: waiting / 1e6,
        sleeping: sleeping / 1e6,
        budget: (f64[L.F_BUDGET as number] as number) / 1e6,
        ready: Number.isNaN(ready) ? Number.POSITIVE_INFINITY : origin + ready / 1e6,
      };
      if (Atomics.load(i32, I_SEQ) === seq) return id === 0 ? undefined : s;
    }
    return undefined;
  }

  /**
   * Whether the window of `s` is still where it was read, once claimed: the record unchanged (its
   * `I_SEQ`), or the synchronous window still in its slot. The thread reports a window itself
   * under its own claim and moves its record (or its slot) before it releases the claim, so a
   * window it reported, and any after it, before this claim (more than `I_DONE` tells: only the
   * last) is told apart here: a claim left on it would never be released, and would keep the
   * watchdog from the thread for good.
   */
  function stillOpen(b: Board, s: Snapshot): boolean {
    const { i32, f64 } = b;
    if (s.seq >= 0) return Atomics.load(i32, I_SEQ) === s.seq && i32[I_ID] === s.id;
    const written = Math.min(Atomics.load(i32, I_SYNC_DEPTH), SYNC_SLOTS);
    for (let d = 0; d < written; d++) if (f64[F_SYNC + SYNC_FIELDS * d] === s.id) return true;
    return false;
  }

  /**
   * From when the thread of `b` may count as blocked on its published record, as of a look at `t`:
   * once its count of macrotasks (`I_PROGRESS`) has stood still for the grace. A thread that keeps
   * starting callbacks (a saturated server) is busy, not blocked: its budget timer reports the
   * window in its turn, and the stack of whatever runs at the look would name no culprit.
   */
  function stillSince(b: Board, t: number): number {
    const p = Atomics.load(b.i32, I_PROGRESS);
    if (p !== b.progress) {
      b.progress = p;
      b.progressSince = t;
      b.progressCpuNs = cpuOf(b)?.cpuNs ?? Number.NaN;
      b.recheckAt = 0;
    }
    return Math.max(b.progressSince + data.graceMs, b.recheckAt);
  }

  /**
   * The thread of `b` as the kernel sees it (Linux): its state letter (`R`: running or runnable,
   * `S`/`D`: asleep in a call) and the CPU time it has had, in ns; undefined where `/proc` cannot
   * tell. Two small file reads (~10 µs each), made only at looks after a deadline.
   */
  function cpuOf(b: Board): { state: string; cpuNs: number } | undefined {
    if (process.platform !== 'linux' || (b.threadId !== 0 && b.osThreadId === 0)) return undefined;
    const task = `/proc/self/task/${b.osThreadId === 0 ? process.pid : b.osThreadId}`;
    try {
      const stat = readFileSync(`${task}/stat`, 'latin1');
      const [cpu, , slices] = readFileSync(`${task}/schedstat`, 'latin1').split(' ');
      const cpuNs = Number(cpu);
      // a kernel that keeps no scheduler statistics reads "0 0 0"
      if (!(cpuNs > 0) || !(Number(slices) > 0)) return undefined;
      return { state: stat.charAt(stat.lastIndexOf(')') + 2), cpuNs };
    } catch {
      return undefined;
    }
  }

  /**
   * Whether the thread of `b`, whose count stood still since `progressSince`, was in fact kept from
   * a CPU (a loaded machine, a CPU quota): runnable, and given almost no CPU time since. Such a
   * thread runs its due timers once it gets a CPU, and its budget timer reports the window, late;
   * the watchdog looks again a grace later. A thread that had CPU time and started no callback is
   * held by what it runs; one asleep in a call (`Atomics.wait`, a synchronous read) is held by it.
   */
  function keptFromCpu(b: Board, t: number): boolean {
    if (Number.isNaN(b.progressCpuNs)) return false;
    const now = cpuOf(b);
    if (now === undefined || now.state !== 'R' || now.cpuNs - b.progressCpuNs > HELD_CPU_NS) return false;
    b.recheckAt = t + Math.max(data.graceMs, RECHECK_MIN_MS);
    return true;
  }

  /** From when the watchdog may report from the record `s` (read at `t`): see `SETTLE_MS`. */
  function settledAt(b: Board, s: Snapshot, t: number): number {
    if (s.seq !== b.recordSeq) {
      b.recordSeq = s.seq;
      b.recordSince = t;
    }
    return b.recordSince + SETTLE_MS;
  }

  /**
   * The synchronous windows open on the thread (at most `SYNC_SLOTS`, outermost first), deadlines
   * in epoch ms, each with `late`, the first look (this one included) that found the same window
   * open at or after its deadline (NaN if none): a slot whose content or site entry differs from
   * the last look's starts over. With the depth, and the id in the first slot.
   */
  function readSync(
    b: Board,
    t: number,
  ): { first: number; depth: number; open: (Snapshot & { late: number })[] } {
    const { i32, f64, sites, syncSeen } = b;
    const origin = f64[L.F_ORIGIN as number] as number;
    const depth = Atomics.load(i32, I_SYNC_DEPTH);
    const written = Math.min(depth, SYNC_SLOTS);
    const open: (Snapshot & { late: number })[] = [];
    for (let d = 0; d < written; d++) {
      const at = F_SYNC + SYNC_FIELDS * d; // id, site key, start
      const id = f64[at] as number;
      const key = f64[at + 1] as number;
      const startNs = f64[at + 2] as number;
      const entry = SITE_FIELDS * key;
      // the site's name and budget; none past the table's end (key -1), or while this view ends before its entry
      const known = key >= 0 && entry + 1 < sites.length;
      const budgetNs = known ? (sites[entry + 1] as number) : Number.NaN;
      let seen = syncSeen[d];
      if (
        seen === undefined ||
        seen.id !== id ||
        seen.key !== key ||
        seen.start !== startNs ||
        !Object.is(seen.budget, budgetNs)
      ) {
        seen = { id, key, start: startNs, budget: budgetNs, late: Number.NaN };
        syncSeen[d] = seen;
      }
      if (!known) continue;
      const start = origin + startNs / 1e6;
      const budget = budgetNs / 1e6;
      if (t >= start + budget && Number.isNaN(seen.late)) seen.late = t;
      open.push({
        id,
        seq: -1,
        name: sites[entry] as number,
        state: data.states.indexOf('running'),
        reactor: i32[L.I_REACTOR as number] as number,
        deadline: start + budget,
        start,
        last: start,
        running: 0,
        waiting: 0,
        sleeping: 0,
        budget,
        ready: Number.POSITIVE_INFINITY,
        late: seen.late,
      });
    }
    syncSeen.length = written; // a slot past the depth is stale: what is written there next starts over
    return { first: f64[F_SYNC] as number, depth, open };
  }

  /**
   * When to look next at an open synchronous window: it is reported once two looks at least
   * `SETTLE_MS` apart found it open past its deadline, the second past the grace too (a slot is
   * written with plain stores: a look may see the depth before the slot, but not for that long).
   * The first look is planned so that the second can fall at the deadline plus the grace. A look
   * already due (a plan made after its time and before its timer, as when a bell rang) is due now.
   * That cannot spin: a window read open past its deadline has `late` set by that read, so a due
   * look is the second one, and `check` at `t` or later reports the window from the same
   * thresholds (or another of the board's, or finds the board claimed, which `schedule` then
   * leaves to the thread's ring), and a timer of 0 waits a loop turn.
   */
  function nextSyncLook(w: { deadline: number; late: number }, t: number): number {
    const look = Number.isNaN(w.late)
      ? Math.max(w.deadline, w.deadline + data.graceMs - SETTLE_MS)
      : Math.max(w.deadline + data.graceMs, w.late + SETTLE_MS);
    return Math.max(look, t);
  }

  /**
   * Plans the next look at the thread's synchronous windows: by `nextSyncLook` for those open, and
   * while they keep opening and closing, every period (the smallest budget seen, at least
   * `SYNC_LOOK_MIN_MS`: a window opened just after a look is seen before its deadline). When a
   * look finds none open and none opened since the last one (the same id in the first slot), the
   * board's idle flag is set and one more look confirms it (a window that opened while the flag
   * was being set may not have seen it); after that the watchdog sleeps on the bell, which the
   * next synchronous window rings once.
   */
  function planSync(b: Board, t: number): number {
    const period = Math.max(SYNC_LOOK_MIN_MS, b.i32[L.I_SYNC_MIN_BUDGET as number] as number);
    // a look planned in time stays; one planned by a larger budget than the smallest now is redone
    if (b.syncLook > t && b.syncLook <= t + period) return b.syncLook;
    const { first, depth, open } = readSync(b, t);
    if (depth > 0 || first !== b.syncFirst) {
      if (b.syncQuiet) {
        b.syncQuiet = false;
        Atomics.store(b.i32, I_SYNC_IDLE, 0);
      }
      b.syncFirst = first;
      let next = t + period;
      for (const w of open) next = Math.min(next, nextSyncLook(w, t));
      b.syncLook = next;
    } else if (!b.syncQuiet) {
      b.syncQuiet = true;
      Atomics.store(b.i32, I_SYNC_IDLE, 1);
      b.syncLook = t + CONFIRM_MS;
    } else b.syncLook = Number.POSITIVE_INFINITY;
    return b.syncLook;
  }

  /** Keeps one `waitAsync` on the board's bell pending; a ring re-reads every board. */
  function listen(b: Board, bell: number): void {
    if (b.waiting) return;
    // Atomics.waitAsync is ES2024, past this project's `lib`
    const { waitAsync } = Atomics as unknown as {
      waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string };
    };
    const r = waitAsync(b.i32, I_BELL, bell);
    if (!r.async) {
      queueMicrotask(schedule);
      return;
    }
    b.waiting = true;
    (r.value as Promise<string>).then(() => {
      b.waiting = false;
      schedule();
    });
  }

  /**
   * Plans the next look at the thread's published record and tells the thread, in `I_WAKE_AT`,
   * from which deadline on it need not ring; returns when to look (+Infinity: on the bell alone).
   * The thread writes its record and then reads `I_WAKE_AT`; the watchdog writes `I_WAKE_AT` and
   * then reads the publication count again: if it moved, the thread may have read the word before
   * this store, so the record is read again. The thread's side is plain stores and a plain load
   * (it may read the word before its own stores are visible here): whenever the watchdog raises
   * the word (to a later deadline, or to `NO_WAKE` as it goes to sleep on the bell alone), a
   * window the thread published meanwhile may have read the lower word and not rung, so the
   * watchdog looks once more `CONFIRM_MS` later, when whatever the thread published is visible (a
   * window caught so is reported up to that much late; a timer per raise, and the looks these
   * add are `CONFIRM_MS` apart at least).
   */
  function planRecord(b: Board, t: number, claimed: boolean): number {
    // the lowest word the thread may still read while this plan is made
    let lowest = Atomics.load(b.i32, I_WAKE_AT);
    for (let tries = 0; ; tries++) {
      const publishes = Atomics.load(b.i32, I_PUBLISHES);
      const s = claimed ? undefined : read(b);
      let wake = Number.POSITIVE_INFINITY;
      // a look at the deadline reads the count of macrotasks, so that a thread held since before
      // it is reported at the deadline plus the grace
      if (s !== undefined)
        wake =
          t < s.deadline
            ? Math.max(s.deadline, settledAt(b, s, t))
            : Math.max(s.deadline + data.graceMs, settledAt(b, s, t), stillSince(b, t));
      else if (!claimed && publishes !== b.publishes) {
        // the board is empty but windows came and went: look again soon rather than be rung by each
        b.publishes = publishes;
        wake = t + BUSY_LOOK_MS;
      }
      // idle (or blocked and already reported): sleep on the bell alone; else a deadline earlier
      // than the look would be seen too late: the thread rings for it
      const rel =
        wake === Number.POSITIVE_INFINITY
          ? NO_WAKE
          : Math.min(NO_WAKE - 1, Math.floor(wake - data.graceMs - (b.f64[F_BASE] as number)));
      Atomics.store(b.i32, I_WAKE_AT, rel);
      if (Atomics.load(b.i32, I_PUBLISHES) !== publishes && tries < 3) {
        lowest = Math.min(lowest, rel);
        continue;
      }
      return rel > lowest ? Math.min(wake, t + CONFIRM_MS) : wake;
    }
  }

  /**
   * A look at the board `b` begins, before it reads the record or the synchronous slots: `I_LOOKS`
   * turns odd (see `board-layout.ts`). A look that checks the board and then plans runs from the
   * check to the end of the plan.
   */
  function lookBegins(b: Board): void {
    if (b.looking) return;
    b.looking = true;
    Atomics.add(b.i32, I_LOOKS, 1);
  }

  /** The look at `b` wrote what it decided (`I_WAKE_AT`, `I_SYNC_IDLE`): `I_LOOKS` turns even. */
  function lookEnds(b: Board): void {
    b.looking = false;
    Atomics.add(b.i32, I_LOOKS, 1);
  }

  function schedule(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    let earliest = Number.POSITIVE_INFINITY;
    const t = now();
    for (const b of boards.values()) {
      listen(b, Atomics.load(b.i32, I_BELL));
      lookBegins(b);
      const claimed = Atomics.load(b.i32, I_CLAIM) !== 0;
      // blocked and already reported: the thread rings when it releases the claim
      if (!claimed) earliest = Math.min(earliest, planSync(b, t));
      earliest = Math.min(earliest, planRecord(b, t, claimed));
      lookEnds(b);
    }
    if (earliest !== Number.POSITIVE_INFINITY)
      timer = setTimeout(check, Math.max(0, Math.ceil(earliest - now())));
  }

  function check(): void {
    timer = undefined;
    const t = now();
    for (const b of boards.values()) {
      if (Atomics.load(b.i32, I_CLAIM) !== 0) continue;
      lookBegins(b); // ended by the plan that follows, in `schedule`
      let s = read(b);
      // the count of macrotasks (and the kernel's view of the thread) only once past the deadline
      if (s !== undefined && t < Math.max(s.deadline + data.graceMs, settledAt(b, s, t))) s = undefined;
      if (s !== undefined && (t < stillSince(b, t) || keptFromCpu(b, t))) s = undefined;
      // a synchronous window open past its deadline holds the thread: nothing else can report it
      for (const w of readSync(b, t).open)
        if (
          t >= w.deadline + data.graceMs &&
          t >= w.late + SETTLE_MS &&
          (s === undefined || w.deadline < s.deadline)
        )
          s = w;
      if (s === undefined) continue;
      if (!runs(b)) {
        leave(b); // it ended with the window open: no thread is blocked
        continue;
      }
      const at = split(
        data.states[s.state] as string,
        s.last,
        s.running,
        s.waiting,
        s.sleeping,
        s.ready,
        s.deadline,
      );
      b.i32[L.I_REPORT_STATE as number] = data.states.indexOf(at.state);
      b.i32[L.I_REPORT_WRITTEN as number] = writes(s.reactor, t) ? 1 : 0;
      b.f64[L.F_REPORT_RUNNING as number] = at.runningMs;
      b.f64[L.F_REPORT_WAITING as number] = at.waitingMs;
      b.f64[L.F_REPORT_SLEEPING as number] = at.sleepingMs;
      b.f64[L.F_REPORT_DETECTED as number] = t;
      b.f64[L.F_REPORT_DEADLINE as number] = s.deadline;
      b.f64[L.F_REPORT_START as number] = s.start;
      b.f64[L.F_REPORT_BUDGET as number] = s.budget;
      b.i32[L.I_REPORT_NAME as number] = s.name;
      if (Atomics.compareExchange(b.i32, I_CLAIM, 0, s.id) !== 0) continue;
      if (Atomics.load(b.i32, I_DONE) === s.id || !stillOpen(b, s)) {
        // the thread reported it itself (or closed it) between our read and the claim
        Atomics.compareExchange(b.i32, I_CLAIM, s.id, 0);
        continue;
      }
      report(b, s, at, t);
    }
    schedule();
  }

  /** `v` milliseconds as the thread's own lines print durations (`formatNs`). */
  function ms(v: number): string {
    return format(v * 1e6);
  }

  function write(text: string): void {
    try {
      writeSync(2, text);
    } catch {
      // stderr closed: nothing left to tell
    }
  }

  /**
   * The second of reports under way (its start), how many it wrote, and how many it suppressed: the
   * rule of `RateLimitedLog` (report/rate-limited-log.ts), which this thread's code, sent as the
   * text of one function, cannot import.
   */
  const reports = { since: Number.NEGATIVE_INFINITY, written: 0, suppressed: 0 };

  /** Whether a report of a window whose thread's reactor is `reactor` would be written at `t`. */
  function writes(reactor: number, t: number): boolean {
    if (reactor === L.REACTOR_NOP) return false;
    return reactor === L.REACTOR_ABORT || t - reports.since >= 1000 || reports.written < REPORTS_PER_SECOND;
  }

  /** Whether a report may be written at `t` (one more of this second's); else it is counted. */
  function admitReport(t: number): boolean {
    if (t - reports.since >= 1000) {
      writeSuppressed();
      reports.since = t;
      reports.written = 0;
    }
    if (reports.written < REPORTS_PER_SECOND) {
      reports.written++;
      return true;
    }
    // said when the second ends, even if no other report comes
    if (reports.suppressed++ === 0) setTimeout(writeSuppressed, reports.since + 1000 - t).unref();
    return false;
  }

  function writeSuppressed(): void {
    if (reports.suppressed === 0) return;
    write(`tlob: ${reports.suppressed} watchdog report(s) suppressed by rate limit\n`);
    reports.suppressed = 0;
  }

  function report(b: Board, s: Snapshot, at: ReturnType<typeof split>, t: number): void {
    // names the main thread sent may still wait in the port's queue behind this timer
    for (let m = receiveMessageOnPort(data.port); m !== undefined; m = receiveMessageOnPort(data.port))
      learn(m.message as Parameters<typeof receive>[0]);
    const name = b.names[s.name] ?? `#name${s.name}`;
    if (b.threadId !== 0) keepForRun(b, s, at, name, t);
    const thread = b.threadId === 0 ? 'the main thread' : `thread ${b.threadId}`;
    const abort = s.reactor === L.REACTOR_ABORT;
    // past the rate limit, no line and no stack (whose capture stops the blocked thread)
    if (s.reactor !== L.REACTOR_NOP && !abort && !admitReport(t)) return;
    if (s.reactor !== L.REACTOR_NOP) {
      write(
        `tlob: "${name}" #${s.id} over budget ${ms(s.budget)}: ${thread} is blocked, elapsed ${ms(t - s.start)} ` +
          `(${ms(t - s.deadline)} after the deadline); at the deadline: running ${ms(at.runningMs)}, ` +
          `waiting ${ms(at.waitingMs)}, sleeping ${ms(at.sleepingMs)} state=${at.state} ` +
          `event=budget_expired detectedBy=watchdog\n`,
      );
    }
    if (!data.stacks || b.capture === '') {
      if (b.capture === '' && s.reactor !== L.REACTOR_NOP && data.stacks)
        write('  (no stack: the watchdog reads stacks of the main thread only)\n');
      if (abort) kill();
      return;
    }
    let answered = false;
    const stop = abort
      ? setTimeout(() => {
          if (answered) return;
          answered = true;
          write(`  (no stack within ${data.abortAfterMs}ms: the thread may be inside a native call)\n`);
          kill();
        }, data.abortAfterMs)
      : undefined;
    stack(b, s.id, (text) => {
      if (answered) return;
      answered = true;
      if (stop !== undefined) clearTimeout(stop);
      if (s.reactor !== L.REACTOR_NOP) write(text);
      if (abort) kill();
    });
  }

  /**
   * Under `tlob run`: the record of a worker thread's window reported here, written into the run's
   * data directory (`held-<pid>-<threadId>-<id>.json`), since the thread saves its data on its own
   * thread, which may stay held until it is terminated. The run adds it to the thread's data unless
   * that has the window's violation already (the thread moved again and reported it itself). The
   * split is at the deadline, as the thread's own record; it had run `runningAtWriteNs` when found.
   */
  function keepForRun(b: Board, s: Snapshot, at: ReturnType<typeof split>, name: string, t: number): void {
    const run = data.runSignals;
    if (run === undefined) return;
    const ns = (msValue: number) => Math.round(msValue * 1e6);
    const violation = {
      monitor: 'tlob',
      name,
      id: s.id,
      state: at.state,
      event: 'budget_expired',
      at: s.deadline,
      reportedLateNs: ns(t - s.deadline),
      budgetNs: ns(s.budget),
      elapsedNs: ns(s.budget),
      runningNs: ns(at.runningMs),
      waitingNs: ns(at.waitingMs),
      sleepingNs: ns(at.sleepingMs),
      detectedBy: 'watchdog',
      runningAtWriteNs: ns(t - s.start),
    };
    const dir = run.file.slice(0, run.file.lastIndexOf('/') + 1);
    try {
      writeFileSync(
        `${dir}held-${process.pid}-${b.threadId}-${s.id}.json`,
        JSON.stringify({ pid: process.pid, threadId: b.threadId, violation }),
      );
    } catch {
      // the run's directory is gone (it ended): nothing will read it
    }
  }

  /** Asks the blocked main thread for its stack; `done` gets the lines to print. */
  function stack(b: Board, id: number, report: (text: string) => void): void {
    const pending = L.I_STACK_PENDING as number;
    Atomics.store(b.i32, pending, 1);
    const expression = `globalThis[Symbol.for(${JSON.stringify(b.capture)})]?.(${id})`;
    evaluateOnMainThread(expression, (failure, value) => {
      report(
        failure !== undefined
          ? `  (no stack: ${failure})\n`
          : typeof value === 'string' && value !== ''
            ? `  stack of the blocked thread:\n${value}\n`
            : value === ''
              ? '  (no stack: no frame of the program on it, held by Node itself)\n'
              : '  (no stack: the thread gave none)\n',
      );
      Atomics.store(b.i32, pending, 0);
      Atomics.notify(b.i32, pending);
    });
  }

  /**
   * Evaluates `expression` on the main thread through the inspector; it runs at the thread's next
   * interrupt check, even while the thread is held in a synchronous loop (no debugger is enabled).
   * `done` gets why it could not, or the value.
   */
  function evaluateOnMainThread(
    expression: string,
    done: (failure: string | undefined, value: unknown) => void,
  ): void {
    if (inspectorMissing !== undefined) {
      done(inspectorMissing, undefined);
      return;
    }
    // counted from before it connects to after it disconnects: the main thread waits on the count
    // before it ends the process, and sets the closing flag first (see `inspector-sessions.ts`)
    const { count, closing } = data.sessions;
    Atomics.add(sessions, count, 1);
    const release = () => {
      Atomics.sub(sessions, count, 1);
      Atomics.notify(sessions, count);
    };
    if (Atomics.load(sessions, closing) !== 0) {
      release();
      done('the process is exiting', undefined);
      return;
    }
    let session: import('node:inspector').Session;
    try {
      const inspector = process.getBuiltinModule('node:inspector');
      session = new inspector.Session();
      session.connectToMainThread();
    } catch (error) {
      release();
      inspectorMissing = (error as Error).message;
      done(inspectorMissing, undefined);
      return;
    }
    session.post('Runtime.evaluate', { expression, returnByValue: true, silent: true }, (error, r) => {
      // Disconnect at once: a session left connected to the main thread makes Node print
      // "Waiting for the debugger to disconnect..." when the program exits.
      session.disconnect();
      // the main thread handles the disconnection a little later, at an interrupt check (also
      // while it waits on the count): the count drops once it had time to
      setTimeout(release, DISCONNECT_MS);
      if (error !== null) done(error.message, undefined);
      else done(undefined, (r as { result?: { value?: unknown } } | undefined)?.result?.value);
    });
  }

  /**
   * Under `tlob run`: each signal that `tlob run` appends to `file` that reached this process (passed
   * on to its pid, or typed at the terminal, reaching its process group) while it ran is handed to
   * the main thread's `RunSignals` at `key` (see `run-signals.ts`), which a synchronous loop does
   * not hold back; when it says so, the watchdog then ends the process by the signal.
   * Read every `SIGNAL_POLL_MS` (a timer, not a file watch: each process of a run would take one
   * of the user's few inotify instances).
   */
  function watchRunSignals(run: NonNullable<WatchdogWorkerData['runSignals']>): void {
    const handed = new Set<string>();
    const poll = setInterval(() => {
      let text: string;
      try {
        text = readFileSync(run.file, 'utf8');
      } catch {
        return; // no signal yet
      }
      const lines = text.split('\n').map((line) => line.split(' '));
      // one that reached the process by itself went to its listener, which ran: not handed again
      for (const [signal, to] of lines)
        if (signal !== undefined && to === `a${process.pid}`) handed.add(signal);
      for (const [signal, to, at] of lines) {
        const reached = to === String(process.pid) || (run.group !== '' && to === run.group);
        if (signal === undefined || !reached || !(Number(at) >= run.since) || handed.has(signal)) continue;
        handed.add(signal);
        const take = `globalThis[Symbol.for(${JSON.stringify(run.key)})]?.take(${JSON.stringify(signal)}, true)`;
        // the session is disconnected by now: a process that ends with it connected prints
        // "Waiting for the debugger to disconnect..."
        evaluateOnMainThread(take, (failure, ends) => {
          if (failure === undefined && ends === true) process.kill(process.pid, signal);
        });
      }
    }, SIGNAL_POLL_MS);
    poll.unref();
  }

  function kill(): void {
    write('tlob: aborting (reactor abort)\n');
    process.kill(process.pid, 'SIGABRT');
  }

  function learn(
    m:
      | JoinMessage
      | { type: 'name'; key: string; index: number; name: string }
      | { type: 'leave'; key: string },
  ): void {
    if (m.type === 'join') join(m);
    else if (m.type === 'name') {
      const b = boards.get(m.key);
      if (b !== undefined) b.names[m.index] = m.name;
    } else if (m.type === 'leave') {
      const b = boards.get(m.key);
      if (b !== undefined) leave(b);
    }
  }

  for (const m of data.boards) join(m);
  if (data.runSignals !== undefined) watchRunSignals(data.runSignals);
  const channel = new BroadcastChannel(data.channel);
  const receive = (
    m:
      | JoinMessage
      | { type: 'name'; key: string; index: number; name: string }
      | { type: 'leave'; key: string },
  ): void => {
    learn(m);
    schedule();
  };
  channel.onmessage = (event: unknown) => receive((event as { data: Parameters<typeof receive>[0] }).data);
  data.port.on('message', receive);
  channel.postMessage({ type: 'hello' }); // worker threads that enabled the watchdog before it ran join now
  if (data.up !== undefined) {
    // worker threads waiting on the word join now, without a message reaching them
    const word = new Int32Array(data.up.buffer);
    if (Atomics.compareExchange(word, 0, -data.up.generation, data.up.generation) === -data.up.generation)
      Atomics.notify(word, 0);
  }
  schedule();
}
