import { LaneEnds } from './lane-ends.js';
import {
  type NameData,
  percentiles,
  QUANTITIES,
  type RunData,
  violationElapsed,
  worstFirst,
} from './run-data.js';
import { SparseHistogram } from './sparse-histogram.js';
import { type TimelineWindow, timelineWindows } from './timeline-windows.js';
import { traceTid } from './trace-export.js';

/** Windows drawn in the report's timeline at most; beyond, violators and an even sample are kept. */
const MAX_TIMELINE_WINDOWS = 20_000;
/** Violations listed in the report at most (the worst, worst first). */
const MAX_LISTED_VIOLATIONS = 500;
/** Names drawn as histograms (those with the most windows); every name stays in the table. */
const MAX_HISTOGRAMS = 60;

/** What the HTML report's script draws: aggregated, sampled, in microseconds (integers) and ns. */
interface ReportModel {
  command: string;
  names: {
    name: string;
    budgetNs: number;
    count: number;
    violations: number;
    /** p50, p90, p99 (ns) of elapsed, running, waiting, sleeping. */
    pct: number[][];
    /**
     * Total running, waiting, sleeping (ns), and the time of windows past their violations, when
     * they were no longer monitored: together, the total elapsed time of the name's windows.
     */
    share: number[];
    /** Elapsed histogram: lower edges (ns) and counts, 4 bins per power of two; only for the names drawn. */
    hist: { edges: number[]; counts: number[] } | undefined;
  }[];
  violations: {
    atMs: number;
    name: string;
    id: number;
    pid: number;
    /** The thread the window ran on: 0 for the main thread, else the worker's `threadId`. */
    thread: number;
    state: string;
    event: string;
    /** At the violation (the budget running out): elapsed, running, waiting, sleeping (ns). */
    split: number[];
    budgetNs: number;
    /** How long the call took (ns): at its end, or, when it had not ended, the least it took. */
    tookNs: number;
    ended: boolean;
    /** How late the violation was found (ns). */
    lateNs: number;
    stack: string | undefined;
  }[];
  violationsTotal: number;
  timeline: {
    /** Windows recorded in all. */
    total: number;
    /** Lane groups: one per thread, with its label and lane count. */
    groups: { label: string; lanes: number }[];
    names: string[];
    /**
     * Windows, flat: `lane, name, startUs, endUs, flags, segments, (kind, fromUs)…` where lane
     * counts across groups, flags bit 0 = over budget and bit 1 = unfinished.
     */
    w: number[];
    dropped: number;
  };
}

const BINS_PER_OCTAVE = 4;

function elapsedHistogram(n: NameData): { edges: number[]; counts: number[] } {
  const per = 32 / BINS_PER_OCTAVE;
  const bins = new Map<number, number>();
  for (const [b, c] of SparseHistogram.from(n.elapsed).entries()) {
    const bin = b === 0 ? -1 : Math.floor((b - 1) / per);
    bins.set(bin, (bins.get(bin) ?? 0) + c);
  }
  const keys = [...bins.keys()].sort((a, b) => a - b);
  if (keys.length === 0) return { edges: [], counts: [] };
  const edges: number[] = [];
  const counts: number[] = [];
  for (let k = keys[0] as number; k <= (keys[keys.length - 1] as number); k++) {
    edges.push(k < 0 ? 0 : 2 ** (k / BINS_PER_OCTAVE));
    counts.push(bins.get(k) ?? 0);
  }
  edges.push(2 ** (((keys[keys.length - 1] as number) + 1) / BINS_PER_OCTAVE));
  return { edges, counts };
}

/** Keeps every window over budget and an even sample of the rest, `max` in all. */
function sample(windows: TimelineWindow[], max: number): TimelineWindow[] {
  if (windows.length <= max) return windows;
  const over = windows.filter((w) => w.overBudget).slice(0, max / 2);
  const rest = windows.filter((w) => !w.overBudget);
  const room = max - over.length;
  const step = rest.length / room;
  const kept = new Set(over);
  // by index, not by adding up `step`: its rounding made one more than room
  for (let k = 0; k < room && k < rest.length; k++) kept.add(rest[Math.floor(k * step)] as TimelineWindow);
  return windows.filter((w) => kept.has(w));
}

/** Aggregates and samples run data into what the report draws. */
export function reportModel(data: RunData): ReportModel {
  const origin = Math.min(...data.threads.map((t) => t.timeline?.timeOrigin ?? Number.POSITIVE_INFINITY));
  const threads = data.threads
    .filter((t) => t.timeline !== undefined)
    .map((t) => ({ t, windows: timelineWindows(t.timeline as NonNullable<typeof t.timeline>) }));
  const total = threads.reduce((n, x) => n + x.windows.length, 0);
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const w: number[] = [];
  const groups: { label: string; lanes: number }[] = [];
  let t0 = Number.POSITIVE_INFINITY;
  for (const { t, windows } of threads) {
    const shift = ((t.timeline?.timeOrigin ?? origin) - origin) * 1e6;
    for (const win of windows) t0 = Math.min(t0, win.startNs + shift);
  }
  let laneBase = 0;
  for (const { t, windows } of threads) {
    const shift = ((t.timeline?.timeOrigin ?? origin) - origin) * 1e6 - t0;
    const kept = sample(
      windows,
      Math.max(1, Math.floor((MAX_TIMELINE_WINDOWS * windows.length) / Math.max(1, total))),
    );
    const lanes = new LaneEnds(kept.length);
    // windows over budget take the first lanes, so that a chart too tall to draw every lane still
    // shows them (each pass is in start order, so a lane's windows never overlap)
    const overFirst = [...kept.filter((w) => w.overBudget), ...kept.filter((w) => !w.overBudget)];
    for (const win of overFirst) {
      const lane = lanes.take(win.startNs, win.endNs);
      let ni = nameIndex.get(win.name);
      if (ni === undefined) nameIndex.set(win.name, (ni = names.push(win.name) - 1));
      const us = (ns: number) => Math.round((ns + shift) / 1e3);
      const flags = (win.overBudget ? 1 : 0) | (win.ended ? 0 : 2);
      const segs = win.segments;
      w.push(laneBase + lane, ni, us(win.startNs), us(win.endNs), flags, segs.length / 3);
      for (let i = 0; i < segs.length; i += 3) w.push(segs[i] as number, us(segs[i + 1] as number));
    }
    const label = `pid ${t.pid} ${t.threadId === 0 ? 'main' : `worker ${t.threadId}`} (tid ${traceTid(t.pid, t.threadId)})`;
    groups.push({ label, lanes: lanes.count });
    laneBase += lanes.count;
  }
  const startMs = Number.isFinite(t0)
    ? origin + t0 / 1e6
    : data.violations.reduce((min, v) => Math.min(min, v.at), Number.POSITIVE_INFINITY);
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const drawn = new Set([...data.names].sort((a, b) => b.count - a.count).slice(0, MAX_HISTOGRAMS));
  return {
    command: data.command.join(' '),
    names: data.names.map((n) => ({
      name: n.name,
      budgetNs: n.budgetNs,
      count: n.count,
      violations: n.violations,
      pct: QUANTITIES.map((q) => percentiles(n[q], [50, 90, 99]).map(Math.round)),
      share: shareOf(n),
      hist: drawn.has(n) ? elapsedHistogram(n) : undefined,
    })),
    violations: worstFirst(data.violations)
      .slice(0, MAX_LISTED_VIOLATIONS)
      .map((v) => ({ v, took: violationElapsed(v) }))
      .map(({ v, took }) => ({
        atMs: Math.round((v.at - startMs) * 1000) / 1000,
        name: v.name,
        id: v.id,
        pid: v.pid,
        thread: v.threadId ?? 0,
        state: v.state,
        event: v.event,
        split: [num(v.elapsedNs), num(v.runningNs), num(v.waitingNs), num(v.sleepingNs)],
        budgetNs: num(v.budgetNs),
        tookNs: Math.round(took.ns),
        ended: took.ended,
        lateNs: num(v.reportedLateNs),
        stack: typeof v.stack === 'string' ? v.stack : undefined,
      })),
    violationsTotal: data.violations.length + data.violationsDropped,
    timeline: {
      total,
      groups,
      names,
      w,
      dropped: data.threads.reduce((n, t) => n + (t.timeline?.dropped ?? 0), 0),
    },
  };
}

/** `ReportModel`'s `share` of a name: its running, waiting, sleeping and unmonitored time. */
function shareOf(n: {
  elapsed: { sum: number };
  running: { sum: number };
  waiting: { sum: number };
  sleeping: { sum: number };
}): number[] {
  const monitored = n.running.sum + n.waiting.sum + n.sleeping.sum;
  return [n.running.sum, n.waiting.sum, n.sleeping.sum, Math.max(0, n.elapsed.sum - monitored)];
}
