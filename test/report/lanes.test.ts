import { describe, expect, it } from 'vitest';
import { type TimelineData, toChromeTrace } from '../../src/index.js';
import { LaneEnds } from '../../src/report/lane-ends.js';
import { MinHeap } from '../../src/report/min-heap.js';
import { type TimelineWindow, timelineWindows } from '../../src/report/timeline-windows.js';

/** A seeded generator of numbers in [0, 1) (mulberry32), so that a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Span {
  name: number;
  startNs: number;
  endNs: number;
}

/**
 * A timeline of windows `spans` (window i has id i + 1), each running from its start to its end;
 * the records in time order, or, with `jitter`, each record moved by up to that much, so that the
 * windows are no longer quite in start order.
 */
function timelineOf(spans: Span[], names: string[], jitter = 0, rand = Math.random): TimelineData {
  const records: { key: number; at: number; kind: number; id: number; name: number }[] = [];
  spans.forEach((s, i) => {
    const start = s.startNs;
    records.push({ key: start + jitter * rand(), at: start, kind: 1, id: i + 1, name: s.name });
    records.push({ key: s.endNs + jitter * rand(), at: s.endNs, kind: 0, id: i + 1, name: s.name });
  });
  records.sort((a, b) => a.key - b.key);
  return {
    pid: 4242,
    threadId: 0,
    timeOrigin: 1_700_000_000_000,
    names,
    kind: records.map((r) => r.kind),
    id: records.map((r) => r.id),
    at: records.map((r) => r.at),
    name: records.map((r) => r.name),
    value: records.map(() => 0),
    violations: [],
    dropped: 0,
  };
}

/** The lane track (`id2.local`) of each window of a trace, by window id. */
function laneOfWindow(data: TimelineData): Map<number, string> {
  const lanes = new Map<number, string>();
  for (const e of toChromeTrace([data]).traceEvents)
    if (e.ph === 'b' && e.args?.id !== undefined) lanes.set(e.args.id as number, e.id2?.local as string);
  return lanes;
}

/**
 * The reference: the lanes as `toChromeTrace` laid them out by scanning every lane in use at each
 * window's start (O(windows × windows in flight)), by window id.
 */
function referenceLanes(windows: TimelineWindow[]): Map<number, string> {
  const lanes = new Map<string, number[]>();
  const laneIds = new Map<string, string>();
  const busy: { endNs: number; name: string; lane: number }[] = [];
  const out = new Map<number, string>();
  let nextLane = 0;
  for (const w of windows) {
    for (let i = busy.length - 1; i >= 0; i--) {
      const b = busy[i] as { endNs: number; name: string; lane: number };
      if (b.endNs <= w.startNs) {
        let free = lanes.get(b.name);
        if (free === undefined) lanes.set(b.name, (free = []));
        free.push(b.lane);
        busy.splice(i, 1);
      }
    }
    const free = lanes.get(w.name);
    free?.sort((a, b) => b - a);
    const lane = free?.pop() ?? nextLane++;
    busy.push({ endNs: w.endNs, name: w.name, lane });
    const key = `${w.name}\u0000${lane}`;
    let id = laneIds.get(key);
    if (id === undefined) laneIds.set(key, (id = `0x${(laneIds.size + 1).toString(16)}`));
    out.set(w.id, id);
  }
  return out;
}

/** `n` windows of `names` names with random starts in `[0, span)` and lengths up to `longest` (ns). */
function randomSpans(rand: () => number, n: number, names: number, span: number, longest: number): Span[] {
  return Array.from({ length: n }, () => {
    // on a 100 ns grid, so that many end exactly where others start; some of zero length
    const startNs = 100 * Math.floor((rand() * span) / 100);
    const length = rand() < 0.1 ? 0 : 100 * Math.floor((rand() * longest) / 100);
    return { name: Math.floor(rand() * names), startNs, endNs: startNs + length };
  });
}

describe('toChromeTrace lanes', () => {
  it('lays out random windows of several names on the same lanes as the reference (lanes scanned)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = random(seed);
      const spans = randomSpans(rand, 2000, 1 + (seed % 4), 1_000_000, 5000 * seed ** 2);
      const jitter = seed === 5 ? 2000 : 0; // records a little out of order: starts not sorted
      const data = timelineOf(spans, ['a', 'b', 'c', 'd'], jitter, rand);
      const windows = timelineWindows(data);
      const sorted = windows.every((w, i) => i === 0 || (windows[i - 1]?.startNs as number) <= w.startNs);
      expect(sorted).toBe(jitter === 0);
      const lanes = laneOfWindow(data);
      expect(lanes.size).toBe(windows.length);
      expect(lanes).toEqual(referenceLanes(windows));
    }
  });

  it('gives each of 50,000 windows in flight its own lane, and reuses the lowest lanes afterwards', () => {
    const inFlight = 50_000;
    const spans: Span[] = [];
    // two names, all open at once and ending in random order
    const rand = random(7);
    for (let i = 0; i < inFlight; i++)
      spans.push({ name: i % 2, startNs: i, endNs: inFlight + Math.floor(rand() * inFlight) });
    // then a wave of 1,000 of each name, all in flight again, once every window above ended
    for (let i = 0; i < 2000; i++)
      spans.push({ name: i % 2, startNs: 3 * inFlight + i, endNs: 4 * inFlight });
    const data = timelineOf(spans, ['a', 'b']);
    const lanes = laneOfWindow(data);
    const first = spans.slice(0, inFlight).map((_, i) => lanes.get(i + 1));
    const second = spans.slice(inFlight).map((_, i) => lanes.get(inFlight + i + 1));
    expect(new Set(first).size).toBe(inFlight);
    // lanes are numbered in order of first use: the second wave takes the first 1,000 of each name
    expect(second).toEqual(first.slice(0, 2000));
  });
});

describe('LaneEnds', () => {
  it('puts each interval on the lowest lane free at its start, as a scan of the lanes does', () => {
    for (const seed of [1, 2, 3]) {
      const rand = random(seed);
      const lanes = new LaneEnds(3000);
      const ends: number[] = [];
      // two passes in start order (as the report's, over budget first), and a few starts out of order
      const pass = () =>
        randomSpans(rand, 1000, 1, 100_000, 2000 * seed).sort((a, b) => a.startNs - b.startNs);
      const spans = [...pass(), ...pass(), ...randomSpans(rand, 1000, 1, 100_000, 500)];
      for (const s of spans) {
        let lane = ends.findIndex((end) => end <= s.startNs);
        if (lane < 0) lane = ends.push(0) - 1;
        ends[lane] = s.endNs;
        expect(lanes.take(s.startNs, s.endNs)).toBe(lane);
      }
      expect(lanes.count).toBe(ends.length);
    }
  });
});

describe('MinHeap', () => {
  it('pops its items least first, pushes and pops interleaved', () => {
    const rand = random(11);
    const heap = new MinHeap<number>((a, b) => a < b);
    const sorted: number[] = [];
    const popped: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (rand() < 0.6) {
        const x = Math.floor(rand() * 1000);
        heap.push(x);
        sorted.push(x);
        sorted.sort((a, b) => a - b);
      } else {
        expect(heap.peek()).toBe(sorted[0]);
        popped.push(heap.pop() as number);
        expect(popped[popped.length - 1]).toBe(sorted.shift());
      }
    }
    while (heap.peek() !== undefined) expect(heap.pop()).toBe(sorted.shift());
    expect(sorted).toEqual([]);
    expect(heap.pop()).toBeUndefined();
  });
});
