import { readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BroadcastChannel,
  isMainThread,
  MessageChannel,
  type MessagePort,
  threadId,
  Worker,
} from 'node:worker_threads';
import { runOutside } from '../context/outside.js';
import { macrotasks } from '../context/scheduler-hooks.js';
import { deadlines } from '../engine/deadline-queue.js';
import { type Duration, formatNs, toDurationNs } from '../engine/duration.js';
import { moduleFile } from '../module-file.js';
import { tlobModel } from '../monitors/tlob/model.js';
import { BUDGET_EXPIRED, type TlobViolation, tlobMonitor } from '../monitors/tlob/tlob-monitor.js';
import { watchdogHooks } from '../monitors/tlob/watchdog-hooks.js';
import type { Window } from '../monitors/tlob/window.js';
import { clearImmediate, setImmediate } from '../real-timers.js';
import { describeValue, reportInternalError, TlobTypeError, unknownOption } from '../report/errors.js';
import { emitTlobWarning } from '../report/tlob-warning.js';
import { ThreadBoard } from './board.js';
import * as layout from './board-layout.js';
import { deadlineSplit } from './deadline-split.js';
import { CLOSING, closeInspectorSessions, inspectorSessions, SESSIONS } from './inspector-sessions.js';
import { HELD_VIOLATION_KEY, procStat, RUN_SIGNALS_KEY, type RunSignals } from './run-signals.js';
import { trackTimers } from './timer-readiness.js';
import { inheritedUpWord, mainUpWord, setUpWord, UP } from './up-word.js';
import { type JoinMessage, type WatchdogWorkerData, watchdogMain } from './worker.js';

/** Options of `tlob.watchdog()`. */
export interface WatchdogOptions {
  /**
   * Turns the watchdog on or off. The main thread starts the watchdog thread in the turn of the
   * event loop after its first window that has a deadline or its first worker thread, outside
   * every window (not at this call); a window opened before it is up is not watched by it.
   * @default true
   */
  enabled?: boolean;
  /**
   * Prints the JS stack of the blocked main thread under the violation line (read through the
   * inspector, without enabling a debugger). Off by itself when a debugger port is open.
   * @default true
   */
  stacks?: boolean;
  /**
   * How long after a deadline a thread that has not handled it counts as blocked: a duration from
   * 0 to 3600 s (`'2ms'`, `'500us'`, or a number of milliseconds).
   * @default '5ms'
   */
  grace?: Duration;
  /**
   * Wraps the global `setTimeout`, `setInterval` and `setImmediate` (and `timers/promises`'
   * `setTimeout` and `setImmediate`) while the watchdog is on, to note the due time of each timer a
   * window creates and each immediate it queues: a window sleeping on a timer that came due, or
   * with an immediate queued, while another call blocks the thread is then reported `waiting`
   * from that moment. `false` leaves them the original functions; such a window is then reported
   * `sleeping` up to its deadline.
   * @default true
   */
  timers?: boolean;
}

/** What `tlob.watchdog()` returns: the settings in force. */
export interface WatchdogStatus {
  readonly enabled: boolean;
  /** Whether the watchdog thread is up and reading this thread's board (it starts in the turn after the main thread's first window that has a deadline or its first worker thread). */
  readonly running: boolean;
  /** Whether the violation line comes with the blocked main thread's stack. */
  readonly stacks: boolean;
  /** Whether the global `setTimeout`, `setInterval` and `setImmediate` are wrapped to note windows' timers and immediates. */
  readonly timers: boolean;
  readonly graceNs: number;
  /** Why stacks or the watchdog itself are off although asked for, else undefined. */
  readonly degraded: string | undefined;
}

const CHANNEL = 'tlob:watchdog';
const ABORT_AFTER_MS = 250;
const token = `${process.pid}.${threadId}.${Math.random().toString(36).slice(2)}`;
const captureKey = `tlob.watchdog.capture:${token}`;

let board: ThreadBoard | undefined;
/** A worker thread's channel to the watchdog, while it waits to be joined (the main thread has none: see `start`). */
let channel: BroadcastChannel | undefined;
/** The main thread's own line to the watchdog: unlike a BroadcastChannel, it queues until the worker listens. */
let port: MessagePort | undefined;
/** The watchdog thread, when this thread started it. */
let worker: Worker | undefined;
/** The start of the watchdog thread, planned for the next turn, until it runs. */
let pendingStart: NodeJS.Immediate | undefined;
let started = false;
/**
 * The word that says which watchdog thread listens for joins (`up-word.ts`): the main thread's own,
 * or the one a worker thread was handed; undefined in a worker thread started before the main
 * thread turned the watchdog on.
 */
let upWord: Int32Array | undefined;
/** Generation of the last watchdog thread the main thread started. */
let generation = 0;
/** Generation of the watchdog thread a worker thread joined through its up word, 0 if none. */
let joinedGeneration = 0;
/** The main thread has started a worker thread (the `'worker'` listener is on). */
let workersSeen = false;
let listensForWorkers = false;
let stacks = true;
let timers = true;
let graceNs = 5e6;
let degraded: string | undefined;
/** The last stack the watchdog read on this thread, for the violation record. */
let captured: { id: number; stack: string } | undefined;
/** Id of the window whose violation this thread reports itself while holding the claim. */
let selfClaimed = 0;
/** Id of the window the watchdog took, while the thread reports it. */
let takenOver = 0;

function warn(message: string): void {
  emitTlobWarning(message, 'TLOB_WATCHDOG');
}

/**
 * Where tlob's own frames come from, each as a path and as a file URL (a frame of an ES module
 * names its URL; one of CommonJS, or one mapped through a source map, its path), found when the
 * watchdog starts (`ownFramePlaces`); none before.
 */
let ownPlaces: readonly string[] = [];

/**
 * The package's `dist/` (the file this module was built into, and every other entry, `register`
 * included) and its `src/`, where `--enable-source-maps` (or `process.setSourceMapsEnabled`) maps
 * the frames of `dist/` (the maps name `../src/…`); only `src/` when tlob runs from its sources.
 * None when this module is not in the tlob package (bundled into an application, whose own
 * frames are in the same file): tlob's frames then cannot be told apart, and are shown.
 */
function ownFramePlaces(): readonly string[] {
  const file = moduleFile(import.meta.url);
  if (file === undefined) return [];
  for (let dir = dirname(file), depth = 0; depth < 3; dir = dirname(dir), depth++) {
    const inside = basename(dir);
    if ((inside !== 'dist' && inside !== 'src') || !isTlobPackage(dirname(dir))) continue;
    const places = [join(dirname(dir), 'src') + sep];
    if (inside === 'dist') places.push(dir + sep);
    return places.flatMap((place) => [place, pathToFileURL(place).href]);
  }
  return [];
}

/** Whether `dir` holds the tlob package (its `package.json` names it). */
function isTlobPackage(dir: string): boolean {
  try {
    return (
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'tlob'
    );
  } catch {
    return false;
  }
}

/**
 * The thread's reactor as the watchdog acts by it: the one `tlob.reactor()` names. Under `'throw'`
 * the engine's own reactor is `'nop'` (the policy acts where the call returns), while the watchdog
 * writes its line, as for a function reactor: a call that never returns would otherwise go
 * unreported.
 */
const reactorSource = {
  get reactor(): unknown {
    return tlobMonitor.tlobReactor;
  },
};

/** Why this process cannot run a watchdog thread, or undefined. */
function unavailable(): string | undefined {
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  if (permission !== undefined && !permission.has('worker'))
    return 'the permission model denies worker threads (--allow-worker)';
  return undefined;
}

/** Why stacks cannot be read, or undefined. */
function noStacks(): string | undefined {
  let inspector: typeof import('node:inspector');
  try {
    inspector = process.getBuiltinModule('node:inspector');
  } catch {
    return 'the inspector is not available in this node';
  }
  const url = inspector.url();
  if (url !== undefined) return `a debugger port is open (${url}): the watchdog leaves it alone`;
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  if (permission !== undefined) {
    try {
      if (!permission.has('inspector'))
        return 'the permission model denies the inspector (--allow-inspector)';
    } catch {
      return 'the permission model denies the inspector (--allow-inspector)';
    }
  }
  return undefined;
}

/**
 * Reads the thread's JS stack. Called by the watchdog through `Runtime.evaluate`, inside an
 * interrupt of the blocked thread: it only reads, and remembers the stack for the record the
 * thread builds once it moves.
 */
function capture(id: number): string {
  const limit = Error.stackTraceLimit;
  const trace: { stack?: string } = {};
  try {
    Error.stackTraceLimit = 64;
    // from the caller on: this function's own frame is left out even where tlob's files cannot be
    // told apart from the application's (tlob bundled into it)
    Error.captureStackTrace(trace, capture);
  } finally {
    Error.stackTraceLimit = limit;
  }
  const stack = trace.stack ?? '';
  // drop "Error", the evaluated expression and tlob's own frames
  const frames = stack
    .split('\n')
    .slice(1)
    .filter(
      (line) => !line.includes('at <anonymous>:1:') && !ownPlaces.some((place) => line.includes(place)),
    );
  const text = frames.join('\n');
  captured = { id, stack: text };
  return text;
}

function joinMessage(b: ThreadBoard): JoinMessage {
  return {
    type: 'join',
    key: token,
    buffer: b.buffer,
    sites: b.sites,
    threadId,
    osThreadId: isMainThread ? 0 : osThreadId(),
    capture: isMainThread && stacks ? captureKey : '',
    names: b.names,
  };
}

/**
 * This thread's id in the OS, which the watchdog looks up to tell whether a worker thread still
 * runs (Linux: `/proc/thread-self` links to `<pid>/task/<tid>`); 0 where it cannot be told.
 */
function osThreadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop()) || 0;
  } catch {
    return 0;
  }
}

// Atomics.waitAsync is ES2024, past this project's `lib`
const { waitAsync } = Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string };
};

/** Whether the watchdog thread reads the board `b`: it sets the board's `I_JOINED` when it joins it. */
function joined(b: ThreadBoard): boolean {
  return Atomics.load(b.i32, layout.I_JOINED) === 1;
}

/**
 * Starts the watchdog thread (main thread), in the turn after its first deadline or after it
 * started its first worker thread, or joins it (a worker thread started before the main thread
 * turned the watchdog on: see `followUpWord` for the others); once.
 *
 * A thread keeps no channel open on which the watchdog or another thread could send it a message:
 * a message it received would be dispatched as a `MessageEvent` (on a BroadcastChannel always,
 * listener or not; on a port with an `onmessage` handler), and the first one of a thread makes
 * Node load and compile its bundled undici for that class, which held the thread for 40–100 ms
 * (an express server that never used `fetch`): a window in flight was charged that time as
 * waiting, and the watchdog reported the thread blocked, on a stack of Node's internals only. The
 * watchdog tells a thread that it reads its board in the board (`I_JOINED`).
 *
 * The main thread hands its board over in the worker's data and sends later names and its leaving
 * through a port it never listens on. The watchdog thread says that it listens for the joins of
 * worker threads in the up word (`up-word.ts`), which they wait on.
 */
function start(b: ThreadBoard): void {
  started = true;
  if (ownPlaces.length === 0) ownPlaces = ownFramePlaces();
  if (!isMainThread) {
    joinThroughChannel(b);
    return;
  }
  (globalThis as Record<symbol, unknown>)[Symbol.for(captureKey)] = capture;
  const { port1, port2 } = new MessageChannel();
  port = port1;
  generation++;
  const word = upWord ?? mainUpWord();
  setUpWord(word, -generation); // starting: the new thread sets it to `generation` once it listens
  port1.unref();
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // else a preload in it would run inside the watchdog thread
  const workerData: WatchdogWorkerData = {
    channel: CHANNEL,
    graceMs: graceNs / 1e6,
    stacks,
    abortAfterMs: ABORT_AFTER_MS,
    states: tlobModel.states.slice(),
    layout: { ...layout },
    boards: [joinMessage(b)],
    port: port2,
    runSignals: runSignalsFile(),
    sessions: { buffer: inspectorSessions().buffer as SharedArrayBuffer, count: SESSIONS, closing: CLOSING },
    up: { buffer: word.buffer as SharedArrayBuffer, generation },
  };
  worker = new Worker(`(${watchdogMain.toString()})(${deadlineSplit.toString()}, ${formatNs.toString()})`, {
    eval: true,
    execArgv: [],
    env,
    workerData,
    transferList: [port2],
    stdout: false,
    stderr: false,
  });
  worker.on('error', (error) => reportInternalError('watchdog thread', error));
  worker.unref(); // after the listener: one added later would hold the process open again
}

/**
 * Under `tlob run`, the file of the signals it receives, and where they go (see `run-signals.ts`);
 * undefined where the inspector is not to be used (the reasons stacks are off for).
 */
function runSignalsFile(): WatchdogWorkerData['runSignals'] {
  if (noStacks() !== undefined) return undefined;
  const relay = (globalThis as Record<symbol, Partial<RunSignals> | undefined>)[Symbol.for(RUN_SIGNALS_KEY)];
  if (typeof relay?.file !== 'string') return undefined;
  const group = procStat()?.[2];
  return {
    file: relay.file,
    key: RUN_SIGNALS_KEY,
    since: performance.timeOrigin,
    group: group === undefined ? '' : `g${group}`,
  };
}

/**
 * A worker thread shares no memory with the watchdog before it joins: it posts its board on the
 * BroadcastChannel, and listens there only until the watchdog has joined it (a watchdog thread
 * that starts later says hello there, and the thread joins again), then closes the channel: open,
 * it would receive the joins and names of every other thread. Until then a message received (a
 * hello, another thread's join) still costs this thread its first message event.
 */
function joinThroughChannel(b: ThreadBoard): void {
  const listening = new BroadcastChannel(CHANNEL);
  channel = listening;
  listening.onmessage = (event: unknown) => {
    if ((event as { data?: { type?: string } }).data?.type === 'hello' && !joined(b))
      listening.postMessage(joinMessage(b));
  };
  listening.unref();
  listening.postMessage(joinMessage(b));
  const stopListening = () => {
    listening.close();
    if (channel === listening) channel = undefined;
  };
  const r = waitAsync(b.i32, layout.I_JOINED, 0);
  if (r.async) (r.value as Promise<string>).then(stopListening);
  else stopListening();
}

/**
 * A worker thread handed the main thread's up word joins each watchdog thread that listens, at
 * once if one does (when the watchdog is turned on: under the preload, before the thread's first
 * module, so that even a first window that blocks at once is watched), else in the first turn
 * after one does, waking on the word. It posts its board on a channel it opens and closes at once,
 * which receives nothing: no message ever reaches the thread.
 */
function followUpWord(b: ThreadBoard, word: Int32Array): void {
  if (board !== b) return; // turned off (the wait ends when the word next changes)
  const value = Atomics.load(word, UP);
  if (value > 0 && value !== joinedGeneration) joinGeneration(b, value);
  const r = waitAsync(word, UP, value);
  if (r.async) (r.value as Promise<string>).then(() => runOutside(followUpWord, b, word));
  else followUpWord(b, word); // the word moved meanwhile
}

/** A worker thread handed the up word joins the watchdog thread of generation `value`, which is up. */
function joinGeneration(b: ThreadBoard, value: number): void {
  joinedGeneration = value;
  started = true; // later names are posted
  Atomics.store(b.i32, layout.I_JOINED, 0); // set again by the watchdog that reads the board
  try {
    post(joinMessage(b));
  } catch (error) {
    reportInternalError('watchdog join', error);
  }
}

/**
 * `ThreadBoard.joinCheck` of a worker thread handed the up word: one of its windows opens, and a
 * watchdog thread it has not joined is up (it came up while the thread was held, or in the turn
 * whose first message opened the window): it joins it now, outside every window. Whether the
 * thread is joined to the one up.
 */
function joinUp(b: ThreadBoard, word: Int32Array): boolean {
  if (board !== b) return false; // turned off
  const value = Atomics.load(word, UP);
  if (value <= 0) return false;
  if (value !== joinedGeneration) runOutside(joinGeneration, b, value);
  return true;
}

/**
 * The main thread started a worker thread (Node's `'worker'` event, on the thread that created it:
 * a worker thread's own are created after its first): the watchdog thread starts in the next turn,
 * for the windows of the worker threads, even if this thread opens none.
 */
function workerStarted(created: Worker): void {
  if (created === worker) return; // the watchdog thread itself
  workersSeen = true;
  const b = board;
  // unref'd as after a window: the new worker thread's start and its messages wake this loop, so
  // the immediate runs in the next turn without holding the process open for it
  if (b !== undefined && !started && pendingStart === undefined) startSoon(b);
}

/** Sends `message` to the watchdog: on the main thread's port, else on the BroadcastChannel, opened for it if closed. */
function post(message: object): void {
  if (port !== undefined) port.postMessage(message);
  else if (channel !== undefined) channel.postMessage(message);
  else {
    const once = new BroadcastChannel(CHANNEL); // closed at once: it receives nothing
    once.postMessage(message);
    once.close();
  }
}

/**
 * Plans the start of the watchdog thread (or this thread's joining it), asked for by the first
 * window it must watch, for the next turn of the loop, outside every window: `new Worker` holds
 * this thread for several milliseconds, which a window open at that moment would be charged as
 * running (a first window of a trivial call was reported over a 2 ms budget). The immediate is
 * unref'd: a program that ends before it runs never starts the thread, and its exit does not wait
 * for the thread's start. `held` keeps it ref'd, so that it runs in the next turn even if nothing
 * else wakes the loop (an unref'd immediate waits for the loop's next wake-up): for worker threads
 * that wait on the up word while the main thread idles.
 */
function startSoon(b: ThreadBoard, held = false): void {
  const immediate = runOutside(setImmediate, () => startPlanned(b)); // runs outside every window
  pendingStart = held ? immediate : immediate.unref();
}

function startPlanned(b: ThreadBoard): void {
  pendingStart = undefined;
  if (board !== b || started) return; // turned off (and maybe on again) meanwhile
  try {
    start(b);
  } catch (error) {
    started = true;
    reportInternalError('watchdog start', error);
  }
}

/** The options `tlob.watchdog()` accepts: any other key is a mistake (a typo) and throws. */
const OPTION_KEYS: readonly string[] = ['enabled', 'stacks', 'grace', 'timers'];
const OPTIONS_SHAPE = '{ enabled?: boolean, stacks?: boolean, grace?: duration, timers?: boolean }';
const MAX_GRACE_NS = 3_600_000_000_000;

/** Checks `tlob.watchdog()`'s argument, before any setting changes; `graceNs` is the parsed `grace`. */
function checkOptions(options: unknown): WatchdogOptions & { graceNs?: number } {
  if (typeof options === 'boolean') return { enabled: options };
  if (options === undefined) return {};
  const o = options as WatchdogOptions | null;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.watchdog: expected a boolean or ${OPTIONS_SHAPE}, got ${describeValue(options)}`,
    );
  }
  for (const key of ['enabled', 'stacks', 'timers'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob.watchdog: expected \`${key}\` to be a boolean, got ${describeValue(o[key])}`,
      );
    }
  }
  const unknown = unknownOption(o, OPTION_KEYS);
  if (unknown !== undefined) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `tlob.watchdog: unknown option \`${unknown}\` (expected ${OPTIONS_SHAPE})`,
    );
  }
  if (o.grace === undefined) return o;
  const graceNs = toDurationNs(o.grace, 'grace', 'tlob.watchdog');
  // a number of milliseconds is not checked for its sign by `toDurationNs` ('-20ms' does not parse)
  if (!(graceNs >= 0 && graceNs <= MAX_GRACE_NS)) {
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_BUDGET',
      `tlob.watchdog: expected \`grace\` to be a duration from 0 to 3600s like "5ms", got ${describeValue(o.grace)}`,
    );
  }
  return { ...o, graceNs };
}

function status(): WatchdogStatus {
  const enabled = board !== undefined;
  return {
    enabled,
    running:
      board !== undefined &&
      joined(board) &&
      // a worker thread that joined through its up word: the watchdog thread it joined still runs
      (joinedGeneration === 0 || (upWord !== undefined && Atomics.load(upWord, UP) === joinedGeneration)),
    stacks: enabled && stacks,
    timers: enabled && timers,
    graceNs,
    degraded,
  };
}

/**
 * Turns the watchdog on (or off, or changes its settings) for this thread and returns the settings
 * in force; with no argument it only returns them. The main thread starts the watchdog thread in
 * the turn after its first window that has a deadline or its first worker thread (never inside a
 * window); it serves every thread of the process that turned it on (a worker thread joins it
 * through the main thread's up word, if the main thread turned it on before starting it).
 * @example tlob.watchdog({ grace: '5ms', stacks: true });
 */
let exitWaits = false;

/** Longest the exit of the main thread waits for a stack the watchdog is printing. */
const EXIT_WAIT_MS = 250;

/**
 * At the main thread's exit: no inspector session of a watchdog thread is left connected (see
 * `inspector-sessions.ts`), and if the watchdog is still waiting for this thread's stack (asked
 * while the thread was blocked, answered when it ran JS again, just before exiting), it gets a
 * moment to print it. The stack was read on this thread already; only the worker's write is awaited.
 */
function waitForPendingStack(): void {
  closeInspectorSessions(EXIT_WAIT_MS);
  const b = board;
  if (b !== undefined && Atomics.load(b.i32, layout.I_STACK_PENDING) === 1)
    Atomics.wait(b.i32, layout.I_STACK_PENDING, 1, EXIT_WAIT_MS);
}

/** Timer slots the watchdog could not replace, each warned about once per process. */
const unwatchedTimers = new Set<string>();

/** `trackTimers(on)`, with one warning for each slot it cannot replace (the watchdog stays on). */
function watchTimers(on: boolean): void {
  const left = trackTimers(on).filter((name) => !unwatchedTimers.has(name));
  if (left.length === 0) return;
  for (const name of left) unwatchedTimers.add(name);
  const names = left.map((name) => `\`${name}\``).join(', ');
  warn(
    `tlob: timer readiness is off for ${names}: it cannot be replaced (a read-only property); a window ` +
      'waiting on such a timer while another call blocks the thread is reported sleeping',
  );
}

export function watchdog(options?: WatchdogOptions | boolean): WatchdogStatus {
  if (options === undefined) return status();
  const o = checkOptions(options);
  if (o.graceNs !== undefined) graceNs = o.graceNs;
  if (o.stacks !== undefined) stacks = o.stacks;
  if (o.timers !== undefined) {
    timers = o.timers;
    if (board !== undefined) watchTimers(timers);
  }
  if (o.enabled === false) {
    if (board !== undefined) {
      deadlines.watcher = undefined;
      watchdogHooks.sync = undefined;
      board.publishEarliest(undefined, 'log');
      if (pendingStart !== undefined) clearImmediate(pendingStart);
      pendingStart = undefined;
      if (started) post({ type: 'leave', key: token });
      if (isMainThread && upWord !== undefined) setUpWord(upWord, 0);
      joinedGeneration = 0;
      channel?.close();
      port?.close();
      void worker?.terminate(); // turned on again, this thread starts a new one
      channel = undefined;
      port = undefined;
      worker = undefined;
      board = undefined;
      macrotasks.counter = undefined;
      started = false;
      trackTimers(false);
    }
    return status();
  }
  if (board !== undefined) return status();
  const off = unavailable();
  if (off !== undefined) {
    degraded = off;
    warn(`tlob: the watchdog is off: ${off}`);
    return status();
  }
  if (stacks && isMainThread) {
    const why = noStacks();
    if (why !== undefined) {
      degraded = why;
      stacks = false;
      warn(`tlob: the watchdog reports without stacks: ${why}`);
    }
  }
  const b = new ThreadBoard(
    (index, name) => {
      if (started) post({ type: 'name', key: token, index, name });
    },
    reactorSource,
    () => {
      // a worker thread with an up word joins through it (`followUpWord`), not at its first window
      if (!started && pendingStart === undefined && (isMainThread || upWord === undefined)) startSoon(b);
    },
  );
  board = b;
  macrotasks.counter = new Int32Array(b.buffer, layout.I_PROGRESS * 4, 1);
  (globalThis as Record<symbol, unknown>)[Symbol.for(HELD_VIOLATION_KEY)] = heldViolation;
  if (isMainThread && !exitWaits) {
    exitWaits = true;
    process.on('exit', waitForPendingStack);
  }
  deadlines.watcher = b; // the board itself: the queue calls it on every transition of its top
  watchdogHooks.sync = board; // synchronous windows: written into its slots, never queued
  watchTimers(timers);
  if (isMainThread) {
    upWord = mainUpWord(); // before the worker threads it starts from now on
    if (!listensForWorkers) {
      listensForWorkers = true;
      process.on('worker', workerStarted);
    }
    // turned on again: the worker threads started meanwhile wait for a watchdog thread
    if (workersSeen) startSoon(b, true);
  } else {
    upWord = inheritedUpWord();
    if (upWord !== undefined) {
      const word = upWord;
      b.joinCheck = () => joinUp(b, word);
      runOutside(followUpWord, b, word);
    }
  }
  return status();
}

/**
 * Called when the engine is about to report a violation of `window`. If the watchdog took it, the
 * fields of its detection (how late it was found, the stack, `detectedBy`); otherwise undefined,
 * and the watchdog may not take a window until `releaseWatchdogClaim`. The state and the split at
 * the deadline stay the thread's own, made now that it moves again: the watchdog's (its line)
 * knew only the window's transitions and the timers and immediates it made, where the thread also
 * knows when a promise it awaited settled.
 */
export function watchdogTakeover(
  window: Window,
): { fields: Record<string, unknown>; reported: boolean } | undefined {
  const b = board;
  if (b === undefined) return undefined;
  const i32 = b.i32;
  const old = Atomics.compareExchange(i32, layout.I_CLAIM, 0, -1);
  if (old === 0) {
    selfClaimed = window.id;
    return undefined;
  }
  if (old !== window.id) return undefined;
  takenOver = window.id;
  const f64 = b.f64;
  const deadlineMs = f64[layout.F_REPORT_DEADLINE] as number;
  const detectedMs = f64[layout.F_REPORT_DETECTED] as number;
  return {
    fields: {
      reportedLateNs: Math.round((detectedMs - deadlineMs) * 1e6),
      event: BUDGET_EXPIRED,
      detectedBy: 'watchdog',
      stack: captured?.id === window.id ? captured.stack : undefined,
    },
    // past its rate limit the watchdog wrote no line: the reactor reports the window as usual
    reported: Atomics.load(b.i32, layout.I_REPORT_WRITTEN) === 1,
  };
}

/**
 * The violation the watchdog reported from its own thread for a window of this thread that is
 * still open and that this thread has not reported yet (its thread was held since): the record the
 * engine would publish at the deadline, from what the watchdog measured. Undefined when there is
 * none. For what must be saved while the thread is still held, as when a signal is handed over to
 * it (the run data), and before the thread can report the window itself.
 */
export function heldViolation(): TlobViolation | undefined {
  const b = board;
  if (b === undefined) return undefined;
  const i32 = b.i32;
  const f64 = b.f64;
  const id = Atomics.load(i32, layout.I_CLAIM);
  if (id <= 0 || id === takenOver) return undefined;
  const deadlineMs = f64[layout.F_REPORT_DEADLINE] as number;
  const detectedMs = f64[layout.F_REPORT_DETECTED] as number;
  const running = Math.round((f64[layout.F_REPORT_RUNNING] as number) * 1e6);
  const waiting = Math.round((f64[layout.F_REPORT_WAITING] as number) * 1e6);
  const sleeping = Math.round((f64[layout.F_REPORT_SLEEPING] as number) * 1e6);
  const stack = captured?.id === id ? captured.stack : undefined;
  const budgetNs = Math.round((f64[layout.F_REPORT_BUDGET] as number) * 1e6);
  return {
    monitor: 'tlob',
    name: b.names[i32[layout.I_REPORT_NAME] as number] ?? '(unknown)',
    id,
    state: tlobModel.states[i32[layout.I_REPORT_STATE] as number] ?? 'running',
    event: BUDGET_EXPIRED,
    at: deadlineMs,
    reportedLateNs: Math.round((detectedMs - deadlineMs) * 1e6),
    budgetNs,
    elapsedNs: budgetNs, // the split is as of the deadline (its parts, rounded apart, may sum 1 ns off)
    runningNs: running,
    waitingNs: waiting,
    sleepingNs: sleeping,
    detectedBy: 'watchdog',
    ...(stack === undefined ? {} : { stack }),
  };
}

/**
 * The violation of `window` has been reported, or it ended without one: the watchdog may take
 * windows of this thread again.
 */
export function releaseWatchdogClaim(window: Window): void {
  const b = board;
  if (b === undefined) return;
  if (takenOver === 0 && selfClaimed === 0 && Atomics.load(b.i32, layout.I_CLAIM) === window.id) {
    // taken by the watchdog, but the window ended without a violation (its promise had settled
    // by the return, which the thread learnt only at the deadline)
    Atomics.store(b.i32, layout.I_CLAIM, 0);
    b.ring();
  } else if (selfClaimed === window.id) {
    selfClaimed = 0;
    Atomics.store(b.i32, layout.I_DONE, window.id);
    Atomics.store(b.i32, layout.I_CLAIM, 0);
  } else if (takenOver === window.id) {
    takenOver = 0;
    captured = undefined;
    Atomics.store(b.i32, layout.I_CLAIM, 0);
    b.ring();
  }
}

watchdogHooks.takeover = watchdogTakeover;
watchdogHooks.releaseClaim = releaseWatchdogClaim;
