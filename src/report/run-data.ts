import { SparseHistogram, type SparseHistogramData } from './sparse-histogram.js';
import { MAX_NAMES, OTHER_NAME } from './stats.js';
import type { TimelineData } from './timeline.js';
import type { Violation } from './violation.js';

/** The quantities measured per window. */
export const QUANTITIES = ['elapsed', 'running', 'waiting', 'sleeping'] as const;

/** One name's windows in one thread (or merged over several). */
export interface NameData {
  name: string;
  /** The budget of the last window seen (ns). */
  budgetNs: number;
  /** Finished windows. */
  count: number;
  violations: number;
  elapsed: SparseHistogramData;
  running: SparseHistogramData;
  waiting: SparseHistogramData;
  sleeping: SparseHistogramData;
}

/** What one thread of a program run under `tlob run` writes at exit (`tlob-<pid>-<threadId>.json`). */
export interface ThreadData {
  version: 1;
  pid: number;
  ppid: number;
  threadId: number;
  argv: string[];
  names: NameData[];
  /** Violation records, oldest first, up to a bound. */
  violations: Violation[];
  /** Violations not kept in `violations` because the bound was reached. */
  violationsDropped: number;
  timeline: TimelineData | undefined;
  /**
   * Set on a thread's saves before it ended (at its start; a worker thread's every second): when
   * the run was read, the thread had ended without its final write (a worker terminated, or still
   * running when its process exited; a process killed by a signal it does not handle), and its data
   * is what it had at its last save.
   */
  partial?: boolean;
  /**
   * The modules the thread's probes name, whether each loaded, and its probes with their window
   * names (absent: none, or older data; `probes` absent in older data).
   */
  probedModules?: { module: string; loaded: boolean; probes?: { path: string; name: string }[] }[];
  /**
   * The thread's probes that a loading instance of their module refused, with the message that
   * said why (absent: none, or older data).
   */
  refusedProbes?: { module: string; path: string; reason: string }[];
  /** The names of the thread's windows still in flight when it wrote this (absent in older data). */
  namesInFlight?: string[];
}

/** The data of a whole run: every thread's file, and their names merged. */
export interface RunData {
  version: 1;
  command: string[];
  /** Per name, over all processes and threads. */
  names: NameData[];
  /** Every thread's violations, with the process's pid (and the thread's id, for a worker thread). */
  violations: (Violation & { pid: number; threadId?: number })[];
  violationsDropped: number;
  threads: ThreadData[];
  /** Modules that probes name and that loaded in no thread of the run (absent in older data). */
  unloadedProbeModules?: string[];
  /**
   * Probes (`module:path`) on modules that loaded, through which no call came in any thread of the
   * run: no window of their name (absent in older data).
   */
  uncalledProbes?: string[];
  /**
   * Probes that a loading instance of their module refused in some thread of the run, once each,
   * with why (absent in older data).
   */
  refusedProbes?: { probe: string; reason: string }[];
}

/** Accumulates the windows of one name. */
export class NameRecorder {
  count = 0;
  violations = 0;
  budgetNs = 0;
  readonly h = {
    elapsed: new SparseHistogram(),
    running: new SparseHistogram(),
    waiting: new SparseHistogram(),
    sleeping: new SparseHistogram(),
  };

  constructor(readonly name: string) {}

  toJSON(): NameData {
    return {
      name: this.name,
      budgetNs: this.budgetNs,
      count: this.count,
      violations: this.violations,
      elapsed: this.h.elapsed.toJSON(),
      running: this.h.running.toJSON(),
      waiting: this.h.waiting.toJSON(),
      sleeping: this.h.sleeping.toJSON(),
    };
  }
}

/**
 * Merges per-name data of several threads: counts add, histograms merge, the largest budget wins.
 * Past `MAX_NAMES` names, further ones are merged under `(other)`, as in each thread.
 */
function mergeNames(lists: readonly NameData[][]): NameData[] {
  const merged = new Map<string, NameRecorder>();
  for (const list of lists) {
    for (const n of list) {
      const name = merged.has(n.name) || merged.size < MAX_NAMES ? n.name : OTHER_NAME;
      let r = merged.get(name);
      if (r === undefined) merged.set(name, (r = new NameRecorder(name)));
      r.count += n.count;
      r.violations += n.violations;
      r.budgetNs = Math.max(r.budgetNs, n.budgetNs);
      for (const q of QUANTITIES) r.h[q].merge(n[q]);
    }
  }
  return [...merged.values()].map((r) => r.toJSON());
}

/** A violation the watchdog reported for a window of a worker thread (see `addHeldViolations`). */
export interface HeldViolation {
  pid: number;
  threadId: number;
  violation: Violation;
}

/**
 * Adds to the threads' data the violations the watchdog reported for windows of worker threads that
 * never reported them themselves (held until they were terminated: their saves run on their own
 * thread). One the thread's data has already (same id) is left out: the thread's own record wins.
 */
export function addHeldViolations(threads: ThreadData[], held: readonly HeldViolation[]): void {
  for (const { pid, threadId, violation } of held) {
    const thread = threads.find((t) => t.pid === pid && t.threadId === threadId);
    if (thread === undefined || thread.violations.some((v) => v.id === violation.id)) continue;
    thread.violations.push(violation);
    let name = thread.names.find((n) => n.name === violation.name);
    if (name === undefined) {
      name = new NameRecorder(violation.name).toJSON();
      thread.names.push(name);
    }
    name.violations++;
    if (typeof violation.budgetNs === 'number') name.budgetNs = violation.budgetNs;
  }
}

/** Combines the files of the threads of one run. */
export function mergeRun(command: string[], threads: ThreadData[]): RunData {
  threads.sort((a, b) => a.pid - b.pid || a.threadId - b.threadId);
  const violations = threads
    .flatMap((t) =>
      t.violations.map((v) => ({ ...v, pid: t.pid, ...(t.threadId === 0 ? {} : { threadId: t.threadId }) })),
    )
    .sort((a, b) => a.at - b.at);
  return {
    version: 1,
    command,
    names: mergeNames(threads.map((t) => t.names)),
    violations,
    violationsDropped: threads.reduce((n, t) => n + t.violationsDropped, 0),
    threads,
    unloadedProbeModules: unloadedModules(threads),
    uncalledProbes: uncalledProbes(threads),
    refusedProbes: refusedProbes(threads),
  };
}

/**
 * The probes on modules that loaded whose window name has no window, finished or in flight, nor
 * violation in any thread (two probes of one name count as called if either was).
 * None is told when names went to `(other)` (a probe's may be among them); a probe that loaded in
 * a thread that ended without its final write may have been called after its last save.
 */
function uncalledProbes(threads: readonly ThreadData[]): string[] {
  const seen = new Set<string>();
  for (const t of threads) {
    for (const n of t.names) if (n.count > 0 || n.violations > 0) seen.add(n.name);
    for (const v of t.violations) seen.add(v.name);
    for (const name of t.namesInFlight ?? []) seen.add(name);
  }
  if (seen.has(OTHER_NAME)) return [];
  const uncalled = new Set<string>();
  const unsure = new Set<string>();
  for (const t of threads)
    for (const m of t.probedModules ?? [])
      if (m.loaded)
        for (const p of m.probes ?? [])
          if (!seen.has(p.name)) (t.partial === true ? unsure : uncalled).add(`${m.module}:${p.path}`);
  return [...uncalled].filter((probe) => !unsure.has(probe));
}

/**
 * The probes (`module:path`) that a loading module refused in any thread, with why, once each (the
 * processes of one run apply the same specs).
 */
function refusedProbes(threads: readonly ThreadData[]): { probe: string; reason: string }[] {
  const refused = new Map<string, { probe: string; reason: string }>();
  for (const t of threads)
    for (const r of t.refusedProbes ?? []) {
      const probe = `${r.module}:${r.path}`;
      refused.set(`${probe}\n${r.reason}`, { probe, reason: r.reason });
    }
  return [...refused.values()];
}

/**
 * The modules that threads' probes name and that none of the threads loaded. A thread that ended
 * without its final write (killed by a signal, still running when `tlob run` stopped waiting) may
 * have loaded a module after its last save: a module it had not loaded then is not told, whatever
 * the other threads say (`tlob run -- npm start`: npm's own process never loads the server's
 * modules; the server's process, stopped without its data, may have).
 */
function unloadedModules(threads: readonly ThreadData[]): string[] {
  const loaded = new Map<string, boolean>();
  const unsure = new Set<string>();
  for (const t of threads) {
    for (const m of t.probedModules ?? []) {
      if (m.loaded) loaded.set(m.module, true);
      else if (t.partial === true) unsure.add(m.module);
      else if (!loaded.has(m.module)) loaded.set(m.module, false);
    }
  }
  return [...loaded].filter(([module, was]) => !was && !unsure.has(module)).map(([module]) => module);
}

/** Percentiles (ns) of one quantity of a name. */
export function percentiles(data: SparseHistogramData, ps: readonly number[]): number[] {
  const h = SparseHistogram.from(data);
  return ps.map((p) => h.percentile(p));
}

/**
 * How long a violating call really took, and whether that is its end: the elapsed time when its
 * window ended (`endedElapsedNs`, which the collector of `tlob run` adds), else, for a window still
 * open when its thread wrote its data (or data without the field), the least it took: how long it
 * had run when its thread wrote its data (`runningAtWriteNs`, added by the collector too), or
 * the elapsed time when the violation was found (the budget, and how late it was found).
 */
export function violationElapsed(v: Violation): { ns: number; ended: boolean } {
  if (typeof v.endedElapsedNs === 'number') return { ns: v.endedElapsedNs, ended: true };
  const atDeadline = typeof v.elapsedNs === 'number' ? v.elapsedNs : Number(v.budgetNs ?? 0);
  // a call still running when its thread wrote its data had run at least until then
  const found = atDeadline + (v.reportedLateNs ?? 0);
  const atWrite = typeof v.runningAtWriteNs === 'number' ? v.runningAtWriteNs : 0;
  return { ns: Math.max(found, atWrite), ended: false };
}

/** How many times its budget a violating call took (0 without a budget). */
export function overBudgetRatio(v: Violation): number {
  const budget = Number(v.budgetNs ?? 0);
  return budget > 0 ? violationElapsed(v).ns / budget : 0;
}

/**
 * The violations, worst first: by how many times its budget the call took, then by how long it
 * took, so that a 1 ms call that took 50 ms comes before a 30 ms call that took 33 ms.
 */
export function worstFirst<V extends Violation>(violations: readonly V[]): V[] {
  return violations
    .map((v) => ({ v, ratio: overBudgetRatio(v), ns: violationElapsed(v).ns }))
    .sort((a, b) => b.ratio - a.ratio || b.ns - a.ns)
    .map((x) => x.v);
}
