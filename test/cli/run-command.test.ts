import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { TraceEvent } from '../../src/index.js';
import type { RunData } from '../../src/report/run-data.js';
import { nodeBinary } from '../probes/preload-apps.js';
import { checkTrace } from '../report/trace-structure.js';
import { cli, countOf, dist, fixtures, readRun, root, runTlob, scratch, startTlob } from './run-tlob.js';

const WORK_ESM = 'p ./lib.mjs:work threshold=20ms name=work';

/** A program that only writes the file `ran` in `dir`: whether it started at all. */
function markingProgram(dir: string): { ran: string; program: string[] } {
  const ran = join(dir, 'ran');
  return {
    ran,
    program: ['--', nodeBinary(), '-e', `require('fs').writeFileSync(${JSON.stringify(ran)}, '')`],
  };
}
const WORK_CJS = 'p ./lib.cjs:work threshold=20ms name=work';

describe('tlob run', () => {
  it('runs an ESM app with a probe and writes merged data, a trace and a report', () => {
    const dir = scratch();
    const json = join(dir, 'run.json');
    const out = runTlob(
      [
        'run',
        '-p',
        WORK_ESM,
        '--json',
        json,
        '--trace',
        join(dir, 't.json'),
        '--report',
        join(dir, 'r.html'),
        'app.mjs',
      ],
      { env: { WORK: '12', SLOW: '2' } },
    );
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('esm app did 12 calls');
    const data = readRun(json);
    expect(countOf(data, 'work')).toBe(14);
    // the two 30 ms spins break the 20 ms budget (on a loaded machine a 6 ms call may too)
    expect(data.names[0]?.violations).toBeGreaterThanOrEqual(2);
    expect(data.violations.length).toBe(data.names[0]?.violations);
    expect(data.names[0]?.elapsed.max).toBeGreaterThanOrEqual(30e6);
    // the collector adds to each violation how long its call took in the end
    expect(Math.max(...data.violations.map((v) => Number(v.endedElapsedNs)))).toBeGreaterThanOrEqual(30e6);
    expect(data.threads).toHaveLength(1);
    expect(data.threads[0]?.timeline?.names).toEqual(['work']);
    // the summary table on stderr
    expect(out.stderr).toMatch(/^name +count +violations +p50 +p99 +run p50 +wait p50 +sleep p50$/m);
    expect(out.stderr).toMatch(/^work +14 +\d+ /m);
    expect(out.stderr).toMatch(
      /worst violations \(\d+ in all\):\n {2}"work" #\d+ pid \d+: took [\d.]+ms, [\d.]+x its budget 20\.0ms \(at the budget: running /,
    );
    expect(existsSync(join(dir, 't.json'))).toBe(true);
    expect(existsSync(join(dir, 'r.html'))).toBe(true);
  });

  /** `tlob run` of app.mjs making two calls of `work`, with `WORK_ESM` and `specs`: its output, data and report. */
  function runWithNotes(specs: string[]): { out: SpawnSyncReturns<string>; data: RunData; report: string } {
    const dir = scratch();
    const json = join(dir, 'run.json');
    const report = join(dir, 'r.html');
    const probes = [WORK_ESM, ...specs].flatMap((spec) => ['-p', spec]);
    const out = runTlob(['run', ...probes, '--json', json, '--report', report, 'app.mjs'], {
      env: { WORK: '2' },
    });
    expect(out.status, out.stderr).toBe(0);
    const data = readRun(json);
    expect(countOf(data, 'work')).toBe(2);
    return { out, data, report: readFileSync(report, 'utf8') };
  }

  it('says which probes on modules that loaded no call came through (a call from inside the module), in the summary and the report', () => {
    const { out, data, report } = runWithNotes([
      'p ./lib.mjs:spin threshold=20ms',
      'p ./lib.mjs:hang threshold=1s',
    ]);
    // work() calls spin() inside lib.mjs, past the probe; nothing calls hang()
    expect(data.uncalledProbes?.sort()).toEqual(['./lib.mjs:hang', './lib.mjs:spin']);
    const note =
      /\(no call came through these probes, on modules that loaded: \.\/lib\.mjs:(spin|hang), \.\/lib\.mjs:(spin|hang); a module probe replaces an export, so calls from inside its own module/;
    expect(out.stderr).toMatch(note);
    expect(report).toMatch(/<section id="notes"><h2>Notes<\/h2><ul><li>no call came through these probes/);
  });

  it('says which probes their module refused as it loaded, and why, in the data, the summary and the report', () => {
    const { out, data, report } = runWithNotes(['p ./lib.mjs:wrok threshold=20ms']);
    expect(data.refusedProbes).toEqual([
      { probe: './lib.mjs:wrok', reason: expect.stringMatching(/did you mean "work"/) },
    ]);
    // the warning went to stderr as the module loaded; the summary says it again after the table
    const note =
      /\(probes refused by their module as it loaded, so they measured nothing: \.\/lib\.mjs:wrok \(.*did you mean "work".*\)\)$/m;
    expect(out.stderr).toMatch(note);
    expect(out.stderr.indexOf('probes refused by')).toBeGreaterThan(out.stderr.search(/^work +2 /m));
    expect(report).toMatch(/<li>probes refused by their module as it loaded[^<]*\.\/lib\.mjs:wrok/);
  });

  it('does not count a probe refused as a second one on the same function, spelt otherwise, among those no call came through', () => {
    const json = join(scratch(), 'twice.json');
    const twice = `p ${join(fixtures, 'lib.mjs')}:work threshold=1s name=again`;
    const out = runTlob(['run', '-p', WORK_ESM, '-p', twice, '--json', json, 'app.mjs'], {
      env: { WORK: '2' },
    });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toContain('already has a probe');
    expect(countOf(readRun(json), 'work')).toBe(2);
    expect(readRun(json).uncalledProbes).toEqual([]);
  });

  it('does not count a probe whose call is still running when the program is stopped among those no call came through', async () => {
    const json = join(scratch(), 'in-flight.json');
    const run = await startUntilReady(
      ['run', '-p', 'p ./lib.mjs:hang threshold=3600s', '--json', json, 'hung.mjs'],
      {
        HUNG_MS: '50',
      },
    );
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual([null, 'SIGTERM']);
    const data = readRun(json);
    expect(data.threads[0]?.probedModules?.[0]?.loaded, run.stderr()).toBe(true);
    expect(data.uncalledProbes).toEqual([]);
  });

  it('says that no probe was set, rather than asking whether one matched, for a run without any', () => {
    const dir = scratch();
    writeFileSync(
      join(dir, 'app.mjs'),
      "await new Promise((r) => setTimeout(r, 5));\nconsole.log('app ran');\n",
    );
    const out = runTlob(['run', 'app.mjs'], { cwd: dir });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toBe('app ran\n');
    expect(out.stderr).toContain(
      '(no window finished, and no probe was set: name the functions to measure with -p',
    );
    expect(out.stderr).not.toContain('did a probe match?');
    // a probe whose path its module does not resolve says so instead
    writeFileSync(join(dir, 'lib.mjs'), 'export const work = () => 1;\n');
    writeFileSync(join(dir, 'use.mjs'), "import { work } from './lib.mjs';\nwork();\n");
    const refused = runTlob(['run', '-p', 'p ./lib.mjs:nosuch threshold=5ms', 'use.mjs'], { cwd: dir });
    expect(refused.status, refused.stderr).toBe(0);
    expect(refused.stderr).toContain('(probes refused by their module as it loaded');
    expect(refused.stderr).not.toContain('no probe was set');
    // a command that starts no node process
    const shell = runTlob(['run', '--', 'sh', '-c', 'exit 9'], { cwd: dir });
    expect(shell.status).toBe(9);
    expect(shell.stderr).toContain('(no Node.js process of the run wrote data');
    expect(shell.stderr).not.toContain('did a probe match?');
  });

  it('says which modules that probes name the program never loaded (a misspelt package, a path without ./)', () => {
    const dir = scratch();
    const json = join(dir, 'run.json');
    const out = runTlob(
      [
        ...['run', '-p', WORK_ESM, '-p', 'p expres:application.handle threshold=20ms'],
        ...['-p', 'p lib.mjs:work threshold=20ms name=bare', '--json', json, 'app.mjs'],
      ],
      { env: { WORK: '2' } },
    );
    expect(out.status, out.stderr).toBe(0);
    const data = readRun(json);
    expect(countOf(data, 'work')).toBe(2);
    expect(data.unloadedProbeModules).toEqual(['expres', 'lib.mjs']);
    expect(out.stderr).toContain(
      '(probes name modules the program never loaded, so they measured nothing: expres, lib.mjs; a misspelt name, a file path without ./, a relative path from a process in another directory, or a module bundled into another file? see docs/probes.md)',
    );
  });

  it('runs a CommonJS app', () => {
    const json = join(scratch(), 'run.json');
    const out = runTlob(['run', '-p', WORK_CJS, '--json', json, 'app.cjs']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('cjs app did 7 calls');
    expect(countOf(readRun(json), 'work')).toBe(7);
  });

  it('leaves a main file to the loader Node would pick without tlob, where a require hook (tsx/cjs, ts-node) compiles it', () => {
    // an --import preload would make Node load every main file through its ES module loader,
    // which knows nothing of the hook: this one, in ES module syntax, would run as an ES module
    const json = join(scratch(), 'run.json');
    const out = runTlob([
      ...['run', '-p', WORK_CJS, '--json', json],
      ...['--', 'node', '--require', './hooked/ts-hook.js', 'hooked/app.ts'],
    ]);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('hooked app did 3 calls, compiled by the hook: true');
    expect(countOf(readRun(json), 'work')).toBe(3);
  });

  it('measures a worker thread started from a string', () => {
    const json = join(scratch(), 'run.json');
    const out = runTlob(['run', '-p', WORK_CJS, '--json', json, 'eval-worker.cjs']);
    expect(out.status, out.stderr).toBe(0);
    const run = readRun(json);
    expect(run.threads.map((t) => [t.threadId, t.names[0]?.count ?? 0])).toEqual([
      [0, 0],
      [1, 2],
    ]);
  });

  it('merges the data of a forked child with its parent', () => {
    const dir = scratch();
    const json = join(dir, 'run.json');
    const trace = join(dir, 'trace.json');
    const out = runTlob(['run', '-p', WORK_ESM, '--json', json, '--trace', trace, '--', 'node', 'fork.mjs']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('parent done, child exited 0');
    const data = readRun(json);
    expect(new Set(data.threads.map((t) => t.pid)).size).toBe(2);
    expect(data.threads.map((t) => t.names[0]?.count).sort()).toEqual([3, 4]);
    expect(countOf(data, 'work')).toBe(7);
    expect(out.stderr).toContain('tlob: 2 thread(s) reported');
    // one trace for both processes: each named, its windows on its own tracks
    const events = checkTrace(JSON.parse(readFileSync(trace, 'utf8')));
    expect(events.map((w) => w.name)).toEqual(Array(7).fill('work'));
    const names = JSON.parse(readFileSync(trace, 'utf8')).traceEvents.filter(
      (e: TraceEvent) => e.name === 'process_name',
    );
    // the child says which process of the run started it
    const parent = data.threads.find((t) => String(t.argv[0]).endsWith('fork.mjs'))?.pid;
    expect(names.map((e: TraceEvent) => e.args?.name).sort()).toEqual([
      expect.stringMatching(new RegExp(`^node .*app\\.mjs \\(child of ${parent}\\)$`)),
      expect.stringMatching(/^node .*fork\.mjs$/),
    ]);
  });

  it('merges the data of cluster workers and of worker threads', () => {
    const json = join(scratch(), 'cluster.json');
    const cluster = runTlob(['run', '-q', '-p', WORK_ESM, '--json', json, 'cluster.mjs']);
    expect(cluster.status, cluster.stderr).toBe(0);
    expect(cluster.stdout).toContain('cluster done');
    const fromCluster = readRun(json);
    expect(new Set(fromCluster.threads.map((t) => t.pid)).size).toBe(3);
    expect(countOf(fromCluster, 'work')).toBe(5);

    const threadsJson = join(scratch(), 'threads.json');
    const threads = runTlob(['run', '-q', '-p', WORK_ESM, '--json', threadsJson, 'threads.mjs']);
    expect(threads.status, threads.stderr).toBe(0);
    const fromThreads = readRun(threadsJson);
    expect(fromThreads.threads.map((t) => [t.threadId, t.names[0]?.count ?? 0])).toEqual([
      [0, 1],
      [1, 3],
    ]);
    expect(countOf(fromThreads, 'work')).toBe(4);
  });

  it('counts the windows of names past 1000 under "(other)", in each thread and in the merge', () => {
    const json = join(scratch(), 'run.json');
    const out = runTlob(['run', '--json', json, 'many-names.mjs'], { env: { NAMES: '1500', WORKER: '1' } });
    expect(out.status, out.stderr).toBe(0);
    const data = readRun(json);
    expect(data.threads).toHaveLength(2);
    for (const thread of data.threads) {
      expect(thread.names).toHaveLength(1001);
      expect(thread.names.find((n) => n.name === '(other)')?.count).toBe(500);
    }
    // the main thread's first 1000 names are kept apart; its other 500 and all the worker's are not
    expect(data.names).toHaveLength(1001);
    expect(countOf(data, '(other)')).toBe(2000);
    expect(data.names.reduce((sum, n) => sum + n.count, 0)).toBe(3000);
  });

  it('measures worker threads started with an env of their own that passes NODE_OPTIONS on, and their workers', () => {
    const json = join(scratch(), 'own-env.json');
    const out = runTlob(['run', '-q', '-p', WORK_ESM, '--json', json, 'threads.mjs'], {
      env: { OWN_ENV: '1' },
    });
    expect(out.status, out.stderr).toBe(0);
    // by thread id: the main thread, its worker, that worker's own (the watchdog thread, started
    // at the first of them, takes an id among theirs)
    const threads = readRun(json).threads.sort((a, b) => a.threadId - b.threadId);
    expect(threads.map((t) => t.names[0]?.count ?? 0)).toEqual([1, 3, 2]);
    expect(threads[0]?.threadId).toBe(0);
  });

  it('keeps the data of child processes that end after the program, when tlob is stopped by SIGTERM', async () => {
    const json = join(scratch(), 'linger.json');
    const run = await startUntilReady(['run', '-p', WORK_ESM, '--json', json, 'children-linger.mjs']);
    run.child.kill('SIGTERM'); // tlob, which hands it to the program
    expect(await run.exit).toEqual([null, 'SIGTERM']);
    const data = readRun(json);
    expect(data.threads.filter((t) => t.partial !== true)).toHaveLength(3);
    expect(countOf(data, 'work')).toBe(4);
    expect(run.stderr()).not.toMatch(/cannot write|ended without/);
  });

  it('a violation whose call ended after a save of its worker thread has how long it took, not how long it had run at that save', () => {
    const json = join(scratch(), 'worker.json');
    // the violation (the budget timer, at 20 ms) makes the worker save: its call runs on to 50 ms
    const out = runTlob(['run', '-q', '-p', WORK_ESM, '--json', json, 'worker-over-budget.mjs']);
    expect(out.status, out.stderr).toBe(0);
    const [v] = readRun(json).violations;
    expect(v?.threadId).toBeGreaterThan(0);
    expect(Number(v?.endedElapsedNs)).toBeGreaterThanOrEqual(50e6);
    expect(v?.runningAtWriteNs).toBeUndefined();
  });

  it('a child that started as the program ended, too late for the run to wait for it, says its windows are not in the outputs', () => {
    const json = join(scratch(), 'late.json');
    const out = runTlob(['run', '-q', '-p', WORK_ESM, '--json', json, 'late-child.mjs']);
    expect(out.status).toBe(3);
    expect(countOf(readRun(json), 'work')).toBeUndefined();
    expect(out.stderr).toMatch(
      /tlob: process \d+ outlived its `tlob run`, which ended before it could save its data: its windows are not in the run's outputs/,
    );
  });

  it('says which processes it waits for once the program ended, and stops waiting on a signal', async () => {
    const json = join(scratch(), 'orphan.json');
    const run = startTlob(['run', '--json', json, 'orphan.mjs']);
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (d) => {
      stdout += d;
    });
    const waiting = new Promise<void>((resolve) =>
      run.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('tlob: waiting for')) resolve();
      }),
    );
    const exit = new Promise<[number | null, string | null]>((resolve) =>
      run.on('exit', (c, s) => resolve([c, s])),
    );
    await waiting;
    const orphan = Number(/orphan (\d+)/.exec(stdout)?.[1]);
    try {
      expect(stderr).toMatch(
        new RegExp(
          `tlob: waiting for 1 process\\(es\\) the program started to end \\(pid ${orphan}; up to 5 s`,
        ),
      );
      run.kill('SIGTERM');
      expect(await exit).toEqual([0, null]); // the program's exit, not the 5 s
      expect(stderr).toMatch(
        new RegExp(`\\(1 process\\(es\\) ended without writing their data.*: ${orphan}\\)`),
      );
    } finally {
      process.kill(orphan, 'SIGKILL');
    }
  });

  it('writes its summary and outputs although a process of the program still writes into its data directory', async () => {
    const dir = scratch();
    const json = join(dir, 'busy.json');
    // a helper outside tlob (no preload, so not waited for) that keeps making files in the run's
    // data directory, as a detached process of the program that starts worker threads does
    const writer = join(dir, 'writer.cjs');
    writeFileSync(
      writer,
      `const { writeFileSync } = require('node:fs');
const end = Date.now() + 3000;
for (let i = 0; Date.now() < end; i++) {
  try { writeFileSync(process.argv[2] + '/late-' + (i % 50), 'x'); } catch {}
}
`,
    );
    const app = join(dir, 'app.cjs');
    writeFileSync(
      app,
      `const { spawn } = require('node:child_process');
const env = { ...process.env, NODE_OPTIONS: '' };
spawn(process.execPath, [${JSON.stringify(writer)}, process.env.TLOB_OUTPUT], { detached: true, stdio: 'ignore', env }).unref();
require(${JSON.stringify(join(dist, 'index.cjs'))}).tlob.run('app', { budget: '1s' }, () => {});
setTimeout(() => {}, 300);
`,
    );
    const out = runTlob(['run', '--json', json, app], { cwd: root });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/^app +1 +0 /m);
    expect(countOf(readRun(json), 'app')).toBe(1);
    await new Promise((r) => setTimeout(r, 3000)); // the helper's end, before the test's
  });

  it('reports windows whose budget ran out while the thread was held until it exits', () => {
    const dir = scratch();
    const json = join(dir, 'held.json');
    const app = join(dir, 'held.mjs');
    // three windows asleep on long timers; their 100 ms budgets run out while the thread is held,
    // and it ends before their budget timer could run
    writeFileSync(
      app,
      `import { hang, spin } from ${JSON.stringify(join(fixtures, 'lib.mjs'))};
hang(); hang(); hang();
setTimeout(() => { spin(400); process.exit(0); }, 10);
`,
    );
    const out = runTlob([
      'run',
      '--no-watchdog',
      '-p',
      `p ${join(fixtures, 'lib.mjs')}:hang threshold=100ms name=hang`,
      '--json',
      json,
      app,
    ]);
    expect(out.stderr).toMatch(/worst violations \(3 in all\)/);
    const data = readRun(json);
    expect(data.names.find((n) => n.name === 'hang')?.violations).toBe(3);
    for (const v of data.violations) {
      expect(v).toMatchObject({ name: 'hang', state: 'sleeping', event: 'budget_expired', elapsedNs: 100e6 });
      expect(v.reportedLateNs).toBeGreaterThan(200e6); // found at the end, ~300 ms after the deadline
    }
  });

  it('counts a terminated worker thread up to its last save, and says so', () => {
    const json = join(scratch(), 'terminated.json');
    // terminated after its save of the second after its calls
    const out = runTlob(['run', '-p', WORK_ESM, '--json', json, 'terminated.mjs'], {
      env: { TERMINATE_AFTER: '2500' },
    });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('terminated');
    const run = readRun(json);
    expect(run.threads.map((t) => [t.threadId, t.names[0]?.count ?? 0, t.partial ?? false])).toEqual([
      [0, 1, false],
      [1, 3, true],
    ]);
    expect(countOf(run, 'work')).toBe(4);
    // a worker's saves leave its timeline to its final write, which a terminated one never makes
    expect(run.threads[0]?.timeline).toBeDefined();
    expect(run.threads[1]?.timeline).toBeUndefined();
    expect(out.stderr).toMatch(
      /tlob: 2 thread\(s\) reported\n\(1 worker thread\(s\) ended without their final write, terminated or still running at exit: their windows are counted up to their last save, which missed at most their last second and at most half of their windows while they ran \(a thread held in a loop saves nothing; its window over budget is kept as the watchdog reported it\): \d+\/1\)/,
    );
  });

  it('keeps the violation the watchdog reported for a worker thread held until the end, which never saved it', () => {
    const json = join(scratch(), 'held.json');
    const out = runTlob(['run', '--json', json, 'held-worker.mjs']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/"held" #\d+ over budget 50\.0ms: thread 1 is blocked/);
    const run = readRun(json);
    const held = run.violations.filter((v) => v.name === 'held');
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ threadId: 1, detectedBy: 'watchdog', budgetNs: 50e6, elapsedNs: 50e6 });
    expect(run.names.find((n) => n.name === 'held')?.violations).toBe(1);
    expect(out.stderr).toMatch(/"held" #\d+ pid \d+ worker 1: not ended, took at least/);
  });

  it('counts a worker thread terminated as soon as it is idle (a pool without an idle timeout) up to half of its windows at least', () => {
    const json = join(scratch(), 'terminated-at-once.json');
    const out = runTlob(['run', '-p', WORK_ESM, '--json', json, 'terminated.mjs'], {
      env: { TERMINATE_AFTER: '0' },
    });
    expect(out.status, out.stderr).toBe(0);
    const run = readRun(json);
    const worker = run.threads.find((t) => t.threadId === 1);
    expect(worker?.partial).toBe(true);
    expect(worker?.names[0]?.count).toBeGreaterThanOrEqual(2); // of its 3
    expect(out.stderr).toMatch(/\(1 worker thread\(s\) ended without their final write/);
  });

  it("passes the program's exit code through, after writing its data", () => {
    const json = join(scratch(), 'run.json');
    const out = runTlob(['run', '-q', '-r', 'nop', '-p', WORK_ESM, '--json', json, 'app.mjs'], {
      env: { WORK: '3', EXIT_CODE: '3' },
    });
    expect(out.status).toBe(3);
    expect(out.stderr).toBe(''); // -q: no summary; -r nop: no violation line either
    expect(countOf(readRun(json), 'work')).toBe(3);
  });

  /** Starts `tlob run … <script>`; resolves once the program did 5 calls, with its pid. */
  function startForever(json: string, script = 'forever.mjs') {
    return startUntilReady(['run', '-p', WORK_ESM, '--json', json, script]);
  }

  /** Starts `tlob <args>`; resolves once the program printed `ready <pid>`, with that pid. */
  async function startUntilReady(args: string[], env: Record<string, string> = {}) {
    const child = startTlob(args, env);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const pid = await new Promise<number>((resolve) =>
      child.stdout.on('data', (d) => {
        const match = /ready (\d+)/.exec(String(d));
        if (match) resolve(Number(match[1]));
      }),
    );
    const exit = new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    );
    // also after a test that timed out, which never reaches its own clean-up: a program left
    // spinning would hold a CPU through the rest of the run
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ended already
      }
    });
    return { child, pid, exit, stderr: () => stderr };
  }

  it('dies by the signal the program died by, after writing its data', async () => {
    const json = join(scratch(), 'run.json');
    const run = await startForever(json);
    process.kill(run.pid, 'SIGTERM'); // the program only, not tlob
    expect(await run.exit).toEqual([null, 'SIGTERM']);
    expect(countOf(readRun(json), 'work')).toBeGreaterThanOrEqual(5);
  });

  it('a call over budget still running at the end took at least until its thread wrote its data', async () => {
    const json = join(scratch(), 'hung.json');
    const spec = 'p ./lib.mjs:hang threshold=20ms name=hang';
    const run = await startUntilReady(['run', '-p', spec, '--json', json, 'hung.mjs'], { HUNG_MS: '600' });
    process.kill(run.pid, 'SIGTERM');
    await run.exit;
    const [v] = readRun(json).violations;
    expect(v?.name).toBe('hang');
    expect(v?.endedElapsedNs).toBeUndefined();
    expect(Number(v?.runningAtWriteNs)).toBeGreaterThanOrEqual(600e6);
    expect(run.stderr()).toMatch(
      /"hang" #1 pid \d+: not ended, took at least (6\d\d|[7-9]\d\d)ms|took at least \d\.\d\ds/,
    );
  });

  // `script` (util-linux) runs tlob on a terminal of its own, where a typed Ctrl-C is the
  // terminal's SIGINT to its foreground process group: tlob and the program it runs
  it.skipIf(!existsSync('/usr/bin/script')).each(['', ' < /dev/null'])(
    'a Ctrl-C typed at the terminal reaches the program once (stdin%s)',
    async (redirect) => {
      const command =
        [nodeBinary(), cli, 'run', '-q', '--', nodeBinary(), 'sigints.mjs']
          .map((word) => `'${word}'`)
          .join(' ') + redirect;
      const terminal = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], {
        cwd: fixtures,
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      terminal.stdout.on('data', (d) => {
        out += d;
        if (/ready \d+/.test(out) && !out.includes('^C')) terminal.stdin.write('\x03');
      });
      await new Promise((resolve) => terminal.on('exit', resolve));
      expect(out).toMatch(/sigints 1\b/);
    },
    20_000,
  );

  it.each([
    ['SIGTERM', 'the whole process group', true],
    ['SIGINT', 'the whole process group (no terminal)', true],
    ['SIGTERM', 'tlob alone', false],
  ] as const)(
    'a %s sent to %s reaches the program once; a second one sent to tlob alone, once more',
    async (signal, _, group) => {
      // a process group of its own, as a CI runner's or a service's: tlob and the program in it
      const child = spawn(nodeBinary(), [cli, 'run', '-q', '--', nodeBinary(), 'counted-signals.mjs'], {
        cwd: fixtures,
        env: { ...process.env, NODE_OPTIONS: '', SIGNAL: signal },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', (d) => {
          out += d;
          if (/ready \d+/.test(out)) resolve();
        }),
      );
      const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await ready;
      process.kill(group ? -(child.pid as number) : (child.pid as number), signal);
      // within the program's 1 s shutdown, after tlob passed the first on (or waited for it to)
      await new Promise((resolve) => setTimeout(resolve, 400));
      process.kill(child.pid as number, signal);
      expect(await exit).toBe(0);
      expect(out).toContain(`${signal} 2\n`);
    },
  );

  it.each(['SIGINT', 'SIGHUP'] as const)('writes the outputs when interrupted with %s', async (signal) => {
    // SIGHUP: the terminal or ssh session of the run closed
    const json = join(scratch(), 'run.json');
    const run = await startForever(json);
    run.child.kill(signal); // tlob, which hands it to the program
    expect(await run.exit).toEqual([null, signal]);
    expect(countOf(readRun(json), 'work')).toBeGreaterThanOrEqual(5);
    expect(run.stderr()).toMatch(/^work +\d+ +\d+ /m);
    expect(run.stderr()).not.toMatch(/saved nothing|never loaded/);
  });

  it('does not call a probe module unloaded when the process that loaded it died before its last save', async () => {
    const json = join(scratch(), 'run.json');
    const run = await startForever(json);
    process.kill(run.pid, 'SIGQUIT'); // the program only: it dies at once, writing nothing
    expect(await run.exit).toEqual([null, 'SIGQUIT']);
    expect(run.stderr()).toMatch(/saved nothing/);
    expect(run.stderr()).not.toMatch(/never loaded/);
    expect(readRun(json).unloadedProbeModules).toEqual([]);
  });

  it('leaves SIGINT to a program that handles it, and still writes the data when it exits', async () => {
    const json = join(scratch(), 'run.json');
    const run = await startForever(json, 'graceful.mjs');
    let stdout = '';
    run.child.stdout.on('data', (d) => {
      stdout += d;
    });
    run.child.kill('SIGINT');
    expect(await run.exit).toEqual([0, null]);
    expect(stdout).toContain('shut down gracefully');
    expect(countOf(readRun(json), 'work')).toBeGreaterThanOrEqual(5);
  });

  it('ends by SIGTERM a program held in a synchronous loop when it came, once the loop returns', async () => {
    const dir = scratch();
    const json = join(dir, 'busy.json');
    const until = join(dir, 'loop-may-end');
    const run = await startUntilReady(['run', '--json', json, 'busy.mjs'], { BUSY_UNTIL: until });
    process.kill(run.pid, 'SIGTERM'); // the program only, not tlob
    writeFileSync(until, ''); // the loop returns only after the signal came
    expect(await run.exit).toEqual([null, 'SIGTERM']);
    expect(readRun(json).threads.map((t) => t.partial ?? false)).toEqual([false]); // its data written
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'ends by %s sent to tlob a program held in a synchronous loop that never returns, with its data',
    async (signal) => {
      const json = join(scratch(), 'stuck.json');
      const run = await startUntilReady([
        'run',
        '-p',
        WORK_ESM,
        '-p',
        'p ./lib.mjs:spin threshold=50ms name=spin',
        '--json',
        json,
        'stuck.mjs',
      ]);
      try {
        // held past its budget: the watchdog says so
        while (!/"spin" #\d+ over budget 50\.0ms: the main thread is blocked/.test(run.stderr()))
          await new Promise((resolve) => setTimeout(resolve, 20));
        run.child.kill(signal); // tlob, which passes it on
        expect(await run.exit).toEqual([null, signal]);
        // the inspector's session that handed the signal over was closed before the process ended
        expect(run.stderr()).not.toContain('Waiting for the debugger');
      } finally {
        run.child.kill('SIGKILL');
        try {
          process.kill(run.pid, 'SIGKILL'); // a program left spinning, if it was not ended
        } catch {}
      }
      const data = readRun(json);
      expect(data.threads.map((t) => t.partial ?? false)).toEqual([false]);
      expect(countOf(data, 'work')).toBe(5);
      // the window that held the thread is in the data, as the watchdog reported it, not ended
      const held = data.violations.filter((v) => v.name === 'spin');
      expect(held).toHaveLength(1);
      expect(held[0]).toMatchObject({
        event: 'budget_expired',
        detectedBy: 'watchdog',
        state: 'running',
        budgetNs: 50e6,
        elapsedNs: 50e6,
        runningNs: 50e6,
      });
      expect(held[0]?.runningAtWriteNs).toBeGreaterThan(50e6);
      expect(held[0]?.endedElapsedNs).toBeUndefined();
      expect(data.names.find((n) => n.name === 'spin')?.violations).toBe(1);
    },
  );

  it('hands a process no signal that reached others, or came before it started', () => {
    // a run's data directory whose file of signals has a Ctrl-C typed before this process started
    // (a clean-up child its program spawns on Ctrl-C), and a SIGTERM passed on to another process
    const dir = scratch();
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const group = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2];
    writeFileSync(
      join(dir, 'signals'),
      `SIGINT g${group} ${Date.now() - 1000}\nSIGTERM ${process.pid} ${Date.now()}\n`,
    );
    const out = spawnSync(nodeBinary(), ['--import', 'tlob/register', 'app.mjs'], {
      cwd: fixtures,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        TLOB_OUTPUT: dir,
        TLOB_PROBES: WORK_ESM.replace('20ms', '10s'),
        WORK: '60', // ~0.4 s of windows: the watchdog reads the file a few times
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect([out.status, out.signal, out.stderr]).toEqual([0, null, '']);
    expect(out.stdout).toContain('esm app did 60 calls');
  });

  it('ends by a signal handed over a program that reaches its exit before the watchdog ends it', () => {
    // as the watchdog hands a signal over; the program then has nothing left to do and exits at
    // once, well before a watchdog thread would end it (here there is none)
    const dir = scratch();
    const take = `globalThis[Symbol.for('tlob.run.signals')].take('SIGINT', true)`;
    for (let i = 0; i < 3; i++) {
      const out = spawnSync(nodeBinary(), ['--import', 'tlob/register', '-e', `console.log(${take})`], {
        cwd: fixtures,
        env: { ...process.env, NODE_OPTIONS: '', TLOB_OUTPUT: dir, TLOB_WATCHDOG: '0' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect([out.status, out.signal, out.stdout, out.stderr]).toEqual([null, 'SIGINT', 'true\n', '']);
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'leaves %s to signal-exit, which cleans up and dies by it, with the data written',
    async (signal) => {
      const json = join(scratch(), 'run.json');
      const run = await startForever(json, 'signal-exit.mjs');
      let stdout = '';
      run.child.stdout.on('data', (d) => {
        stdout += d;
      });
      process.kill(run.pid, signal); // the program only, not tlob
      expect(await run.exit).toEqual([null, signal]);
      expect(stdout).toContain(`cleanup null ${signal}`);
      expect(countOf(readRun(json), 'work')).toBeGreaterThanOrEqual(5);
    },
  );

  it('reads grouped short options as util.parseArgs does: -qr nop, -qrnop', () => {
    for (const flags of [['-qr', 'nop'], ['-qrnop']]) {
      const json = join(scratch(), 'grouped.json');
      const out = runTlob(
        ['run', ...flags, '-p', 'p ./lib.mjs:work threshold=1us name=work', '--json', json, 'app.mjs'],
        {
          env: { WORK: '2' },
        },
      );
      expect(out.status, `${flags.join(' ')}: ${out.stderr}`).toBe(0);
      expect(out.stderr).toBe(''); // -q: no summary; -r nop: no violation line
      expect(countOf(readRun(json), 'work')).toBe(2);
    }
  });

  it('keeps the data of a program that changes directory under a relative TMPDIR', () => {
    const cwd = scratch();
    mkdirSync(join(cwd, 'tmp'));
    const json = join(cwd, 'chdir.json');
    // a budget no call breaks, even on a loaded machine: nothing is to be written on stderr
    const spec = `p ${join(fixtures, 'lib.mjs')}:work threshold=10s name=work`;
    const out = runTlob(['run', '-q', '-p', spec, '--json', json, join(fixtures, 'app.mjs')], {
      cwd,
      env: { WORK: '3', CHDIR: '/', TMPDIR: 'tmp' },
    });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toBe('');
    expect(countOf(readRun(json), 'work')).toBe(3);
  });

  it('says where it could not make its data directory, with exit 2', () => {
    const out = runTlob(['run', 'app.mjs'], { env: { TMPDIR: '/nonexistent/tlob' } });
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(
      /^tlob run: cannot make a directory for the run data in \/nonexistent\/tlob \(the temporary directory; set TMPDIR to another\): ENOENT/m,
    );
  });

  it('rejects a bad flag, a bad spec and a missing script with exit 2 and a clear message', () => {
    const flag = runTlob(['run', '--bogus', 'app.mjs']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/^tlob run: unknown option '--bogus'/m);
    expect(flag.stderr).toContain('Run `tlob run --help` for usage.');

    const spec = runTlob(['run', '-p', 'p ./lib.mjs:work threshold=fast', 'app.mjs']);
    expect(spec.status).toBe(2);
    expect(spec.stderr).toMatch(
      /^tlob run: probe: invalid probe spec "p \.\/lib\.mjs:work threshold=fast" at column \d+: expected/m,
    );

    const missing = runTlob(['run', 'nope.mjs']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^tlob run: cannot find the script "nope\.mjs"/m);
    // the value of a node option is not the script
    const afterImport = runTlob(['run', '--', 'node', '--import', 'some-apm/init.mjs', 'nope.mjs']);
    expect(afterImport.status).toBe(2);
    expect(afterImport.stderr).toMatch(/^tlob run: cannot find the script "nope\.mjs"/m);

    const none = runTlob(['run', '-p', WORK_ESM]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^tlob run: expected a script or node arguments to run, got none/m);

    const reactor = runTlob(['run', '-r', 'explode', 'app.mjs']);
    expect(reactor.status).toBe(2);
    expect(reactor.stderr).toMatch(/^tlob run: reactor: expected `reactor` to be one of/m);
  });

  it('runs node with a preload of a package named by a separate --import or -r value', () => {
    // an APM's usual set-up: `node --import dd-trace/initialize.mjs app.js`
    const dir = scratch();
    mkdirSync(join(dir, 'node_modules/some-apm'), { recursive: true });
    writeFileSync(
      join(dir, 'node_modules/some-apm/package.json'),
      '{ "name": "some-apm", "version": "1.0.0" }',
    );
    writeFileSync(join(dir, 'node_modules/some-apm/init.mjs'), "console.log('apm loaded');\n");
    writeFileSync(join(dir, 'node_modules/some-apm/init.cjs'), "console.log('apm required');\n");
    writeFileSync(join(dir, 'app.mjs'), "console.log('app ran');\n");
    const imported = runTlob(['run', '--', 'node', '--import', 'some-apm/init.mjs', 'app.mjs'], { cwd: dir });
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toBe('apm loaded\napp ran\n');
    const required = runTlob(['run', '--', 'node', '-r', 'some-apm/init.cjs', 'app.mjs'], { cwd: dir });
    expect(required.status, required.stderr).toBe(0);
    expect(required.stdout).toBe('apm required\napp ran\n');
  });

  it("refuses two outputs in one file, and an output in the program's own file, before the program runs", () => {
    const dir = scratch();
    const { ran, program } = markingProgram(dir);
    const same = runTlob([
      'run',
      '--json',
      join(dir, 'same.out'),
      '--trace',
      join(dir, 'same.out'),
      ...program,
    ]);
    expect(same.status).toBe(2);
    expect(same.stderr).toMatch(/^tlob run: --trace: .*same\.out is the file of --json already/m);
    const victim = join(dir, 'victim.mjs');
    writeFileSync(victim, "console.log('victim ran');\n");
    const overwrite = runTlob(['run', '--report', victim, victim]);
    expect(overwrite.status).toBe(2);
    expect(overwrite.stderr).toMatch(/^tlob run: --report: .*victim\.mjs is the program already/m);
    expect(readFileSync(victim, 'utf8')).toBe("console.log('victim ran');\n");
    expect(existsSync(ran)).toBe(false);
  });

  it('refuses an output named like a module (an output option that lost its file name) before the program runs', () => {
    const dir = scratch();
    // `tlob run --json lib.mjs app.mjs`: --json took a source file of the program for its file
    const lib = join(dir, 'lib.mjs');
    writeFileSync(lib, 'export const work = () => 1;\n');
    writeFileSync(join(dir, 'app.mjs'), "import { work } from './lib.mjs';\nwork();\n");
    for (const option of ['--json', '--trace', '--report']) {
      const out = runTlob(['run', option, 'lib.mjs', 'app.mjs'], { cwd: dir });
      expect(out.status, out.stderr).toBe(2);
      expect(out.stderr).toMatch(
        new RegExp(`^tlob run: ${option}: lib\\.mjs is named like a JavaScript or TypeScript module`, 'm'),
      );
      expect(readFileSync(lib, 'utf8')).toBe('export const work = () => 1;\n');
    }
    // `tlob run --json app.mjs`: the option took the only operand, the script
    const alone = runTlob(['run', '--json', 'app.mjs'], { cwd: dir });
    expect(alone.status).toBe(2);
    expect(alone.stderr).toMatch(
      /^tlob run: --json: app\.mjs is named like a JavaScript or TypeScript module/m,
    );
    // `tlob report data.json -o app.ts` alike
    const data = join(dir, 'data.json');
    expect(runTlob(['run', '-q', '--json', data, 'app.mjs'], { cwd: dir }).status).toBe(0);
    const report = runTlob(['report', data, '-o', 'app.ts'], { cwd: dir });
    expect(report.status, report.stderr).toBe(2);
    expect(report.stderr).toMatch(
      /^tlob report: --output: app\.ts is named like a JavaScript or TypeScript module/m,
    );
    expect(existsSync(join(dir, 'app.ts'))).toBe(false);
  });

  it('applies the config file it found to processes of the program in other directories', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'packages/api'), { recursive: true });
    writeFileSync(join(dir, 'lib.cjs'), 'exports.work = () => 1;\n');
    writeFileSync(
      join(dir, 'tlob.config.json'),
      JSON.stringify({ probes: [`p ${join(dir, 'lib.cjs')}:work threshold=1s name=work`] }),
    );
    // a workspace package started in its own directory, as `npm -w api run start` does
    writeFileSync(
      join(dir, 'packages/api/server.cjs'),
      "const { work } = require('../../lib.cjs');\nfor (let i = 0; i < 3; i++) work();\n",
    );
    writeFileSync(
      join(dir, 'main.cjs'),
      "require('node:child_process').fork('server.cjs', { cwd: require('node:path').join(__dirname, 'packages/api') });\n",
    );
    const json = join(dir, 'run.json');
    const out = runTlob(['run', '--json', json, 'main.cjs'], { cwd: dir });
    expect(out.status, out.stderr).toBe(0);
    expect(countOf(readRun(json), 'work')).toBe(3);
  });

  it('rejects a bad spec in the config file or in TLOB_PROBES with exit 2 before the program runs', () => {
    const dir = scratch();
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ probes: ['p ./lib.mjs:work threshold=fast'] }));
    const { ran, program } = markingProgram(dir);
    const fromConfig = runTlob(['run', '--config', config, ...program]);
    expect(fromConfig.status).toBe(2);
    expect(fromConfig.stderr).toMatch(
      /^tlob run: .*bad\.json: invalid probe spec "p \.\/lib\.mjs:work threshold=fast" at column 28: expected/m,
    );
    expect(fromConfig.stderr).toContain('Run `tlob run --help` for usage.');
    const fromEnv = runTlob(['run', ...program], {
      env: { TLOB_PROBES: 'p ./lib.mjs:work threshold=fast' },
    });
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).toMatch(/^tlob run: TLOB_PROBES: invalid probe spec "p \.\/lib\.mjs:work/m);
    expect(existsSync(ran)).toBe(false); // the program never started
    writeFileSync(config, '{"probes": 5}');
    const malformed = runTlob(['run', '--config', config, ...program]);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/^tlob run: \/.*bad\.json: expected "probes" to be a string/m); // no "tlob: tlob:"
  });

  it('rejects a removal of a probe that is not there, or a second probe on one function, with exit 2 before the program runs', () => {
    const dir = scratch();
    const config = join(dir, 'probes.json');
    writeFileSync(config, JSON.stringify({ probes: ['p ./lib.mjs:work threshold=20ms'] }));
    const { ran, program } = markingProgram(dir);
    const missing = runTlob(['run', '--probe=-./lib.mjs:tick', ...program]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(
      /^tlob run: probe: -\.\/lib\.mjs:tick: no probe \.\/lib\.mjs:tick to remove \(probes: none\)/m,
    );
    const twice = runTlob(['run', '--config', config, '-p', 'p ./lib.mjs:work threshold=5ms', ...program]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/already has a probe \(remove it first with -\.\/lib\.mjs:work\)/);
    expect(existsSync(ran)).toBe(false); // the program never started
    // a removal of the config file's probe, then a new one: what the preload applies in that order
    const replaced = runTlob([
      'run',
      '-q',
      '--config',
      config,
      '--probe=-./lib.mjs:work',
      '-p',
      'p ./lib.mjs:work threshold=5ms',
      ...program,
    ]);
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(existsSync(ran)).toBe(true);
  });

  it('rejects an output that cannot be written with exit 2 before the program runs', () => {
    const dir = scratch();
    const { ran, program } = markingProgram(dir);
    const json = runTlob([
      'run',
      '--json',
      join(dir, 'nope', 'd.json'),
      '--report',
      join(dir, 'r.html'),
      ...program,
    ]);
    expect(json.status).toBe(2);
    expect(json.stderr).toMatch(
      /^tlob run: --json: cannot write ".*d\.json": the directory .*nope does not exist$/m,
    );
    const trace = runTlob(['run', '--trace', dir, ...program]);
    expect(trace.status).toBe(2);
    expect(trace.stderr).toMatch(/^tlob run: --trace: expected a file to write, got the directory/m);
    expect(existsSync(ran)).toBe(false);
  });

  it("writes the other outputs and keeps the program's exit code when one cannot be written at the end", () => {
    const dir = scratch();
    const gone = join(dir, 'gone');
    mkdirSync(gone);
    const report = join(dir, 'r.html');
    // the program removes the directory of the --json file while it runs
    const out = runTlob([
      'run',
      '-q',
      '--json',
      join(gone, 'd.json'),
      '--report',
      report,
      '--',
      nodeBinary(),
      '-e',
      `require('fs').rmSync(${JSON.stringify(gone)}, { recursive: true }); process.exitCode = 3`,
    ]);
    expect(out.status, out.stderr).toBe(3);
    expect(out.stderr).toMatch(/^tlob: cannot write .*d\.json: ENOENT/m);
    expect(out.stderr).not.toMatch(/^\s+at /m); // no stack
    expect(existsSync(report)).toBe(true);
  });

  it('dies by SIGPIPE or SIGUSR1 when the program did, signals Node ignores or uses itself', () => {
    for (const signal of ['SIGPIPE', 'SIGUSR1'] as const) {
      const out = runTlob(['run', '-q', '--', 'sh', '-c', `kill -${signal.slice(3)} $$`]);
      expect([out.status, out.signal], signal).toEqual([null, signal]);
      expect(out.stderr).not.toContain('Debugger listening'); // SIGUSR1 did not start the inspector
    }
  });

  it('runs the node binary given by path, with its own options', () => {
    const dir = scratch();
    const json = join(dir, 'run.json');
    const node = join(dir, 'node'); // another path to a node than the one tlob runs on
    symlinkSync(nodeBinary(), node);
    const out = runTlob(
      ['run', '-q', '-p', WORK_ESM, '--json', json, '--', node, '--no-warnings', 'app.mjs'],
      {
        env: { WORK: '2' },
      },
    );
    expect(out.status, out.stderr).toBe(0);
    expect(countOf(readRun(json), 'work')).toBe(2);
  });

  it('runs an executable file as it is (its shebang decides), and measures the node it starts', () => {
    const dir = scratch();
    const json = join(dir, 'run.json');
    const script = join(dir, 'start.sh');
    const fixtures = join(import.meta.dirname, '../fixtures/cli');
    writeFileSync(
      script,
      `#!/bin/sh\ncd ${JSON.stringify(fixtures)}\necho "args: $*"\nexec ${JSON.stringify(nodeBinary())} app.mjs\n`,
      {
        mode: 0o755,
      },
    );
    const out = runTlob(['run', '-q', '-p', WORK_ESM, '--json', json, '--', script, 'a', 'b'], {
      env: { WORK: '2' },
    });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('args: a b');
    expect(countOf(readRun(json), 'work')).toBe(2);
  });

  it('--otel and --no-watchdog set what the preload reads (TLOB_OTEL=1, TLOB_WATCHDOG=0)', () => {
    const print = [
      '--',
      nodeBinary(),
      '-e',
      'console.log("otel=" + process.env.TLOB_OTEL + " watchdog=" + process.env.TLOB_WATCHDOG)',
    ];
    const plain = runTlob(['run', '-q', ...print]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('otel=undefined watchdog=undefined');
    const flagged = runTlob(['run', '-q', '--otel', '--no-watchdog', ...print]);
    expect(flagged.status, flagged.stderr).toBe(0);
    expect(flagged.stdout).toContain('otel=1 watchdog=0');
  });

  it('leaves the options after the script to the program', () => {
    const out = runTlob(['run', '-q', 'app.mjs', '--bogus', '-p'], { env: { WORK: '1' } });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('esm app did 1 calls');
  });
});
