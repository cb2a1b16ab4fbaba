import { describeValue, TlobTypeError } from './errors.js';
import { MinHeap } from './min-heap.js';
import type { TimelineColumns } from './timeline.js';
import { SEG_OVER, SEGMENT_NAMES, type TimelineWindow, timelineWindows } from './timeline-windows.js';

/** One event of the Chrome trace-event format (`ts`/`dur` in microseconds). */
export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  s?: string;
  id2?: { local: string };
  args?: Record<string, unknown>;
}

/** A trace that Perfetto UI and `chrome://tracing` open. */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  metadata: { 'tlob-dropped': number; 'tlob-windows': number };
}

/** Perfetto maps thread id 0 to the idle process: the main thread takes the pid, workers pid·1000+id. */
export function traceTid(pid: number, threadId: number): number {
  return threadId === 0 ? pid : pid * 1000 + threadId;
}

const us = (ns: number) => Math.round(ns) / 1000;
const msOf = (ns: number) => Math.round(ns / 1e3) / 1e3;

/**
 * Converts the timelines of one or more threads (of one or more processes) into a Chrome
 * trace-event trace, with timestamps rebased to the earliest record:
 * - each window is a nestable async slice on a lane track (one per name and free slot, so the
 *   track count is the peak concurrency), with its running / waiting / sleeping intervals nested
 *   in it, and its split in the end event's args;
 * - a violation is an instant (`n`) on the window's track carrying the record;
 * - the JS thread's track holds a complete (`X`) slice per running interval, named after its window;
 * - processes and threads are named by metadata events.
 */
export function toChromeTrace(
  timelines: readonly TimelineColumns[],
  labels: ReadonlyMap<number, string> = new Map(),
): ChromeTrace {
  checkTimelines(timelines);
  const origin = Math.min(...timelines.map((t) => t.timeOrigin));
  const rebuilt = timelines.map((t) => ({ t, windows: timelineWindows(t) }));
  let first = Number.POSITIVE_INFINITY;
  for (const { t, windows } of rebuilt) {
    const offset = (t.timeOrigin - origin) * 1e6;
    for (const w of windows) first = Math.min(first, offset + w.startNs);
  }
  if (!Number.isFinite(first)) first = 0;
  const events: TraceEvent[] = [];
  const named = new Set<number>();
  let dropped = 0;
  let count = 0;
  for (const { t, windows } of rebuilt) {
    dropped += t.dropped;
    count += windows.length;
    const tid = traceTid(t.pid, t.threadId);
    const shift = (t.timeOrigin - origin) * 1e6 - first;
    if (!named.has(t.pid)) {
      named.add(t.pid);
      const label = labels.get(t.pid) ?? `node ${t.pid}`;
      events.push({ name: 'process_name', ph: 'M', ts: 0, pid: t.pid, tid, args: { name: label } });
    }
    const thread = t.threadId === 0 ? 'main' : `worker ${t.threadId}`;
    events.push({
      name: 'thread_name',
      ph: 'M',
      ts: 0,
      pid: t.pid,
      tid,
      args: { name: `JS thread (${thread})` },
    });
    threadEvents(windows, t.pid, tid, shift, events);
  }
  const meta = events.filter((e) => e.ph === 'M');
  const timed = events.filter((e) => e.ph !== 'M').sort((a, b) => a.ts - b.ts);
  return { traceEvents: [...meta, ...timed], metadata: { 'tlob-dropped': dropped, 'tlob-windows': count } };
}

/** A lane taken by a window until `endNs`. */
interface BusyLane {
  endNs: number;
  name: string;
  lane: number;
}

function threadEvents(
  windows: TimelineWindow[],
  pid: number,
  tid: number,
  shift: number,
  out: TraceEvent[],
): void {
  const free = new Map<string, MinHeap<number>>(); // free lane numbers per name, lowest first
  const laneIds = new Map<string, string>();
  const busy = new MinHeap<BusyLane>((a, b) => a.endNs < b.endNs); // earliest end first
  const running: TraceEvent[] = [];
  let nextLane = 0;
  // windows come in start order; a lane is free again once the window on it ended, and a window
  // takes the lowest free lane of its name
  for (const w of windows) {
    for (let b = busy.peek(); b !== undefined && b.endNs <= w.startNs; b = busy.peek()) {
      busy.pop();
      let lanes = free.get(b.name);
      if (lanes === undefined) free.set(b.name, (lanes = new MinHeap((x, y) => x < y)));
      lanes.push(b.lane);
    }
    const lane = free.get(w.name)?.pop() ?? nextLane++;
    busy.push({ endNs: w.endNs, name: w.name, lane });
    const key = `${w.name}\u0000${lane}`;
    let id = laneIds.get(key);
    if (id === undefined) laneIds.set(key, (id = `0x${(laneIds.size + 1).toString(16)}`));
    const id2 = { local: id };
    const split = [0, 0, 0, 0, 0];
    out.push({
      name: w.name,
      cat: 'tlob',
      ph: 'b',
      ts: us(w.startNs + shift),
      pid,
      tid,
      id2,
      args: { id: w.id },
    });
    const s = w.segments;
    for (let i = 0; i < s.length; i += 3) {
      const kind = s[i] as number;
      const from = (s[i + 1] as number) + shift;
      const to = (s[i + 2] as number) + shift;
      split[kind] = (split[kind] as number) + (to - from);
      const name = SEGMENT_NAMES[kind] as string;
      out.push({ name, cat: 'tlob', ph: 'b', ts: us(from), pid, tid, id2 });
      out.push({ name, cat: 'tlob', ph: 'e', ts: us(to), pid, tid, id2 });
      if (kind === 1)
        running.push({
          name: w.name,
          ph: 'X',
          ts: us(from),
          dur: us(to) - us(from),
          pid,
          tid,
          args: { id: w.id },
        });
    }
    if (w.overBudget) {
      let args: Record<string, unknown> = { recordNotKept: true }; // past the records a recording keeps
      if (w.violation !== undefined) {
        const { monitor: _m, name: _n, ...record } = w.violation;
        args = record;
      }
      out.push({
        name: 'over budget',
        cat: 'tlob',
        ph: 'n',
        ts: us(w.violationNs + shift),
        pid,
        tid,
        id2,
        args,
      });
    }
    out.push({
      name: w.name,
      cat: 'tlob',
      ph: 'e',
      ts: us(w.endNs + shift),
      pid,
      tid,
      id2,
      args: {
        elapsedMs: msOf(w.endNs - w.startNs),
        runningMs: msOf(split[1] as number),
        waitingMs: msOf(split[2] as number),
        sleepingMs: msOf(split[3] as number),
        ...(w.overBudget ? { overBudget: true, unmonitoredMs: msOf(split[SEG_OVER] as number) } : {}),
        ...(w.ended ? {} : { unfinished: true }),
      },
    });
  }
  for (const e of nestedSlices(running)) out.push(e);
}

/**
 * Complete slices on one thread track must nest. Running intervals of nested windows do (an inner
 * call runs inside its caller's running time); one that would straddle an enclosing slice's end
 * is clipped to it.
 */
function nestedSlices(slices: TraceEvent[]): TraceEvent[] {
  slices.sort((a, b) => a.ts - b.ts || (b.dur as number) - (a.dur as number));
  const stack: number[] = []; // end times of the enclosing slices
  const out: TraceEvent[] = [];
  for (const e of slices) {
    while (stack.length > 0 && (stack[stack.length - 1] as number) <= e.ts) stack.pop();
    const limit = stack[stack.length - 1];
    let end = e.ts + (e.dur as number);
    if (limit !== undefined && end > limit) end = limit;
    e.dur = Math.max(0, Math.round((end - e.ts) * 1000) / 1000);
    stack.push(end);
    out.push(e);
  }
  return out;
}

/** `toChromeTrace`'s snapshots: an array of what `timeline.snapshot()` or `timeline.columns()` return. */
function checkTimelines(timelines: unknown): void {
  const isTimeline = (t: unknown) =>
    t !== null &&
    typeof t === 'object' &&
    typeof (t as TimelineColumns).timeOrigin === 'number' &&
    (['kind', 'id', 'at', 'name', 'value'] as const).every(
      (column) => typeof (t as TimelineColumns)[column]?.length === 'number',
    );
  if (!Array.isArray(timelines)) throw invalidTimelines(describeValue(timelines));
  const bad = timelines.findIndex((t) => !isTimeline(t));
  if (bad >= 0) throw invalidTimelines(`${describeValue(timelines[bad])} at index ${bad}`);
}

function invalidTimelines(got: string): TlobTypeError {
  return new TlobTypeError(
    'ERR_TLOB_INVALID_ARG',
    `toChromeTrace: expected an array of timelines (timeline.snapshot() or timeline.columns()), got ${got}`,
  );
}
