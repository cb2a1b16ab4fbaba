import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { retry } from '../helpers.js';

// The `tlob-bench` command as users run it: the built bin in a child node, on bench files that
// import 'tlob/bench' (the package resolves itself by name from inside the repository).

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'dist/bench-cli.js');
const fixture = (name: string) => join(root, 'test/fixtures/bench', name);
const scratch = mkdtempSync(join(tmpdir(), 'tlob-bench-'));

/** Runs the command in a child node: `tlob-bench` (`[bin]`) or `tlob bench` (`[cli, 'bench']`). */
function spawnCommand(entry: string[], args: string[], env: Record<string, string> = {}) {
  const out = spawnSync(process.execPath, [...entry, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const benchCli = (args: string[], env: Record<string, string> = {}) => spawnCommand([bin], args, env);
const cli = join(root, 'dist/cli.js');
const tlobBench = (args: string[]) => spawnCommand([cli, 'bench'], args);
/** The command under both its names. */
const both = [
  ['tlob-bench', benchCli],
  ['tlob bench', tlobBench],
] as const;

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('tlob-bench', () => {
  it('runs default-exported and constructed benches, prints the table and writes the JSON', () => {
    const json = join(scratch, 'run.json');
    const out = benchCli(['--json', json, fixture('spin.bench.mjs'), fixture('sleep.bench.mjs')]);
    expect(out.stderr).not.toContain('FAIL');
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(
      /^task +samples +ops\/s +elapsed p50 +elapsed p99 +running p50 +waiting p50 +sleeping p50 +rme +violations$/m,
    );
    expect(out.stdout).toMatch(/^cpu › spin +\d+ /m);
    expect(out.stdout).toMatch(/^io › sleep +\d+ .* \d+ \((9\d|100)\.\d%\)$/m);
    const results = readJson(json);
    expect(results.schemaVersion).toBe(1);
    expect(results.tasks.map((t: { bench: string; name: string }) => `${t.bench}/${t.name}`)).toEqual([
      'cpu/spin',
      'io/sleep',
      'fast/noop',
    ]);
    const [spin, sleep] = results.tasks;
    expect(spin.running.p50 / 1e6).toBeGreaterThan(0.9);
    expect(sleep.sleeping.p50 / 1e6).toBeGreaterThan(2);
    expect(sleep.violationRate).toBeGreaterThan(0.9);
    expect(sleep.worstViolation.elapsedNs).toBeGreaterThan(2e6);
  });

  it('--benchmark-action writes the customSmallerIsBetter shape', () => {
    const file = join(scratch, 'action.json');
    const out = benchCli(['--benchmark-action', file, fixture('sleep.bench.mjs')]);
    expect(out.status).toBe(0);
    const entries = readJson(file);
    expect(entries.map((e: { name: string }) => e.name)).toEqual([
      'io › sleep - elapsed',
      'io › sleep - running',
      'io › sleep - waiting',
      'io › sleep - sleeping',
      'io › sleep - violation rate',
      'fast › noop - elapsed',
      'fast › noop - running',
      'fast › noop - waiting',
      'fast › noop - sleeping',
      'fast › noop - violation rate',
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({
        name: expect.any(String),
        unit: expect.stringMatching(/^(ms|%)$/),
        value: expect.any(Number),
      });
    }
    expect(entries[0].value).toBeGreaterThan(2);
  });

  it('--benchmark-action leaves out a task that errored: its numbers are not a measurement', () => {
    const file = join(scratch, 'action-errored.json');
    const out = benchCli([
      '--benchmark-action',
      file,
      fixture('throws.bench.mjs'),
      fixture('sleep.bench.mjs'),
    ]);
    expect(out.status).toBe(1);
    const names = readJson(file).map((e: { name: string }) => e.name);
    expect(names.filter((n: string) => n.startsWith('broken'))).toEqual([]);
    expect(names).toContain('io › sleep - elapsed');
    expect(names).toContain('fast › noop - violation rate');
  });

  it('--compare flags a 2× slowdown as significant and an identical run as not', async () => {
    const baseline = join(scratch, 'baseline.json');
    await retry(3, async () => {
      expect(benchCli(['--json', baseline, fixture('spin.bench.mjs')], { SPIN_MS: '1' }).status).toBe(0);
      const same = benchCli(['--compare', baseline, fixture('spin.bench.mjs')], { SPIN_MS: '1' });
      expect(same.status).toBe(0);
      expect(same.stdout).toMatch(/^cpu › spin +elapsed .* no$/m);
      expect(same.stdout).toMatch(/^cpu › spin +running .* no$/m);
    });
    await retry(3, async () => {
      expect(benchCli(['--json', baseline, fixture('spin.bench.mjs')], { SPIN_MS: '1' }).status).toBe(0);
      const slower = benchCli(['--compare', baseline, fixture('spin.bench.mjs')], { SPIN_MS: '2' });
      expect(slower.status).toBe(0);
      expect(slower.stdout).toMatch(/^cpu › spin +elapsed +\S+ +\S+ +\+\d+\.\d% +\S+ +\*+ +yes$/m);
      expect(slower.stdout).toMatch(/^cpu › spin +running .* \*+ +yes$/m);
    });
  });

  it('--fail-on-regression fails with exit 1 and the reason on stderr', async () => {
    const baseline = join(scratch, 'baseline-gate.json');
    await retry(3, async () => {
      expect(benchCli(['--json', baseline, fixture('spin.bench.mjs')], { SPIN_MS: '1' }).status).toBe(0);
      const out = benchCli(['--compare', baseline, '--fail-on-regression', '20', fixture('spin.bench.mjs')], {
        SPIN_MS: '2',
      });
      expect(out.status).toBe(1);
      expect(out.stderr).toMatch(
        /^tlob bench: FAIL cpu › spin: elapsed p50 .* is a regression above --fail-on-regression 20%$/m,
      );
    });
    const huge = benchCli(['--compare', baseline, '--fail-on-regression', '500', fixture('spin.bench.mjs')], {
      SPIN_MS: '2',
    });
    expect(huge.status).toBe(0);
  });

  it('--max-violation-rate fails with exit 1 when a task breaks its budget too often', () => {
    const out = benchCli(['--max-violation-rate', '10%', fixture('sleep.bench.mjs')]);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(
      /^tlob bench: FAIL io › sleep: violation rate \d+\.\d+% \(\d+ of \d+ over 2\.00ms\) is above --max-violation-rate 10\.00%$/m,
    );
    expect(out.stderr).not.toMatch(/FAIL fast/);
    expect(out.stderr).not.toContain('checks no budget');
    expect(benchCli(['--max-violation-rate', '1', fixture('sleep.bench.mjs')]).status).toBe(0);
  });

  it('--max-violation-rate says which tasks it checks nothing of, having no budget', () => {
    const out = benchCli(['--max-violation-rate', '10%', fixture('spin.bench.mjs')]);
    expect(out.status).toBe(0);
    expect(out.stderr).toMatch(
      /^tlob bench: --max-violation-rate checks no budget for cpu › spin: give the bench or the task a `budget`$/m,
    );
  });

  it('refuses, before running, two tasks known by one "bench › task", and a baseline with two', () => {
    const cases: [string[], RegExp][] = [
      [[fixture('twins.bench.mjs')], /got two named "work" \(both in .*twins\.bench\.mjs\)/],
      [
        [fixture('parse-one.bench.mjs'), fixture('parse-two.bench.mjs')],
        /got two named "parse" \(in .*parse-one\.bench\.mjs and .*parse-two\.bench\.mjs\)/,
      ],
      [[fixture('separator.bench.mjs')], /got two named "a › b"/],
    ];
    for (const [args, message] of cases) {
      const out = benchCli(['--json', join(scratch, 'twins.json'), ...args]);
      expect(out.status, args.join(' ')).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).toMatch(/give their benches different names \(new Bench\(\{ name: '…' \}\)\)/);
      expect(out.stdout).toBe('');
    }
    const baseline = join(scratch, 'twins-baseline.json');
    const task = (bench: string, name: string) => ({ bench, name, state: 'completed' });
    writeFileSync(
      baseline,
      JSON.stringify({ schemaVersion: 1, tasks: [task('', 'work'), task('', 'work')] }),
    );
    const out = benchCli(['--compare', baseline, fixture('parse-one.bench.mjs')]);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/--compare: expected one task per name in .*, got two named "work"/);
  });

  it('a task that throws fails the run with exit 1, with no samples when no call completed', () => {
    const json = join(scratch, 'throws.json');
    const out = benchCli(['--json', json, fixture('throws.bench.mjs')]);
    expect(out.status).toBe(1);
    expect(out.stdout).toMatch(/^broken \(errored\) +0 /m);
    expect(out.stderr).toContain('tlob bench: FAIL broken: errored: Error: the task broke');
    expect(readJson(json).tasks[0]).toMatchObject({ state: 'errored', samples: 0 });
  });

  it('--compare leaves out, and names, a task errored in the baseline or now', () => {
    const baseline = join(scratch, 'errored-baseline.json');
    expect(benchCli(['--json', baseline, fixture('throws.bench.mjs')]).status).toBe(1);
    const results = readJson(baseline);
    const [broken] = results.tasks;
    // the same task as if it had run well now: its baseline errored, so there is nothing to compare
    const now = join(scratch, 'errored-now.json');
    writeFileSync(now, JSON.stringify({ ...results, tasks: [{ ...broken, state: 'completed' }] }));
    const cases: [string, RegExp][] = [
      [baseline, /^broken: errored in the baseline and now, not compared$/m],
      [now, /^broken: errored now, not compared$/m],
    ];
    for (const [file, line] of cases) {
      const out = benchCli(['--compare', file, '--fail-on-regression', '10', fixture('throws.bench.mjs')]);
      expect(out.stdout).toMatch(line);
      expect(out.stdout).not.toMatch(/^broken +(elapsed|running)/m);
      expect(out.stderr).not.toMatch(/regression above/);
    }
  });

  it('--compare names a task too fast to compare (every median under 1 µs in both runs)', async () => {
    const baseline = join(scratch, 'fast-baseline.json');
    await retry(3, async () => {
      expect(benchCli(['--json', baseline, fixture('sleep.bench.mjs')]).status).toBe(0);
      const out = benchCli(['--compare', baseline, fixture('sleep.bench.mjs')]);
      expect(out.status).toBe(0);
      const comparison = out.stdout.slice(out.stdout.indexOf('compared with the baseline'));
      expect(comparison).toMatch(/^io › sleep +elapsed /m);
      expect(comparison).not.toMatch(/^fast › noop +(elapsed|running|waiting|sleeping) /m);
      expect(comparison).toMatch(
        /^fast › noop: every median under 1 µs in both runs, not compared \(batch the function to measure it\)$/m,
      );
    });
  });

  it('bad usage or input exits 2 with the reason', () => {
    const cases: [string[], RegExp][] = [
      [[], /expected bench files, got none/],
      [[fixture('empty.bench.mjs')], /expected .*empty\.bench\.mjs to default-export a Bench .*, got none/],
      [['--fail-on-regression', '10', fixture('spin.bench.mjs')], /--fail-on-regression: expected --compare/],
      [
        ['--max-violation-rate', 'lots', fixture('spin.bench.mjs')],
        /--max-violation-rate: expected a rate from 0 to 1 \(or 0% to 100%\) like 0.01 or 1%, got "lots"/,
      ],
      [['--compare', join(scratch, 'missing.json'), fixture('spin.bench.mjs')], /--compare: cannot read/],
      [
        ['--bogus', fixture('spin.bench.mjs')],
        /^tlob bench: unknown option '--bogus'.*\nRun `tlob bench --help` for usage\.\n$/s,
      ],
    ];
    for (const [args, message] of cases) {
      const out = benchCli(args);
      expect(out.status, args.join(' ')).toBe(2);
      expect(out.stderr).toMatch(message);
    }
    expect(benchCli(['--help']).stdout).toMatch(/^Usage: tlob bench \[options\] <files\.\.\.>/);
  });
});

describe('tlob-bench and tlob bench alike', () => {
  it('--json - writes only the JSON on stdout, the table and the comparison on stderr', () => {
    const baseline = join(scratch, 'stdout-baseline.json');
    expect(benchCli(['--json', baseline, fixture('parse-one.bench.mjs')]).status).toBe(0);
    for (const [command, run] of both) {
      const out = run(['--json', '-', '--compare', baseline, fixture('parse-one.bench.mjs')]);
      expect(out.status, command).toBe(0);
      expect(JSON.parse(out.stdout).tasks.map((t: { name: string }) => t.name)).toEqual(['parse']);
      expect(out.stderr).toMatch(/^task +samples /m);
      expect(out.stderr).toMatch(/^compared with the baseline/m);
      const action = run(['--benchmark-action', '-', fixture('parse-one.bench.mjs')]);
      expect(JSON.parse(action.stdout)[0].name, command).toBe('parse - elapsed');
      expect(action.stderr).toMatch(/^task +samples /m);
      const twice = run(['--json', '-', '--benchmark-action', '-', fixture('parse-one.bench.mjs')]);
      expect(twice.status).toBe(2);
      expect(twice.stderr).toMatch(/expected at most one of --json and --benchmark-action on stdout/);
    }
  });

  it('an output file that cannot be written is a usage error (exit 2) before anything runs', () => {
    const cases: [string[], RegExp][] = [
      [
        ['--json', '/nonexistent/dir/out.json'],
        /--json: cannot write "\/nonexistent\/dir\/out\.json": the directory \/nonexistent\/dir does not exist/,
      ],
      [['--benchmark-action', '/nonexistent/dir/out.json'], /--benchmark-action: cannot write/],
      [['--json', scratch], /--json: expected a file to write, got the directory/],
    ];
    for (const [command, run] of both) {
      for (const [args, message] of cases) {
        const out = run([...args, fixture('spin.bench.mjs')]);
        expect(out.status, `${command} ${args.join(' ')}`).toBe(2);
        expect(out.stderr).toMatch(message);
        expect(out.stderr).not.toMatch(/ENOENT|\n +at /);
        expect(out.stdout).toBe(''); // nothing ran
      }
    }
  });

  it('a bench file that cannot be loaded is a usage error (exit 2) with the reason', () => {
    const throws = join(scratch, 'throws-at-import.bench.mjs');
    writeFileSync(throws, "throw new Error('broken at import');\n");
    const syntax = join(scratch, 'syntax.bench.mjs');
    writeFileSync(syntax, 'export default new Bench(;\n');
    const cases: [string, RegExp][] = [
      [throws, /cannot load the bench file ".*throws-at-import\.bench\.mjs": Error: broken at import/],
      [syntax, /cannot load the bench file ".*syntax\.bench\.mjs": SyntaxError/],
      [scratch, /expected a bench file, got the directory/],
    ];
    for (const [command, run] of both) {
      for (const [file, message] of cases) {
        const out = run([file]);
        expect(out.status, `${command} ${file}`).toBe(2);
        expect(out.stderr).toMatch(message);
        expect(out.stdout).toBe('');
      }
    }
  });
});

describe('tlob-bench and tlob bench: runs that cannot finish, and exit codes', () => {
  it('a task whose promise never settles errors (exit 1): the other tasks run, the table and the JSON are written', () => {
    for (const [command, bench] of both) {
      const json = join(scratch, `never-settles-${command.replace(' ', '-')}.json`);
      const out = bench(['--json', json, fixture('never-settles.bench.mjs')]);
      expect(out.status, command).toBe(1);
      expect(out.stdout).toMatch(/^hang › fine +\d+ /m);
      expect(out.stdout).toMatch(/^hang › lost-callback \(errored\) +0 /m);
      expect(out.stdout).toMatch(/^hang › after +\d+ /m);
      expect(out.stderr).toMatch(
        /^tlob bench: FAIL hang › lost-callback: errored: Error: the function returned a promise that never settled/m,
      );
      expect(readJson(json).tasks.map((t: { state: string }) => t.state)).toEqual([
        'completed',
        'errored',
        'completed',
      ]);
    }
  });

  it('bench.run() goes on past a promise that never settles, also without the command', () => {
    const out = runFirstTask(
      "new Bench({ time: 10, iterations: 2, warmup: false, progress: false }).add('lost', () => new Promise(() => {}))",
    );
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^errored Error: the function returned a promise that never settled/);
  });

  it('with concurrency, names what the loop that never ends awaits, not what another loop did last', () => {
    // loop 1's first call never settles; loop 2 goes on through its afterEach until the time is up
    const out = runFirstTask(
      "new Bench({ time: 50, warmup: false, progress: false, concurrency: 2 }).add('lost-one', () => (calls++ === 0 ? new Promise(() => {}) : undefined), { afterEach: () => Promise.resolve() })",
      'let calls = 0;',
    );
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^errored Error: the function returned a promise that never settled/);
  });

  it('a bench file whose top-level await never settles is input that fails to load (exit 2)', () => {
    for (const [command, bench] of both) {
      const out = bench([fixture('tla-hang.bench.mjs')]);
      expect(out.status, command).toBe(2);
      expect(out.stderr).toMatch(
        /cannot load the bench file ".*tla-hang\.bench\.mjs": its top-level await never settled/,
      );
    }
  });

  it('a task that ends the process in the middle of the run does not leave exit code 0', () => {
    for (const [command, bench] of both) {
      const out = bench([fixture('exits.bench.mjs')]);
      expect(out.status, command).toBe(1);
      expect(out.stderr).toMatch(
        /^tlob bench: the process exited before the command finished \(in the task "quits › exit"\)/m,
      );
    }
  });

  it('a bench file that leaves tlob disabled exits 2 under both names, with one line and no stack', () => {
    for (const [command, bench] of both) {
      const out = bench([fixture('disabled.bench.mjs')]);
      expect(out.status, command).toBe(2);
      expect(out.stderr).toMatch(
        /^tlob bench: cannot run the bench "off" of .*disabled\.bench\.mjs: .*tlob\.disable\(\)/m,
      );
      expect(out.stderr).not.toMatch(/\n +at /);
    }
  });

  it('an output that fails to be written after the run exits 2 under both names, after the table and the gates', () => {
    for (const [command, bench] of both) {
      const out = bench(['--json', '/dev/full', '--max-violation-rate', '0%', fixture('sleep.bench.mjs')]);
      expect(out.status, command).toBe(2);
      expect(out.stdout).toMatch(/^io › sleep +\d+ /m);
      expect(out.stderr).toMatch(/^tlob bench: FAIL io › sleep: violation rate/m);
      expect(out.stderr).toMatch(/^tlob bench: --json: cannot write "\/dev\/full" after the run: ENOSPC/m);
      expect(out.stderr).not.toMatch(/\n +at /);
    }
  });

  it.each([
    ['', '0'],
    [' (also while a function that never yields runs)', '1'],
  ])('the first Ctrl-C stops the run, prints and writes what finished, and exits 130%s', async (_, sync) => {
    const json = join(scratch, `interrupted-${sync}.json`);
    const child = spawn(process.execPath, [bin, '--json', json, fixture('long.bench.mjs')], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', SYNC: sync },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('long started\n') && child.signalCode === null)
        setTimeout(() => child.kill('SIGINT'), 50);
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status).toBe(130);
    expect(stderr).toMatch(/^tlob bench: interrupted/m);
    expect(stdout).toMatch(/^short › tick +\d+ /m);
    expect(stdout).toMatch(/^long › tick \(aborted\) +\d+ /m);
    expect(stdout).not.toMatch(/skipped/);
    expect(
      readJson(json).tasks.map((t: { bench: string; state: string }) => `${t.bench} ${t.state}`),
    ).toEqual(['short completed', 'long aborted']);
  });

  it('once the first Ctrl-C was seen, a second one ends the process at once, in the middle of an iteration', async () => {
    await retry(3, async () => {
      const child = spawn(process.execPath, [bin, fixture('long.bench.mjs')], {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1', SYNC: 'slow' },
      });
      let stderr = '';
      let sent = 0;
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        // the first while the iteration sleeps, the second once it was seen and the spin began after it
        if (sent === 0 && stderr.includes('long started\n')) {
          sent = 1;
          child.kill('SIGINT');
        } else if (sent === 1 && /interrupted[\s\S]*spin start\n/.test(stderr)) {
          sent = 2;
          child.kill('SIGINT');
        }
      });
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      if (sent < 2) throw new Error(`the first Ctrl-C was not seen before the spin began:\n${stderr}`);
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' });
      expect(stderr).not.toContain('spin done');
    });
  });

  it('refuses a violation rate above 100%', () => {
    for (const rate of ['150%', '1.5']) {
      const out = benchCli(['--max-violation-rate', rate, fixture('spin.bench.mjs')]);
      expect(out.status, rate).toBe(2);
      expect(out.stderr).toMatch(/--max-violation-rate: expected a rate from 0 to 1 \(or 0% to 100%\)/);
    }
  });

  it('--compare fails on a significant regression, and says when nothing is comparable', () => {
    const baseline = join(scratch, 'underflow-baseline.json');
    expect(benchCli(['--json', baseline, fixture('spin.bench.mjs')]).status).toBe(0);
    const results = readJson(baseline);
    const [spin] = results.tasks;
    // a baseline ten times faster, with no spread and a million samples: p is tiny, how tiny
    // depends on this run's spread (underflowing to 0 is the statistics tests' to check)
    const tight = (stats: { p50: number }) => ({ ...stats, p50: stats.p50 / 10, mad: 0 });
    const faster = { ...spin, samples: 1e6, elapsed: tight(spin.elapsed), running: tight(spin.running) };
    writeFileSync(baseline, JSON.stringify({ ...results, tasks: [faster] }));
    const out = benchCli(['--compare', baseline, '--fail-on-regression', '10', fixture('spin.bench.mjs')]);
    expect(out.status).toBe(1);
    expect(out.stdout).toMatch(/^cpu › spin +elapsed .* (<1e-300|\d\.\de-\d+) +\*\*\* +yes$/m);
    expect(out.stdout).not.toMatch(/0\.0e\+0/);
    expect(out.stderr).toMatch(
      /^tlob bench: FAIL cpu › spin: elapsed p50 .*, p(<1e-300|=\d\.\de-\d+)\) is a regression/m,
    );
    const other = join(scratch, 'other-baseline.json');
    writeFileSync(other, JSON.stringify({ ...results, tasks: [{ ...spin, name: 'other' }] }));
    const none = benchCli(['--compare', other, fixture('spin.bench.mjs')]);
    expect(none.stdout).toMatch(/^compared with the baseline: no task and state in both runs to compare$/m);
    expect(none.stdout).not.toMatch(/medians/);
    expect(none.stdout).toMatch(/^cpu › spin: not in the baseline$/m);
  });
});

describe('tlob bench', () => {
  it('is the same command under the tlob command: table, gates and exit codes', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [cli, 'bench', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const ok = run([fixture('spin.bench.mjs')]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^cpu › spin +\d+ /m);
    const gated = run(['--max-violation-rate', '1%', fixture('sleep.bench.mjs')]);
    expect(gated.status).toBe(1);
    expect(gated.stderr).toMatch(/violation rate/);
    const bad = run([]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('expected bench files, got none');
  });
});

/**
 * Runs `bench` (an expression making a `Bench`, after `setup`) with `bench.run()` in a child process
 * without the command, which prints its first task's state and error.
 */
function runFirstTask(bench: string, setup = '') {
  const script = [
    "import { Bench } from 'tlob/bench';",
    setup,
    `const { tasks: [t] } = await (${bench}).run();`,
    'console.log(t.state, t.error);',
  ].join('\n');
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
}
