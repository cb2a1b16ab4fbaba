import { expect } from 'vitest';
import type { ChromeTrace, TraceEvent } from '../../src/index.js';

/** One window as the trace shows it: its outer async slice and the state slices nested in it. */
export interface TracedWindow {
  id: number;
  name: string;
  beginUs: number;
  endUs: number;
  states: Record<string, number>;
  endArgs: Record<string, unknown>;
  instants: TraceEvent[];
}

/**
 * Checks a trace against the trace-event format as Perfetto reads it, and returns its windows:
 * valid JSON; every event has a phase, a timestamp in µs, a pid and a non-zero tid; on every
 * async track (pid, id2) each `b` has its `e` in stack order and `n` falls inside an open slice;
 * timestamps never go back on a track; complete slices on a thread nest.
 */
export function checkTrace(trace: ChromeTrace): TracedWindow[] {
  const parsed = JSON.parse(JSON.stringify(trace)) as ChromeTrace;
  expect(Array.isArray(parsed.traceEvents)).toBe(true);
  const stacks = new Map<string, TraceEvent[]>();
  const lastTs = new Map<string, number>();
  const threadEnds = new Map<number, number[]>();
  const windows: TracedWindow[] = [];
  const open = new Map<string, TracedWindow>();
  for (const e of parsed.traceEvents) {
    expect(typeof e.name).toBe('string');
    expect(typeof e.ts).toBe('number');
    expect(e.ts).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(e.pid)).toBe(true);
    expect(e.tid).not.toBe(0);
    if (e.ph === 'M') {
      expect(['process_name', 'thread_name']).toContain(e.name);
      expect(typeof e.args?.name).toBe('string');
      continue;
    }
    const track = e.ph === 'X' ? `thread ${e.tid}` : `${e.pid}/${e.id2?.local}`;
    expect(e.ts).toBeGreaterThanOrEqual(lastTs.get(track) ?? 0);
    lastTs.set(track, e.ts);
    if (e.ph === 'X') {
      const ends = threadEnds.get(e.tid) ?? [];
      while (ends.length > 0 && (ends[ends.length - 1] as number) <= e.ts) ends.pop();
      const end = e.ts + (e.dur as number);
      if (ends.length > 0) expect(end).toBeLessThanOrEqual((ends[ends.length - 1] as number) + 1e-6);
      ends.push(end);
      threadEnds.set(e.tid, ends);
      continue;
    }
    expect(['b', 'e', 'n']).toContain(e.ph);
    expect(e.cat).toBe('tlob');
    expect(e.id2?.local).toMatch(/^0x[0-9a-f]+$/);
    const stack = stacks.get(track) ?? [];
    stacks.set(track, stack);
    if (e.ph === 'b') {
      if (stack.length === 0) {
        const w: TracedWindow = {
          id: e.args?.id as number,
          name: e.name,
          beginUs: e.ts,
          endUs: -1,
          states: {},
          endArgs: {},
          instants: [],
        };
        windows.push(w);
        open.set(track, w);
      }
      stack.push(e);
    } else if (e.ph === 'e') {
      const begin = stack.pop();
      expect(begin?.name, `end of ${e.name} on ${track}`).toBe(e.name);
      const w = open.get(track) as TracedWindow;
      if (stack.length === 0) {
        w.endUs = e.ts;
        w.endArgs = e.args ?? {};
      } else {
        w.states[e.name] = (w.states[e.name] ?? 0) + (e.ts - (begin as TraceEvent).ts);
      }
    } else {
      expect(stack.length, 'an instant inside its window').toBeGreaterThan(0);
      open.get(track)?.instants.push(e);
    }
  }
  for (const [track, stack] of stacks) expect(stack, `open slices left on ${track}`).toHaveLength(0);
  return windows;
}
