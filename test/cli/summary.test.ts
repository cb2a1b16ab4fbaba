import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/cli/summary.js';
import { reportModel } from '../../src/report/report-model.js';
import { mergeRun, type RunData, type ThreadData } from '../../src/report/run-data.js';
import { SparseHistogram } from '../../src/report/sparse-histogram.js';

/** A violation record as the collector keeps it: the split at the deadline, where elapsed is the budget. */
function violation(id: number, name: string, budgetNs: number, extra: Record<string, unknown>) {
  return {
    monitor: 'tlob',
    name,
    id,
    pid: 7,
    state: 'sleeping',
    event: 'budget_expired',
    at: 1000 + id,
    reportedLateNs: 0,
    budgetNs,
    elapsedNs: budgetNs,
    runningNs: 100_000,
    waitingNs: 0,
    sleepingNs: budgetNs - 100_000,
    ...extra,
  };
}

const data: RunData = {
  version: 1,
  command: ['node', 'app.mjs'],
  names: [],
  violations: [
    violation(1, 'big', 30e6, { endedElapsedNs: 33e6 }), // 1.1x its budget
    violation(2, 'tiny', 1e6, { endedElapsedNs: 50e6 }), // 50x
    violation(3, 'open', 10e6, { reportedLateNs: 5e6 }), // not ended: at least 1.5x
  ],
  violationsDropped: 0,
  threads: [],
  unloadedProbeModules: [],
};

/** One thread's saved data, as the collector writes it: the main thread of pid 7 with nothing in it, unless told. */
function threadData(fields: Partial<ThreadData> = {}): ThreadData {
  return {
    version: 1,
    pid: 7,
    ppid: 1,
    threadId: 0,
    argv: [],
    names: [],
    violations: [],
    violationsDropped: 0,
    timeline: undefined,
    ...fields,
  };
}

describe('a violating call still running when its thread wrote its data', () => {
  it('took at least until that write', () => {
    const open = violation(4, 'hung', 10e6, { reportedLateNs: 1e6, runningAtWriteNs: 900e6 });
    const text = formatSummary({ ...data, violations: [open] });
    expect(text).toContain('"hung" #4 pid 7: not ended, took at least 900ms, 90.0x its budget 10.0ms');
  });
});

describe('worker threads that ended without their final write', () => {
  const thread = (threadId: number, names: RunData['names']) =>
    threadData({ threadId, names, partial: true });
  it('are named when they had windows, and left out when they had none (a helper thread)', () => {
    const name = { name: 'work', count: 3 } as unknown as RunData['names'][number];
    const text = formatSummary({ ...data, threads: [thread(1, [name]), thread(2, [])] });
    expect(text).toContain('(1 worker thread(s) ended without their final write');
    expect(text).toMatch(/as the watchdog reported it\): 7\/1\)/);
  });
  it('are listed ten at most (a pool ends its workers by the thousand)', () => {
    const name = { name: 'work', count: 3 } as unknown as RunData['names'][number];
    const threads = Array.from({ length: 25 }, (_, i) => thread(i + 1, [name]));
    const text = formatSummary({ ...data, threads });
    expect(text).toContain('(25 worker thread(s) ended without their final write');
    expect(text).toMatch(/: 7\/1, 7\/2, 7\/3, 7\/4, 7\/5, 7\/6, 7\/7, 7\/8, 7\/9, 7\/10 and 15 more\)/);
  });
});

describe('probes no call came through', () => {
  const probed = (probes: string[]) => [
    { module: './lib.mjs', loaded: true, probes: probes.map((path) => ({ path, name: path })) },
  ];

  it('are the probes of modules that loaded whose name no window of any thread has', () => {
    const run = mergeRun(
      ['node', 'app.mjs'],
      [
        threadData({ probedModules: probed(['a', 'b', 'c']), names: [nameData('a', 2)] }),
        threadData({ threadId: 1, probedModules: probed(['a', 'b', 'c']), names: [nameData('b', 1)] }),
      ],
    );
    expect(run.uncalledProbes).toEqual(['./lib.mjs:c']);
  });

  it('are not told when names went to (other), nor for a module a thread loaded before it ended unsaved', () => {
    const other = mergeRun(
      ['node'],
      [threadData({ probedModules: probed(['a']), names: [nameData('(other)', 3)] })],
    );
    expect(other.uncalledProbes).toEqual([]);
    const unsaved = mergeRun(
      ['node'],
      [
        threadData({ probedModules: probed(['a', 'b']) }),
        threadData({ threadId: 1, partial: true, probedModules: probed(['a']) }),
      ],
    );
    expect(unsaved.uncalledProbes).toEqual(['./lib.mjs:b']);
  });
});

describe('a timeline that filled its buffer', () => {
  it('says how many transitions the trace and report leave out', () => {
    const thread = threadData({ timeline: { dropped: 31_477_970 } as ThreadData['timeline'] });
    const text = formatSummary({ ...data, threads: [thread, { ...thread, timeline: undefined }] });
    expect(text).toContain(
      "(the timeline of 1 thread(s) filled its buffer: 31,477,970 later transitions are not in the trace nor in the report's timeline",
    );
    expect(formatSummary({ ...data, threads: [{ ...thread, timeline: undefined }] })).not.toContain('filled');
  });
});

describe("the report's timeline", () => {
  it('draws at most 20,000 windows of many', () => {
    const n = 125_642;
    const kind: number[] = [];
    const id: number[] = [];
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      kind.push(1, 0); // opened running, then stopped
      id.push(i + 1, i + 1);
      at.push(i * 100, i * 100 + 50);
    }
    const timeline = {
      pid: 7,
      threadId: 0,
      timeOrigin: 1_700_000_000_000,
      names: ['w'],
      kind,
      id,
      at,
      name: new Array(2 * n).fill(0),
      value: new Array(2 * n).fill(0),
      violations: [],
      dropped: 0,
    };
    const thread = threadData({ timeline });
    const model = reportModel({ ...data, violations: [], threads: [thread] });
    let drawn = 0;
    for (let i = 0; i < model.timeline.w.length; i += 6 + 2 * (model.timeline.w[i + 5] as number)) drawn++;
    expect(model.timeline.total).toBe(n);
    expect(drawn).toBe(20_000);
  });
});

describe('a run no thread wrote data for', () => {
  const empty: RunData = { ...data, violations: [], threads: [] };
  /** A main thread that ran `argv` and had no window. */
  const main = (argv: string[]) => threadData({ argv });
  it('says the program died by a signal before it could write, when it did', () => {
    const killed: RunData = { ...empty, threads: [{ ...main(['app.mjs']), partial: true }] };
    expect(formatSummary(killed, 'SIGHUP')).toContain('tlob: 0 thread(s) reported, 1 more saved nothing');
    expect(formatSummary(empty, 'SIGABRT')).toContain(
      '(the program was killed by SIGABRT before it could write its data: the abort reactor, process.abort() and fatal errors such as running out of memory end it so)',
    );
    expect(formatSummary(empty, 'SIGABRT')).not.toContain('did a probe match?');
  });
  it('asks whether a probe matched, when it exited', () => {
    // a thread that names its probed modules, none with a note of its own (a probe of `attach`
    // with handlers of its own has no window name), or that does not say
    for (const probedModules of [[{ module: './app.mjs', loaded: true, probes: [] }], undefined]) {
      const text = formatSummary({ ...empty, threads: [threadData({ argv: ['app.mjs'], probedModules })] });
      expect(text).toContain(
        '(no window finished: did a probe match? a path that does not resolve in its module is refused with a warning on stderr when the module loads; `tlob list` shows the probes the specs set)',
      );
      expect(text).not.toContain('Jest and Vitest');
    }
  });
  it('says that no probe was set, when no thread names one, and that no node process wrote data, when none did', () => {
    const none = formatSummary({ ...empty, threads: [threadData({ argv: ['app.mjs'], probedModules: [] })] });
    expect(none).toContain(
      '(no window finished, and no probe was set: name the functions to measure with -p',
    );
    expect(none).not.toContain('did a probe match?');
    expect(none).not.toMatch(/^name +count/m); // no table over no row
    expect(formatSummary({ ...data, names: [nameData('route', 3)] })).toMatch(
      /^name +count +violations +p50 +p99 +run p50 +wait p50 +sleep p50$/m,
    );
    // a thread that wrote only its start may have had probes
    const unsure = formatSummary({
      ...empty,
      threads: [
        threadData({ argv: ['app.mjs'], probedModules: [] }),
        threadData({ pid: 8, argv: ['child.mjs'], partial: true }),
      ],
    });
    expect(unsure).not.toContain('no probe was set');
    expect(formatSummary(empty)).toContain('(no Node.js process of the run wrote data');
    expect(formatSummary(empty)).not.toContain('did a probe match?');
  });
  it('says where a probe spec does not reach, under a test runner', () => {
    for (const argv of [
      ['/app/node_modules/vitest/vitest.mjs', 'run'],
      ['/app/node_modules/vitest/dist/workers/forks.js'],
      ['/app/node_modules/.bin/jest'],
      ['/app/node_modules/jest-worker/build/processChild.js'],
    ]) {
      expect(formatSummary({ ...empty, threads: [main(argv)] })).toContain(
        '(Jest and Vitest load test files',
      );
    }
    expect(formatSummary({ ...empty, threads: [main(['/app/jester.js'])] })).not.toContain('Jest and Vitest');
  });
});

describe('the worst violations', () => {
  it('are ranked by how many times its budget the call took, not by the elapsed at the deadline', () => {
    const lines = formatSummary(data).split('\n');
    const listed = lines.slice(lines.indexOf('worst violations (3 in all):') + 1).filter(Boolean);
    expect(listed).toEqual([
      '  "tiny" #2 pid 7: took 50.0ms, 50.0x its budget 1.00ms (at the budget: running 100us, waiting 0ns, sleeping 900us, in sleeping)',
      '  "open" #3 pid 7: not ended, took at least 15.0ms, 1.50x its budget 10.0ms (at the budget: running 100us, waiting 0ns, sleeping 9.90ms, in sleeping, found 5.00ms late)',
      '  "big" #1 pid 7: took 33.0ms, 1.10x its budget 30.0ms (at the budget: running 100us, waiting 0ns, sleeping 29.9ms, in sleeping)',
    ]);
  });

  it("name the worker thread of a violation found in one (a pool's workers share a pid)", () => {
    const thread = (threadId: number, id: number) =>
      threadData({ threadId, violations: [violation(id, 'job', 10e6, { endedElapsedNs: 20e6 })] });
    const merged = mergeRun(['node', 'pool.mjs'], [thread(0, 4), thread(3, 5)]);
    expect(merged.violations.map((v) => [v.id, v.threadId])).toEqual([
      [4, undefined],
      [5, 3],
    ]);
    const text = formatSummary(merged);
    expect(text).toContain('  "job" #5 pid 7 worker 3: took 20.0ms');
    expect(text).toContain('  "job" #4 pid 7: took 20.0ms');
  });

  it('are listed worst first in the report, with how long the call took', () => {
    const listed = reportModel(data).violations;
    expect(listed.map((v) => [v.name, v.tookNs, v.ended, v.lateNs])).toEqual([
      ['tiny', 50e6, true, 0],
      ['open', 15e6, false, 5e6],
      ['big', 33e6, true, 0],
    ]);
  });
});

describe('a state some windows never were in', () => {
  it('has 0 as its percentiles up to the share of those windows, in the summary and the report', () => {
    const zeros = new SparseHistogram();
    for (let i = 0; i < 6; i++) zeros.record(0);
    for (let i = 0; i < 4; i++) zeros.record(5e6);
    const half = { ...nameData('mix', 10), waiting: zeros.toJSON(), sleeping: zeros.toJSON() };
    const run: RunData = { ...data, violations: [], names: [half] };
    const row = formatSummary(run)
      .split('\n')
      .find((l) => l.startsWith('mix'));
    expect(row?.trim().split(/\s+/).slice(-2)).toEqual(['0ns', '0ns']);
    expect(reportModel(run).names[0]?.pct[2]?.[0]).toBe(0); // waiting p50
    expect(zeros.percentile(60)).toBe(0);
    expect(zeros.percentile(61)).toBeGreaterThan(4.9e6);
  });
});

/** A name with `count` windows of 1 ms each. */
function nameData(name: string, count: number, violations = 0) {
  const h = new SparseHistogram();
  for (let i = 0; i < count; i++) h.record(1e6);
  const data = h.toJSON();
  return {
    name,
    budgetNs: 5e6,
    count,
    violations,
    elapsed: data,
    running: data,
    waiting: data,
    sleeping: data,
  };
}

describe('many names', () => {
  const many: RunData = {
    ...data,
    violations: [],
    names: [
      ...Array.from({ length: 40 }, (_, i) => nameData(`route-${i}`, i + 1)),
      nameData(`\u001b[31mred\u001b[0m-${'x'.repeat(100)}`, 1, 1),
    ],
  };

  it('the summary lists the 30 names with the most violations, then windows, each on one printable line of bounded width', () => {
    const lines = formatSummary(many).split('\n');
    const rows = lines.filter((l) => /^(route-|\?\[31mred)/.test(l));
    expect(rows).toHaveLength(30);
    expect(rows[0]).toMatch(/^\?\[31mred\?\[0m-x+… /); // the one with a violation first, escapes shown as '?'
    expect(rows[0]?.indexOf('…')).toBe(59);
    expect(rows[1]).toMatch(/^route-39 /); // then the most windows
    expect(lines).toContain('… and 11 more names (every name is in the --report and --json outputs)');
  });

  it('the report draws histograms for the 60 names with the most windows and keeps every name in its table', () => {
    const more: RunData = { ...many, names: Array.from({ length: 70 }, (_, i) => nameData(`n-${i}`, i + 1)) };
    const model = reportModel(more);
    expect(model.names).toHaveLength(70);
    const drawn = model.names.filter((n) => n.hist !== undefined).map((n) => n.name);
    expect(drawn).toHaveLength(60);
    expect(drawn).not.toContain('n-9'); // 10 windows: among the 10 with the fewest
    expect(drawn).toContain('n-10');
  });
});

describe('modules that probes name and no process loaded', () => {
  const named = (loaded: boolean) => [
    { module: './lib.mjs', loaded, probes: [{ path: 'work', name: 'work' }] },
  ];
  it('are told when every process that names them wrote its data', () => {
    const run = mergeRun(['npm', 'start'], [threadData({ probedModules: named(false) })]);
    expect(run.unloadedProbeModules).toEqual(['./lib.mjs']);
  });
  it('are not told when a process that had not loaded them at its last save ended without its data (`tlob run -- npm start`)', () => {
    const run = mergeRun(
      ['npm', 'start'],
      [
        threadData({ pid: 7, probedModules: named(false) }), // npm itself
        threadData({ pid: 8, partial: true, probedModules: named(false) }), // the server, stopped unsaved
      ],
    );
    expect(run.unloadedProbeModules).toEqual([]);
    expect(formatSummary(run)).not.toMatch(/never loaded/);
  });
});
