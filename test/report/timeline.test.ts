import { afterEach, describe, expect, it } from 'vitest';
import {
  type TimelineData,
  type TlobViolation,
  type TraceEvent,
  timeline,
  tlob,
  toChromeTrace,
  type WindowResult,
} from '../../src/index.js';
import { channels } from '../../src/report/channels.js';
import { MAX_VIOLATION_RECORDS } from '../../src/report/timeline.js';
import { retry, sleep, spin } from '../helpers.js';
import { checkTrace, type TracedWindow } from './trace-structure.js';

afterEach(() => {
  timeline.stop();
  timeline.clear();
  tlob.reactor('log');
});

const sum = (w: TracedWindow) => Object.values(w.states).reduce((a, b) => a + b, 0);

/** Runs `scenario` with the timeline on; returns the snapshot and the results of the windows. */
async function record(
  scenario: () => Promise<void>,
): Promise<{ data: TimelineData; results: WindowResult[] }> {
  const results: WindowResult[] = [];
  const stop = tlob.subscribe('stop', (r) => results.push(r as WindowResult));
  timeline.start();
  try {
    await scenario();
  } finally {
    timeline.stop();
    stop();
  }
  return { data: timeline.snapshot(), results };
}

describe('toChromeTrace', () => {
  it('refuses what is not an array of timelines, naming what it got', () => {
    for (const [input, got] of [
      [undefined, 'undefined'],
      [{}, 'an object'],
      [[{}], 'an object at index 0'],
      [[undefined], 'undefined at index 0'],
    ] as const) {
      expect(() => toChromeTrace(input as never)).toThrow(
        expect.objectContaining({
          code: 'ERR_TLOB_INVALID_ARG',
          message: `toChromeTrace: expected an array of timelines (timeline.snapshot() or timeline.columns()), got ${got}`,
        }),
      );
    }
  });
});

describe('timeline', () => {
  it('subscribes to nothing until started, and to nothing again after stop', () => {
    expect(timeline.enabled).toBe(false);
    expect(channels.event.hasSubscribers).toBe(false);
    timeline.start();
    expect(channels.event.hasSubscribers).toBe(true);
    timeline.stop();
    expect(
      channels.event.hasSubscribers || channels.error.hasSubscribers || channels.stop.hasSubscribers,
    ).toBe(false);
  });

  it('exports a structurally valid trace whose state slices sum to each window', () =>
    retry(5, splitScenario)); // a timing scenario: a noisy run on a shared machine is retried

  async function splitScenario() {
    tlob.reactor('nop');
    let spun = 0;
    let slept = 0;
    let armed = 0;
    let asyncReturned = 0;
    let lateCalled = 0;
    let lateEntered = 0;
    let lateArmed = 0;
    let lateReturned = 0;
    const { data, results } = await record(async () => {
      tlob.run('sync', { budget: '1s' }, () => {
        const t0 = performance.now();
        spin(10);
        spun = performance.now() - t0;
      });
      const async = tlob.run('async', { budget: '1s' }, async () => {
        armed = performance.now();
        await new Promise<void>((resolve) =>
          setTimeout(() => {
            slept = performance.now() - armed; // when the timer really fired
            resolve();
          }, 20),
        );
        spin(3);
      });
      asyncReturned = performance.now();
      await async;
      // concurrent windows of one name, and a nested one
      await Promise.all(
        [0, 1, 2].map((i) =>
          tlob.run('concurrent', { budget: '1s' }, async () => {
            await sleep(5 + i);
            spin(2);
            tlob.run('nested', { budget: '1s' }, () => spin(1));
          }),
        ),
      );
      // a violation while asleep, then the window goes on to its stop
      lateCalled = performance.now();
      const late = tlob.run('late', { budget: '5ms' }, async () => {
        lateEntered = performance.now();
        const asleep = sleep(15);
        lateArmed = performance.now();
        await asleep;
        spin(1);
      });
      lateReturned = performance.now();
      await late;
      tlob.start({ budget: '1s', name: 'open' }); // never stopped before the snapshot
    });
    const windows = checkTrace(toChromeTrace([data]));
    expect(windows.map((w) => w.name).sort()).toEqual(
      [
        'async',
        'concurrent',
        'concurrent',
        'concurrent',
        'late',
        'nested',
        'nested',
        'nested',
        'open',
        'sync',
      ].sort(),
    );
    for (const w of windows) {
      const elapsed = w.endUs - w.beginUs;
      expect(Math.abs(sum(w) - elapsed), `${w.name} #${w.id}`).toBeLessThanOrEqual(
        Math.max(0.01 * elapsed, 0.01),
      );
      const result = results.find((r) => r.id === w.id);
      if (w.name === 'open') {
        expect(result).toBeUndefined();
        expect(w.endArgs.unfinished).toBe(true);
        continue;
      }
      expect(Math.abs(elapsed * 1e3 - (result as WindowResult).elapsedNs)).toBeLessThanOrEqual(
        0.01 * elapsed * 1e3 + 2e3,
      );
      if (w.name === 'late') continue; // its split ends at the violation (checked below)
      for (const state of ['running', 'waiting', 'sleeping'] as const) {
        const traced = (w.states[state] ?? 0) * 1e3;
        const reported = (result as WindowResult)[`${state}Ns`];
        expect(Math.abs(traced - reported), `${w.name} ${state}`).toBeLessThanOrEqual(
          0.01 * elapsed * 1e3 + 2e3,
        );
      }
    }
    // ground truth measured in the scenario
    const sync = windows.find((w) => w.name === 'sync') as TracedWindow;
    expect(sync.states.running).toBeGreaterThanOrEqual(spun * 1e3 - 1);
    const async = windows.find((w) => w.name === 'async') as TracedWindow;
    // the timer was due after 20 ms: the rest of `slept` (a late timer on a busy machine) was
    // waiting; the window sleeps from its return, which a preempted thread can delay (the thread's
    // time in the window's code up to it is running)
    const returning = asyncReturned - armed;
    expect((async.states.sleeping ?? 0) / 1e3).toBeGreaterThan(Math.min(slept, 20) - 3 - returning);
    expect(((async.states.sleeping ?? 0) + (async.states.waiting ?? 0)) / 1e3).toBeGreaterThan(
      slept - 3 - returning,
    );
    // the violation: an instant on the window's track with the record, then the unmonitored rest
    const late = windows.find((w) => w.name === 'late') as TracedWindow;
    expect(late.instants).toHaveLength(1);
    const v = late.instants[0]?.args as unknown as TlobViolation;
    // asleep at its 5 ms deadline if its call returned by then; running if the thread (preempted,
    // say) was still in the call's code; a run too close to tell apart is retried
    if (lateReturned - lateCalled < 5) expect(v.state).toBe('sleeping');
    else if (lateArmed - lateEntered >= 5) expect(v.state).toBe('running');
    else
      throw new Error(
        `expected the call to return well before or after its 5 ms budget, got ${lateReturned - lateCalled} ms`,
      );
    expect(v.budgetNs).toBe(5e6);
    expect(late.endArgs.overBudget).toBe(true);
    expect(late.states['over budget']).toBeGreaterThan(0);
    expect(late.instants[0]?.ts).toBeCloseTo(late.beginUs + v.elapsedNs / 1e3, -2);
  }

  it('puts each concurrent window of a name on its own lane and reuses lanes afterwards', async () => {
    tlob.reactor('nop');
    const { data } = await record(async () => {
      for (let round = 0; round < 3; round++) {
        await Promise.all([0, 1, 2, 3].map(() => tlob.run('lane', { budget: '1s' }, () => sleep(3))));
      }
    });
    const trace = toChromeTrace([data]);
    checkTrace(trace);
    const lanes = new Set(
      trace.traceEvents.filter((e) => e.ph === 'b' && e.name === 'lane').map((e) => e.id2?.local),
    );
    expect(lanes.size).toBe(4);
  });

  it('names the thread track after the pid and draws running slices on it', async () => {
    const { data } = await record(async () => {
      tlob.run('on-thread', { budget: '1s' }, () => spin(2));
    });
    const trace = toChromeTrace([data], new Map([[process.pid, 'node test']]));
    const meta = trace.traceEvents.filter((e) => e.ph === 'M');
    expect(meta).toContainEqual(
      expect.objectContaining({ name: 'process_name', pid: process.pid, args: { name: 'node test' } }),
    );
    expect(meta).toContainEqual(expect.objectContaining({ name: 'thread_name', tid: expect.any(Number) }));
    const x = trace.traceEvents.find((e) => e.ph === 'X' && e.name === 'on-thread');
    expect(x?.tid).toBe(data.threadId === 0 ? process.pid : process.pid * 1000 + data.threadId);
    expect(x?.dur).toBeGreaterThanOrEqual(1900);
  });

  it('draws a window that runs on after its own awaits as one running slice, and the trace stays valid', async () => {
    const { data } = await record(async () => {
      await tlob.run('awaits', { budget: '1s' }, async () => {
        for (let i = 0; i < 50; i++) {
          spin(0.02);
          await null;
        }
      });
    });
    const trace = toChromeTrace([data]);
    checkTrace(trace);
    // its first continuation waits behind the caller's code after the call returned its promise;
    // from there on each `await null` resumes in the same checkpoint, with no time between (unless
    // work of the test runner's ran between), and the running slice goes on
    const running = trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'awaits');
    expect(running.length).toBeLessThan(10);
    for (let i = 1; i < running.length; i++) {
      const before = running[i - 1] as TraceEvent;
      expect((running[i] as TraceEvent).ts).toBeGreaterThan(before.ts + (before.dur as number));
    }
  });

  it('keeps a window whole when its violation time (from epoch ms) lands a little before its last transition', () => {
    // start at 1000 ns, sleep at 2000, violation at 1999.8 (rounding of the record's epoch ms),
    // stop reported as 999 ns elapsed (rounded down): neither may end a slice before it began
    const data: TimelineData = {
      pid: 4242,
      threadId: 0,
      timeOrigin: 1_700_000_000_000,
      names: ['w'],
      kind: [1, 3, 4, 5],
      id: [7, 7, 7, 7],
      at: [1000, 2000, 1999.8, -1],
      name: [0, 0, 0, 0],
      value: [0, 0, 0, 999],
      violations: [
        {
          monitor: 'tlob',
          name: 'w',
          id: 7,
          state: 'sleeping',
          event: 'budget_expired',
          at: 0,
          reportedLateNs: 0,
        },
      ],
      dropped: 0,
    };
    const [w] = checkTrace(toChromeTrace([data]));
    expect(w?.endUs).toBeGreaterThanOrEqual(w?.beginUs as number);
    expect(w?.instants).toHaveLength(1);
  });

  it('gives the records as views of its buffer (columns) as they are in the snapshot, and the same trace', async () => {
    const { data } = await record(async () => {
      await tlob.run('viewed', { budget: '1s' }, () => sleep(1));
      tlob.run('viewed', { budget: '1s' }, () => spin(0.01));
    });
    const columns = timeline.columns();
    expect(columns.at).toBeInstanceOf(Float64Array);
    const copied = { ...columns } as Record<string, unknown>;
    for (const key of ['kind', 'id', 'at', 'name', 'value'])
      copied[key] = Array.from(copied[key] as ArrayLike<number>);
    expect(copied).toEqual(data);
    expect(toChromeTrace([columns])).toEqual(toChromeTrace([data]));
  });

  it('keeps the records of the first 10,000 violations, and marks the windows of later ones over budget all the same', () => {
    tlob.reactor('nop');
    const budget = { budget: '1us' } as const;
    tlob.run('over', budget, () => spin(0.01)); // the site's first window
    timeline.start();
    const n = MAX_VIOLATION_RECORDS + 5;
    for (let i = 0; i < n; i++) tlob.run('over', budget, () => spin(0.01));
    timeline.stop();
    const data = timeline.snapshot();
    expect(data.violations).toHaveLength(MAX_VIOLATION_RECORDS);
    const trace = toChromeTrace([data]);
    const instants = trace.traceEvents.filter((e) => e.name === 'over budget' && e.ph === 'n');
    expect(instants).toHaveLength(n);
    expect(instants.filter((e) => e.args?.recordNotKept === true)).toHaveLength(5);
    const ends = trace.traceEvents.filter((e) => e.name === 'over' && e.ph === 'e');
    expect(ends.filter((e) => e.args?.overBudget === true)).toHaveLength(n);
  });

  it('keeps at most maxEvents records, counts the rest, and still exports a valid trace', async () => {
    timeline.start({ maxEvents: 10 });
    for (let i = 0; i < 20; i++) tlob.run('many', { budget: '1s' }, () => spin(0.01));
    timeline.stop();
    const data = timeline.snapshot();
    expect(data.kind).toHaveLength(10);
    expect(data.dropped).toBe(30); // 20 windows × 2 transitions (start, stop) − 10 kept
    const trace = toChromeTrace([data]);
    expect(trace.metadata['tlob-dropped']).toBe(30);
    expect(checkTrace(trace)).toHaveLength(5);
    expect(() => timeline.start({ maxEvents: 0 })).toThrow(
      /expected `maxEvents` to be an integer from 1 to 67108864, got 0 \(number\)/,
    );
  });
});
