import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import {
  describeValue,
  refuseUnknownOptions,
  reportInternalError,
  TlobRangeError,
  TlobTypeError,
} from './errors.js';
import type { ModelTransitionEvent } from './transition-event.js';
import type { Violation } from './violation.js';

// Kinds of timeline records: a transition into a state (0–3: stopped, running, waiting, sleeping), or these.
/**
 * A violation: the record is in `violations`, `value` is its index there; -1 past the first
 * `MAX_VIOLATION_RECORDS` violations, whose records are not kept.
 */
export const KIND_VIOLATION = 4;
/** The stop of a window that broke its budget earlier (no transition marks it): `value` is its elapsed ns. */
export const KIND_LATE_STOP = 5;

/** What `timeline.snapshot()` returns: one thread's window transitions, as columns. */
export interface TimelineData {
  readonly pid: number;
  readonly threadId: number;
  /** `performance.timeOrigin` of the thread (epoch ms): `at` values are ns after it. */
  readonly timeOrigin: number;
  /** Window names; `name[i]` indexes into it. */
  readonly names: string[];
  readonly kind: number[];
  readonly id: number[];
  /** When, in ns after `timeOrigin`. */
  readonly at: number[];
  readonly name: number[];
  /** Per kind: unused for transitions, the violation index, or the elapsed ns of a late stop. */
  readonly value: number[];
  /** The records of the first `MAX_VIOLATION_RECORDS` violations (10,000). */
  readonly violations: Violation[];
  /** Records not kept because the buffer was full. */
  readonly dropped: number;
}

/**
 * A timeline whose columns may be any arrays of numbers: what its readers need
 * (`timelineWindows`, `toChromeTrace`), and what `timeline.columns()` gives without a copy.
 */
export interface TimelineColumns extends Omit<TimelineData, 'kind' | 'id' | 'at' | 'name' | 'value'> {
  readonly kind: ArrayLike<number>;
  readonly id: ArrayLike<number>;
  readonly at: ArrayLike<number>;
  readonly name: ArrayLike<number>;
  readonly value: ArrayLike<number>;
}

/** Options of `timeline.start()`. */
export interface TimelineOptions {
  /**
   * How many records the buffer holds (a transition is one record); when full, new records are
   * dropped and counted.
   * @default 1_000_000
   */
  maxEvents?: number;
}

const STATE_INDEX: Record<string, number> = { stopped: 0, running: 1, waiting: 2, sleeping: 3 };

/**
 * How many violation records a recording keeps (~140 B each on the heap, up to a third of
 * `maxEvents` violations otherwise): past them a violation is still a record of the buffer, which
 * marks its window over budget, without the details.
 */
export const MAX_VIOLATION_RECORDS = 10_000;

/**
 * A bounded recorder of window transitions, fed by the `tlob:event`, `tlob:error` and `tlob:stop`
 * channels: nothing is subscribed (so nothing is published) until `start()`. Records are kept
 * in preallocated typed arrays, drop-new when full.
 */
class TimelineRecorder {
  private kind = new Uint8Array(0);
  private id = new Float64Array(0);
  private at = new Float64Array(0);
  private name = new Uint32Array(0);
  private value = new Float64Array(0);
  private names: string[] = [];
  private nameIndex = new Map<string, number>();
  private violations: Violation[] = [];
  private length = 0;
  private dropped = 0;
  private on = false;

  // The subscribers run on the observed call path: a failure of ours is reported, never thrown.
  private readonly onEvent = (message: unknown): void => {
    try {
      const e = message as ModelTransitionEvent;
      if (e.monitor === 'tlob') this.push(STATE_INDEX[e.next] ?? 0, e.id, e.atNs, e.name, 0);
    } catch (error) {
      reportInternalError('timeline', error);
    }
  };

  private readonly onError = (message: unknown): void => {
    try {
      const v = message as Violation;
      if (v.monitor !== 'tlob') return;
      const atNs = (v.at - performance.timeOrigin) * 1e6;
      const keep = this.violations.length < MAX_VIOLATION_RECORDS;
      if (this.push(KIND_VIOLATION, v.id, atNs, v.name, keep ? this.violations.length : -1) && keep)
        this.violations.push(v);
    } catch (error) {
      reportInternalError('timeline', error);
    }
  };

  private readonly onStop = (message: unknown): void => {
    try {
      const r = message as { overBudget: boolean; id: number; name: string; elapsedNs: number };
      if (r.overBudget) this.push(KIND_LATE_STOP, r.id, -1, r.name, r.elapsedNs);
    } catch (error) {
      reportInternalError('timeline', error);
    }
  };

  /** Whether the recorder is subscribed. */
  get enabled(): boolean {
    return this.on;
  }

  /** Starts recording (a fresh buffer); a second call while recording does nothing. */
  start(options: TimelineOptions = {}): void {
    if (this.on) return;
    if (options === null || typeof options !== 'object') {
      throw new TlobTypeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob timeline.start: expected options like { maxEvents: 100000 }, got ${describeValue(options)}`,
      );
    }
    refuseUnknownOptions(options, ['maxEvents'], 'tlob timeline.start');
    const max = options.maxEvents ?? 1_000_000;
    if (!Number.isInteger(max) || max < 1 || max > 1 << 26) {
      throw new TlobRangeError(
        'ERR_TLOB_INVALID_ARG',
        `tlob timeline.start: expected \`maxEvents\` to be an integer from 1 to 67108864, got ${describeValue(max)}`,
      );
    }
    this.kind = new Uint8Array(max);
    this.id = new Float64Array(max);
    this.at = new Float64Array(max);
    this.name = new Uint32Array(max);
    this.value = new Float64Array(max);
    this.clear();
    this.on = true;
    subscribe('tlob:event', this.onEvent);
    subscribe('tlob:error', this.onError);
    subscribe('tlob:stop', this.onStop);
  }

  /** Stops recording; what was recorded stays readable with `snapshot()`. */
  stop(): void {
    if (!this.on) return;
    this.on = false;
    unsubscribe('tlob:event', this.onEvent);
    unsubscribe('tlob:error', this.onError);
    unsubscribe('tlob:stop', this.onStop);
  }

  /** Empties the buffer and resets the dropped count. */
  clear(): void {
    this.length = this.dropped = 0;
    this.names = [];
    this.nameIndex = new Map();
    this.violations = [];
  }

  /** A copy of what was recorded, as plain arrays (ready for `JSON.stringify`). */
  snapshot(): TimelineData {
    const c = this.columns();
    return {
      ...c,
      kind: Array.from(c.kind),
      id: Array.from(c.id),
      at: Array.from(c.at),
      name: Array.from(c.name),
      value: Array.from(c.value),
    };
  }

  /**
   * What was recorded, its columns as views of the buffer (no copy: a million records as plain
   * arrays take ~55 MB, whose growth took the heap up by twice that at a program's exit). Later
   * records do not change them, and `start()` records into a new buffer; after `clear()` new
   * records overwrite them. For writers (`writeJsonFile` writes them as arrays); `snapshot()` is
   * the copy to keep.
   */
  columns(): TimelineColumns {
    const n = this.length;
    return {
      pid: process.pid,
      threadId,
      timeOrigin: performance.timeOrigin,
      names: [...this.names],
      kind: this.kind.subarray(0, n),
      id: this.id.subarray(0, n),
      at: this.at.subarray(0, n),
      name: this.name.subarray(0, n),
      value: this.value.subarray(0, n),
      violations: [...this.violations],
      dropped: this.dropped,
    };
  }

  private push(kind: number, id: number, at: number, name: string, value: number): boolean {
    const i = this.length;
    if (i >= this.kind.length) {
      this.dropped++;
      return false;
    }
    let n = this.nameIndex.get(name);
    if (n === undefined) {
      n = this.names.push(name) - 1;
      this.nameIndex.set(name, n);
    }
    this.kind[i] = kind;
    this.id[i] = id;
    this.at[i] = at;
    this.name[i] = n;
    this.value[i] = value;
    this.length = i + 1;
    return true;
  }
}

/**
 * The timeline: off by default (nothing subscribed, nothing published); `start()` records window
 * transitions and violations into a bounded buffer, `snapshot()` reads them, `toChromeTrace`
 * turns snapshots into a Perfetto / `chrome://tracing` trace.
 * @example timeline.start(); await work(); const trace = toChromeTrace([timeline.snapshot()]);
 */
export const timeline = new TimelineRecorder();
