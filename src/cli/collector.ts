import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import { EXPIRE_DUE, QUEUED } from '../engine/deadline-queue.js';
import type { WindowResult } from '../monitors/tlob/result.js';
import { probedModules, refusedProbes } from '../probes/probed-modules.js';
import { nowMs, setImmediate, setInterval } from '../real-timers.js';
import { reportInternalError } from '../report/errors.js';
import { writeJsonFile } from '../report/json-file.js';
import { NameRecorder, type ThreadData } from '../report/run-data.js';
import { MAX_NAMES, OTHER_NAME } from '../report/stats.js';
import type { timeline as Timeline, TimelineColumns } from '../report/timeline.js';
import { toChromeTrace } from '../report/trace-export.js';
import type { Violation } from '../report/violation.js';
import { closeInspectorSessions, reopenInspectorSessions } from '../watchdog/inspector-sessions.js';
import {
  HELD_VIOLATION_KEY,
  RUN_SIGNALS_FILE,
  RUN_SIGNALS_KEY,
  type RunSignals,
  signalAck,
} from '../watchdog/run-signals.js';

/** How often a worker thread saves its data so far (see `collectTo`). */
const WORKER_SAVE_MS = 1000;

/** Longest the main thread waits for the watchdog's inspector sessions to disconnect before it ends by a signal. */
const SESSIONS_WAIT_MS = 250;

/** Violation records kept per thread for the report; further ones are only counted. */
const MAX_VIOLATIONS = 1000;

/**
 * Collects what `tlob run` reports for this thread: per-name histograms of every finished window
 * (from `tlob:stop`), the violations (from `tlob:error`) and, when asked, the timeline. At exit it
 * writes them to `<dir>/tlob-<pid>-<threadId>.json` with a synchronous write (exit handlers cannot
 * wait). On the main thread the first `SIGINT`, `SIGTERM` or `SIGHUP` writes the data too (without the
 * timeline when the program handles the signal itself); when the program has no handler of its own,
 * it then ends the process by the same signal, which Node's default death would do without running
 * any exit handler. After that first one, the signal is left to the program. A thread held in a
 * synchronous loop runs no listener: the signals that reached `tlob run` are then handed over by
 * the watchdog, when it runs (see `run-signals.ts`).
 */
export function collectTo(dir: string, recorder: typeof Timeline | undefined): void {
  const names = new Map<string, NameRecorder>();
  const violations: Violation[] = [];
  /** The kept violations of windows not yet ended, by window id: their end gives `endedElapsedNs`. */
  const open = new Map<number, Record<string, unknown>>();
  /** Of those, the ones kept from the watchdog's report while the thread was held (`keepHeld`). */
  const heldIds = new Set<number>();
  let violationsDropped = 0;
  /** The recorder of `name`; past `MAX_NAMES` names, the shared `(other)` one (as `tlob.stats()`). */
  const recorderFor = (name: string) => {
    let r = names.get(name);
    if (r !== undefined) return r;
    if (names.size >= MAX_NAMES) {
      r = names.get(OTHER_NAME);
      if (r !== undefined) return r;
      name = OTHER_NAME;
    }
    names.set(name, (r = new NameRecorder(name)));
    return r;
  };
  // The subscribers run on the observed call path: a failure of ours is reported, never thrown.
  const guarded = (listener: (message: unknown) => void) => (message: unknown) => {
    try {
      listener(message);
    } catch (error) {
      reportInternalError('run data collector', error);
    }
  };
  subscribe(
    'tlob:stop',
    guarded((message) => {
      const r = message as WindowResult;
      const n = recorderFor(r.name);
      n.count++;
      n.budgetNs = r.budgetNs;
      n.h.elapsed.record(r.elapsedNs);
      n.h.running.record(r.runningNs);
      n.h.waiting.record(r.waitingNs);
      n.h.sleeping.record(r.sleepingNs);
      if (r.overBudget && open.size > 0) {
        const v = open.get(r.id);
        if (v !== undefined && v.name === r.name) {
          v.endedElapsedNs = r.elapsedNs;
          // a save while it ran said how long it had run by then: it has ended since
          delete v.runningAtWriteNs;
        }
        open.delete(r.id);
      }
      noteSeen();
    }),
  );
  subscribe(
    'tlob:error',
    guarded((message) => {
      const v = message as Violation;
      const n = recorderFor(v.name);
      if (typeof v.budgetNs === 'number') n.budgetNs = v.budgetNs;
      const held = v.monitor === 'tlob' && heldIds.delete(v.id) ? open.get(v.id) : undefined;
      if (held !== undefined) {
        // kept from the watchdog's report while the thread was held: now the thread's own record
        for (const key of Object.keys(held)) delete held[key];
        Object.assign(held, v);
        noteSeen();
        return;
      }
      n.violations++;
      if (violations.length < MAX_VIOLATIONS) {
        const kept: Record<string, unknown> = { ...v }; // the record is frozen; its window's end is added
        violations.push(kept as Violation);
        if (v.monitor === 'tlob') open.set(v.id, kept);
      } else violationsDropped++;
      noteSeen();
    }),
  );

  let written = false;
  /** Windows stopped and violations seen, for the worker thread's saves: nothing new, no save. */
  let seen = 0;
  let saved = -1;
  /** The run ended before this thread could save what it saw: said once. */
  let outlived = false;
  /**
   * A worker thread also saves at once when the count of what it saw reaches a power of two: a
   * pool that ends its workers as soon as they are idle terminates them well within a second of
   * their windows, which then had no save (a few saves per worker, each ~0.1 ms with a few names).
   */
  const noteSeen = () => {
    seen++;
    if (!isMainThread && (seen & (seen - 1)) === 0) saveSoFar();
  };
  const file = join(dir, `tlob-${process.pid}-${threadId}.json`);
  /** The calls over budget that have not ended: how long each had run by now (the write). */
  const noteOpenCalls = () => {
    const epochMs = performance.timeOrigin + nowMs();
    for (const v of open.values()) {
      const startMs = Number(v.at) - Number(v.elapsedNs) / 1e6; // `at` is the deadline's time
      if (Number.isFinite(startMs)) v.runningAtWriteNs = Math.round((epochMs - startMs) * 1e6);
    }
  };
  // the timeline as views of its buffer: written as arrays of numbers, the text of `ThreadData`
  const data = (
    partial: boolean,
    withTimeline: boolean,
  ): Omit<ThreadData, 'timeline'> & { timeline: TimelineColumns | undefined } => ({
    version: 1,
    pid: process.pid,
    ppid: process.ppid,
    threadId,
    argv: process.argv.slice(1),
    names: [...names.values()].map((n) => n.toJSON()),
    violations,
    violationsDropped,
    // a worker's saves while it runs leave the timeline to its final write: up to a million events,
    // serialised every second on the worker's own thread, held it for hundreds of ms
    timeline: recorder?.enabled && withTimeline ? recorder.columns() : undefined,
    ...(partial ? { partial } : {}),
    probedModules: probedModules(),
    refusedProbes: refusedProbes(),
    namesInFlight: namesInFlight(),
  });
  /**
   * A window over budget that the watchdog reported while this thread was held, and that the
   * thread could not report since (a signal handed over, `process.exit()` inside it): kept from
   * the watchdog's record, as the thread's own would be, and replaced by that one if it comes.
   */
  const keepHeld = () => {
    const held = (globalThis as Record<symbol, (() => Violation | undefined) | undefined>)[
      Symbol.for(HELD_VIOLATION_KEY)
    ];
    const v = held?.();
    if (v === undefined || open.has(v.id)) return;
    const n = recorderFor(v.name);
    n.violations++;
    if (typeof v.budgetNs === 'number') n.budgetNs = v.budgetNs;
    if (violations.length >= MAX_VIOLATIONS) {
      violationsDropped++;
      return;
    }
    const kept: Record<string, unknown> = { ...v };
    violations.push(kept as Violation);
    open.set(v.id, kept);
    heldIds.add(v.id);
  };
  // whole or not at all: a thread stopped while writing (a terminated worker) leaves the last file
  const save = (partial: boolean, withTimeline = !partial) => {
    try {
      keepHeld();
      noteOpenCalls();
      const temporary = join(dir, `.${threadId}-${process.pid}.tmp`);
      writeJsonFile(temporary, data(partial, withTimeline));
      renameSync(temporary, file);
    } catch (error) {
      // the directory is gone: the run it was for has ended (a process that outlived it by more
      // than `tlob run` waits for, or that started too late for it to know)
      if (!existsSync(dir)) {
        if (!outlived && seen > 0) {
          outlived = true;
          const thread = isMainThread ? '' : ` thread ${threadId}`;
          process.stderr.write(
            `tlob: process ${process.pid}${thread} outlived its \`tlob run\`, which ended before it could save its data: its windows are not in the run's outputs\n`,
          );
        }
        return;
      }
      process.stderr.write(`tlob: cannot write the run data to ${dir}: ${(error as Error).message}\n`);
    }
  };
  const write = () => {
    if (written) return;
    written = true;
    // windows whose deadline passed while the thread was held until now (or with no watchdog):
    // their timer will never run, so they are reported now, each as of its deadline
    try {
      (globalThis as Record<symbol, (() => void) | undefined>)[EXPIRE_DUE]?.();
    } catch (error) {
      reportInternalError('expiring the windows past their deadline at the end of the thread', error);
    }
    save(false);
  };
  process.on('exit', write);
  // A worker thread that is terminated, or still running when its process exits, runs no exit
  // handler, nor does a process killed by a signal it does not handle. Each thread saves what it
  // has when it starts, marked partial and without its timeline, so that it is known to have been
  // there (and `tlob run` waits for the processes it finds there); a worker thread saves again every
  // second (when something new came, or a call over budget is still running), and at its 1st, 2nd,
  // 4th, 8th… window or violation (`noteSeen`), so that its windows up to then are counted. (A main
  // thread does not: with up to a thousand violation records, a save holds the thread for
  // milliseconds, which its windows would count as waiting.)
  const saveSoFar = () => {
    // a call over budget still running has run longer since the last save: saved again
    if (written || (seen === saved && open.size === 0)) return;
    saved = seen;
    save(true);
  };
  saveSoFar();
  if (!isMainThread) {
    setInterval(saveSoFar, WORKER_SAVE_MS).unref();
    return;
  }
  // A signal that came while the thread was held waits in the event loop's queue, read in its next
  // poll: a program with nothing left to do then exits without one, ending 0 where Node's default
  // death by the signal would have ended it. One more turn reads it, when nothing else would make
  // one (another `beforeExit` listener would run twice).
  process.once('beforeExit', () => {
    if (process.listenerCount('beforeExit') === 0) setImmediate(() => {});
  });
  /** The listeners of the signals not yet taken. */
  const listeners = new Map<string, () => void>();
  const take = (signal: string, handedOver = false) => {
    const listener = listeners.get(signal);
    if (listener === undefined) return false; // taken already, or not one tlob listens to
    // from the first one on, the signal is the program's alone: a library that raises it again
    // once its own listeners are the only ones left (signal-exit) must find only those
    listeners.delete(signal);
    process.removeListener(signal, listener);
    if (process.listenerCount(signal) > 0) {
      // the program handles it: it may end by it (the data so far is saved now, without the
      // timeline, whose copy would hold the thread for up to hundreds of ms while its windows
      // shut down) or exit its own way (then the exit handler saves it all)
      save(false, false);
      return false;
    }
    write();
    if (handedOver) {
      // called inside the watchdog's evaluation, whose session stays connected until it returns:
      // the watchdog ends the process then; a thread that gets to its exit before that signal
      // lands (the loop returned, nothing left to do) ends by the signal too
      process.once('exit', () => {
        closeInspectorSessions(SESSIONS_WAIT_MS);
        process.kill(process.pid, signal);
      });
      return true;
    }
    // a watchdog's inspector session still connected when the process ends makes Node print
    // "Waiting for the debugger to disconnect..."
    closeInspectorSessions(SESSIONS_WAIT_MS);
    process.kill(process.pid, signal);
    reopenInspectorSessions(); // the signal did not end the process
    return true;
  };
  const signalsFile = join(dir, RUN_SIGNALS_FILE);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const listener = () => {
      // first thing (this listener was added before the program's): `tlob run` waits for it to
      // know whether the signal came to the whole process group or to tlob alone
      try {
        appendFileSync(signalsFile, `${signalAck(signal, process.pid)} ${Date.now()}\n`);
      } catch {
        // the directory is gone: `tlob run` passes the signal on
      }
      take(signal);
    };
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
  const relay: RunSignals = { file: signalsFile, take };
  (globalThis as Record<symbol, unknown>)[Symbol.for(RUN_SIGNALS_KEY)] = relay;
}

/** The names of the windows of this thread still in flight (in its deadline queue), each once. */
function namesInFlight(): string[] {
  const queued = (globalThis as Record<symbol, (() => readonly unknown[]) | undefined>)[QUEUED]?.() ?? [];
  const names = new Set<string>();
  for (const item of queued) {
    const name = (item as { name?: unknown }).name;
    if (typeof name === 'string') names.add(name);
  }
  return [...names];
}

/**
 * Where a thread writes its trace: `%p` becomes the pid and `%t` the thread id; a worker thread
 * whose name has no `%t` writes next to the main thread's file, `-t<threadId>` before the extension,
 * so that the threads of one process do not overwrite each other's.
 */
export function tracePath(file: string, pid: number, thread: number): string {
  const path = file.replaceAll('%p', String(pid));
  if (file.includes('%t')) return path.replaceAll('%t', String(thread));
  if (thread === 0) return path;
  const dot = path.lastIndexOf('.');
  const slash = path.lastIndexOf('/');
  return dot > slash + 1 ? `${path.slice(0, dot)}-t${thread}${path.slice(dot)}` : `${path}-t${thread}`;
}

/**
 * Writes this thread's timeline as a Chrome trace at exit (`TLOB_TRACE=file` without `tlob run`),
 * to `tracePath(file, …)`. Not at a signal the program does not handle: listening for one would
 * keep a program held in a synchronous loop from dying by it, and without `tlob run`, which hands
 * the signals it receives over through the watchdog, nothing would deliver it then.
 */
export function writeTraceAtExit(file: string, recorder: typeof Timeline): void {
  process.on('exit', () => {
    const path = tracePath(file, process.pid, isMainThread ? 0 : threadId);
    try {
      writeJsonFile(path, toChromeTrace([recorder.columns()]));
    } catch (error) {
      process.stderr.write(`tlob: cannot write the trace to ${path}: ${(error as Error).message}\n`);
    }
  });
}
