import type { deadlineSplit } from './deadline-split.js';

/** What the watchdog thread is started with (its `workerData`). */
export interface WatchdogWorkerData {
  /** BroadcastChannel name on which threads join and hand over new names. */
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
}

/** A thread joins (again) with its board and its names so far. */
export interface JoinMessage {
  type: 'join';
  key: string;
  buffer: SharedArrayBuffer;
  threadId: number;
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
export function watchdogMain(split: typeof deadlineSplit): void {
  const { workerData, BroadcastChannel, receiveMessageOnPort } =
    process.getBuiltinModule('node:worker_threads');
  const { writeSync } = process.getBuiltinModule('node:fs');
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
   * case: this delays no report then.
   */
  const SETTLE_MS = 1;
  /** Shortest period of the looks at a thread's synchronous windows while they keep opening. */
  const SYNC_LOOK_MIN_MS = 10;
  const I_SYNC_SEQ = L.I_SYNC_SEQ as number;
  const I_SYNC_DEPTH = L.I_SYNC_DEPTH as number;
  const I_SYNC_IDLE = L.I_SYNC_IDLE as number;
  const F_SYNC = L.F_SYNC as number;
  const SYNC_FIELDS = L.SYNC_FIELDS as number;
  const SYNC_SLOTS = L.SYNC_SLOTS as number;

  interface Board {
    key: string;
    i32: Int32Array;
    f64: Float64Array;
    threadId: number;
    capture: string;
    names: string[];
    waiting: boolean;
    /** `I_PUBLISHES` when the board was last found empty. */
    publishes: number;
    /** `I_SYNC_SEQ` at the last look at the synchronous windows. */
    syncSeq: number;
    /** The last look found no synchronous window open and none opened since the one before: idle flag set. */
    syncQuiet: boolean;
    /** When to look at the synchronous windows next (+Infinity: when the bell rings). */
    syncLook: number;
    /** `I_SEQ` of the record last read, and when it was first read with it. */
    recordSeq: number;
    recordSince: number;
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
  const now = () => performance.timeOrigin + performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let session: import('node:inspector').Session | undefined;
  let sessionFailed = false;

  function join(m: JoinMessage): void {
    const old = boards.get(m.key);
    if (old !== undefined) {
      // a join may arrive after names sent later by another way: merge, never shrink
      for (let i = 0; i < m.names.length; i++) old.names[i] = m.names[i] as string;
      return;
    }
    channel?.postMessage({ type: 'hello' }); // a new thread joined: tell it the watchdog runs
    const offset = L.FLOAT64_OFFSET as number;
    boards.set(m.key, {
      key: m.key,
      i32: new Int32Array(m.buffer, 0, offset / 4),
      f64: new Float64Array(m.buffer, offset),
      threadId: m.threadId,
      capture: m.capture,
      names: m.names.slice(),
      waiting: false,
      publishes: -1,
      syncSeq: -1,
      syncQuiet: false,
      syncLook: Number.POSITIVE_INFINITY,
      recordSeq: -1,
      recordSince: 0,
    });
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

  /** From when the watchdog may report from the record `s` (read at `t`): see `SETTLE_MS`. */
  function settledAt(b: Board, s: Snapshot, t: number): number {
    if (s.seq !== b.recordSeq) {
      b.recordSeq = s.seq;
      b.recordSince = t;
    }
    return b.recordSince + SETTLE_MS;
  }

  /**
   * The synchronous windows open on the thread (at most `SYNC_SLOTS`, outermost first), read under
   * `I_SYNC_SEQ`; deadlines in epoch ms.
   */
  function readSync(b: Board): { seq: number; open: Snapshot[] } {
    const { i32, f64 } = b;
    const origin = f64[L.F_ORIGIN as number] as number;
    for (let tries = 0; ; tries++) {
      const seq = Atomics.load(i32, I_SYNC_SEQ);
      if ((seq & 1) === 1 && tries < 1000) continue;
      const depth = Math.min(i32[I_SYNC_DEPTH] as number, SYNC_SLOTS);
      const open: Snapshot[] = [];
      for (let d = 0; d < depth; d++) {
        const at = F_SYNC + SYNC_FIELDS * d; // id, name index, start, budget
        const start = origin + (f64[at + 2] as number) / 1e6;
        const budget = (f64[at + 3] as number) / 1e6;
        open.push({
          id: f64[at] as number,
          seq: -1,
          name: f64[at + 1] as number,
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
        });
      }
      if (Atomics.load(i32, I_SYNC_SEQ) === seq || tries >= 1000) return { seq, open };
    }
  }

  /**
   * Plans the next look at the thread's synchronous windows: at the earliest deadline (plus the
   * grace) of those open, and while they keep opening and closing, every period (the smallest
   * budget seen, at least `SYNC_LOOK_MIN_MS`: a window opened just after a look is seen before its
   * deadline). When a look finds none open and none opened since the last one, the board's idle
   * flag is set and one more look confirms it (a window that opened while the flag was being set
   * may not have seen it); after that the watchdog sleeps on the bell, which the next synchronous
   * window rings once.
   */
  function planSync(b: Board, t: number): number {
    const period = Math.max(SYNC_LOOK_MIN_MS, b.i32[L.I_SYNC_MIN_BUDGET as number] as number);
    // a look planned in time stays; one planned by a larger budget than the smallest now is redone
    if (b.syncLook > t && b.syncLook <= t + period) return b.syncLook;
    const { seq, open } = readSync(b);
    if (open.length > 0 || seq !== b.syncSeq || (b.i32[I_SYNC_DEPTH] as number) > 0) {
      if (b.syncQuiet) {
        b.syncQuiet = false;
        Atomics.store(b.i32, I_SYNC_IDLE, 0);
      }
      b.syncSeq = seq;
      let next = t + period;
      for (const w of open)
        if (w.deadline + data.graceMs > t) next = Math.min(next, w.deadline + data.graceMs);
      b.syncLook = next;
    } else if (!b.syncQuiet) {
      b.syncQuiet = true;
      Atomics.store(b.i32, I_SYNC_IDLE, 1);
      b.syncLook = t + SYNC_LOOK_MIN_MS;
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

  function schedule(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    let earliest = Number.POSITIVE_INFINITY;
    const t = now();
    for (const b of boards.values()) {
      listen(b, Atomics.load(b.i32, I_BELL));
      const claimed = Atomics.load(b.i32, I_CLAIM) !== 0;
      // blocked and already reported: the thread rings when it releases the claim
      if (!claimed) earliest = Math.min(earliest, planSync(b, t));
      const s = claimed ? undefined : read(b);
      let wake: number;
      if (s !== undefined) wake = Math.max(s.deadline + data.graceMs, settledAt(b, s, t));
      else {
        const publishes = b.i32[I_PUBLISHES] as number;
        if (claimed || publishes === b.publishes) {
          // idle (or blocked and already reported): sleep on the bell alone
          Atomics.store(b.i32, I_WAKE_AT, NO_WAKE);
          continue;
        }
        b.publishes = publishes;
        wake = t + BUSY_LOOK_MS;
      }
      // a deadline earlier than this would be seen too late: the thread rings for it
      const rel = Math.floor(wake - data.graceMs - (b.f64[F_BASE] as number));
      Atomics.store(b.i32, I_WAKE_AT, rel < NO_WAKE ? rel : NO_WAKE - 1);
      if (wake < earliest) earliest = wake;
    }
    if (earliest !== Number.POSITIVE_INFINITY)
      timer = setTimeout(check, Math.max(0, Math.ceil(earliest - now())));
  }

  function check(): void {
    timer = undefined;
    const t = now();
    for (const b of boards.values()) {
      if (Atomics.load(b.i32, I_CLAIM) !== 0) continue;
      let s = read(b);
      if (s === undefined || t < Math.max(s.deadline + data.graceMs, settledAt(b, s, t))) s = undefined;
      // a synchronous window open past its deadline holds the thread: nothing else can report it
      for (const w of readSync(b).open)
        if (t >= w.deadline + data.graceMs && (s === undefined || w.deadline < s.deadline)) s = w;
      if (s === undefined) continue;
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
      b.f64[L.F_REPORT_RUNNING as number] = at.runningMs;
      b.f64[L.F_REPORT_WAITING as number] = at.waitingMs;
      b.f64[L.F_REPORT_SLEEPING as number] = at.sleepingMs;
      b.f64[L.F_REPORT_DETECTED as number] = t;
      b.f64[L.F_REPORT_DEADLINE as number] = s.deadline;
      if (Atomics.compareExchange(b.i32, I_CLAIM, 0, s.id) !== 0) continue;
      if (Atomics.load(b.i32, I_DONE) === s.id) {
        // the thread reported it itself between our read and the claim
        Atomics.compareExchange(b.i32, I_CLAIM, s.id, 0);
        continue;
      }
      report(b, s, at, t);
    }
    schedule();
  }

  function ms(v: number): string {
    return `${Math.round(v * 1000) / 1000}ms`;
  }

  function write(text: string): void {
    try {
      writeSync(2, text);
    } catch {
      // stderr closed: nothing left to tell
    }
  }

  function report(b: Board, s: Snapshot, at: ReturnType<typeof split>, t: number): void {
    // names the main thread sent may still wait in the port's queue behind this timer
    for (let m = receiveMessageOnPort(data.port); m !== undefined; m = receiveMessageOnPort(data.port))
      learn(m.message as Parameters<typeof receive>[0]);
    const name = b.names[s.name] ?? `#name${s.name}`;
    const thread = b.threadId === 0 ? 'the main thread' : `thread ${b.threadId}`;
    if (s.reactor !== L.REACTOR_NOP) {
      write(
        `tlob: "${name}" #${s.id} over budget ${ms(s.budget)}: ${thread} is blocked, elapsed ${ms(t - s.start)} ` +
          `(${ms(t - s.deadline)} after the deadline); at the deadline: running ${ms(at.runningMs)}, ` +
          `waiting ${ms(at.waitingMs)}, sleeping ${ms(at.sleepingMs)} state=${at.state} ` +
          `event=budget_expired detectedBy=watchdog\n`,
      );
    }
    const abort = s.reactor === L.REACTOR_ABORT;
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

  /** Asks the blocked main thread for its stack; `done` gets the lines to print. */
  function stack(b: Board, id: number, report: (text: string) => void): void {
    const pending = L.I_STACK_PENDING as number;
    Atomics.store(b.i32, pending, 1);
    const done = (text: string) => {
      report(text);
      Atomics.store(b.i32, pending, 0);
      Atomics.notify(b.i32, pending);
    };
    if (session === undefined && !sessionFailed) {
      try {
        const inspector = process.getBuiltinModule('node:inspector');
        session = new inspector.Session();
        session.connectToMainThread();
      } catch (error) {
        sessionFailed = true;
        done(`  (no stack: ${(error as Error).message})\n`);
        return;
      }
    }
    if (session === undefined) {
      done('  (no stack: the inspector is not available)\n');
      return;
    }
    const expression = `globalThis[Symbol.for(${JSON.stringify(b.capture)})]?.(${id})`;
    const connected = session;
    session.post('Runtime.evaluate', { expression, returnByValue: true, silent: true }, (error, r) => {
      // Disconnect at once: a session left connected to the main thread makes Node print
      // "Waiting for the debugger to disconnect..." when the program exits. The next capture
      // connects again (rare: one per blocked episode).
      connected.disconnect();
      if (session === connected) session = undefined;
      const value = (r as { result?: { value?: unknown } } | undefined)?.result?.value;
      if (error !== null || typeof value !== 'string') {
        done(`  (no stack: ${error?.message ?? 'the thread gave none'})\n`);
        return;
      }
      done(`  stack of the blocked thread:\n${value}\n`);
    });
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
    } else if (m.type === 'leave') boards.delete(m.key);
  }

  let channel: InstanceType<typeof BroadcastChannel> | undefined;
  for (const m of data.boards) join(m);
  channel = new BroadcastChannel(data.channel);
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
  channel.postMessage({ type: 'hello' }); // threads that enabled the watchdog before it ran join now
  schedule();
}
