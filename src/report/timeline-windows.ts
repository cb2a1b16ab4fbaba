import { KIND_LATE_STOP, KIND_VIOLATION, type TimelineColumns } from './timeline.js';
import type { Violation } from './violation.js';

/** Segment kinds: the tlob states, then the unmonitored rest of a window after its violation. */
export const SEGMENT_NAMES = ['stopped', 'running', 'waiting', 'sleeping', 'over budget'] as const;
export const SEG_OVER = 4;

/** One window rebuilt from a timeline: where it began and ended and the states it went through. */
export interface TimelineWindow {
  readonly name: string;
  readonly id: number;
  /** ns after the thread's time origin. */
  readonly startNs: number;
  endNs: number;
  /** Flat triples `[kind, fromNs, toNs, …]`, consecutive, from `startNs` to `endNs`. */
  readonly segments: number[];
  /** Whether it broke its budget (at `violationNs`). */
  overBudget: boolean;
  /** The violation's record, when the recording kept it (see `MAX_VIOLATION_RECORDS`). */
  violation: Violation | undefined;
  violationNs: number;
  /** False when the recording ended (or its buffer filled) before the window did. */
  ended: boolean;
}

/**
 * Rebuilds the windows of one thread's timeline, in start order. Records of windows whose start
 * was not recorded are skipped; windows still open at the end of the recording end at its last
 * timestamp, with `ended: false`.
 */
export function timelineWindows(data: TimelineColumns): TimelineWindow[] {
  const out: TimelineWindow[] = [];
  const open = new Map<number, { w: TimelineWindow; kind: number; since: number }>();
  let last = 0;
  const close = (o: { w: TimelineWindow; kind: number; since: number }, at: number) => {
    const s = o.w.segments;
    const n = s.length;
    const end = Math.max(at, o.since);
    // a zero-length state, or the state of the last segment again from its end (a window that ran
    // on after its own yield, with no time asleep or waiting): the last segment grows instead of
    // an empty one or a second one beside it
    if (n > 0 && (at <= o.since || (s[n - 3] === o.kind && s[n - 1] === o.since))) s[n - 1] = end;
    else s.push(o.kind, o.since, end);
  };
  for (let i = 0; i < data.kind.length; i++) {
    const kind = data.kind[i] as number;
    const id = data.id[i] as number;
    const at = data.at[i] as number;
    const o = open.get(id);
    if (kind === KIND_LATE_STOP) {
      if (o === undefined) continue;
      // elapsed is rounded to the ns, and the violation's time comes from epoch ms: never end
      // before the last change
      const end = Math.max(o.w.startNs + (data.value[i] as number), o.since);
      close(o, end);
      o.w.endNs = end;
      o.w.ended = true;
      open.delete(id);
      if (end > last) last = end;
      continue;
    }
    if (at > last) last = at;
    if (kind === KIND_VIOLATION) {
      if (o === undefined) continue;
      const when = Math.max(at, o.since); // an epoch-ms time is only good to a fraction of a µs
      close(o, when);
      o.w.overBudget = true;
      const record = data.value[i] as number; // -1: not kept
      o.w.violation = record >= 0 ? data.violations[record] : undefined;
      o.w.violationNs = when;
      o.kind = SEG_OVER;
      o.since = when;
      continue;
    }
    if (o === undefined) {
      if (kind !== 1) continue; // a window whose start is not in the recording
      const w: TimelineWindow = {
        name: data.names[data.name[i] as number] as string,
        id,
        startNs: at,
        endNs: at,
        segments: [],
        overBudget: false,
        violation: undefined,
        violationNs: -1,
        ended: false,
      };
      out.push(w);
      open.set(id, { w, kind: 1, since: at });
      continue;
    }
    if (o.kind === SEG_OVER) continue;
    close(o, at);
    if (kind === 0) {
      o.w.endNs = at;
      o.w.ended = true;
      open.delete(id);
    } else {
      o.kind = kind;
      o.since = at;
    }
  }
  for (const o of open.values()) {
    close(o, last);
    o.w.endNs = last;
  }
  return out;
}
