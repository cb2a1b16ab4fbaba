import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatNs } from '../index.js';
import { unwritableReason } from '../output-file.js';
import { parseArgsMessage } from '../report/errors.js';
import { toBenchmarkAction } from './benchmark-action.js';
import { type Comparison, compareResults, formatP } from './compare.js';
import { DRAINED, LoopDrain } from './loop-drain.js';
import { BENCH_BRAND, benchRegistry } from './registry.js';
import { type BenchResults, SCHEMA_VERSION, type TaskResult } from './results.js';
import { formatTable, tableRows, taskKey } from './table.js';

const USAGE = `Usage: tlob bench [options] <files...>
       tlob-bench [options] <files...>

Runs bench files: each default-exports a Bench from 'tlob/bench' (or an array of them), or
constructs its Benches at top level. Prints a table of every task on stdout (on stderr when
--json or --benchmark-action writes to stdout).

options:
  --json FILE                  write the results as JSON (schema ${SCHEMA_VERSION}; '-' for stdout)
  --benchmark-action FILE      write github-action-benchmark's customSmallerIsBetter JSON ('-' for stdout)
  --compare BASELINE.json      compare with an earlier --json: change of the median per task and state, Welch's t-test
  --min-change PCT             smallest change called significant by --compare (default 5)
  --fail-on-regression PCT     exit 1 when a task's elapsed or running median rose significantly by more than PCT%
  --max-violation-rate RATE    exit 1 when a task's violation rate is above RATE (0.01 or 1%)
  -h, --help                   show this help

exit codes: 0 ok, 1 a gate failed or a task errored (the reason on stderr), 2 bad usage or input
(checked before anything runs: an output file that cannot be written, a bench file that fails to
load, two tasks under one name; or a bench that cannot run, an output whose writing failed after
the run), 130 interrupted by Ctrl-C (what finished is printed and written; Ctrl-C again quits)`;

/** A usage or input problem: printed with the usage hint, exit code 2. */
class UsageError extends Error {}

interface Brand {
  [BENCH_BRAND]?: unknown;
  run?: unknown;
}
type RunnableBench = {
  readonly name: string;
  readonly tasks: readonly string[];
  run(): Promise<BenchResults>;
};
/** A bench and the file that exported or constructed it. */
interface LoadedBench {
  readonly bench: RunnableBench;
  readonly file: string;
}
const isBench = (value: unknown): value is RunnableBench =>
  value !== null && typeof value === 'object' && (value as Brand)[BENCH_BRAND] === true;

/** Imports the files and returns the benches they export or construct, in order, each once. */
async function loadBenches(files: string[]): Promise<LoadedBench[]> {
  const registry = benchRegistry();
  const found = new Map<RunnableBench, string>();
  for (const file of files) {
    const before = registry.benches.length;
    const drain = new LoopDrain();
    registry.collecting = true;
    let mod: { default?: unknown } | typeof DRAINED;
    try {
      mod = await drain.race(import(pathToFileURL(resolve(file)).href));
      if (mod === DRAINED) {
        throw new UsageError(
          `cannot load the bench file "${file}": its top-level await never settled (Node's event loop ran dry while it waited)`,
        );
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      registry.benches.length = before;
      const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
      throw new UsageError(`cannot load the bench file "${file}": ${why}`);
    } finally {
      registry.collecting = false;
      drain.stop();
    }
    const exported = Array.isArray(mod.default) ? mod.default : [mod.default];
    const constructed = registry.benches.slice(before);
    registry.benches.length = before;
    for (const b of [...exported, ...constructed]) if (isBench(b) && !found.has(b)) found.set(b, file);
  }
  return [...found].map(([bench, file]) => ({ bench, file }));
}

/** How two tasks with one key can be told apart. */
const KEY_HINT =
  "give their benches different names (new Bench({ name: '…' })) or rename a task: the table, --json, " +
  '--benchmark-action and --compare know a task by its "bench › task"';

/** Refuses two tasks that would be shown, written and compared under one `bench › task` key. */
function checkKeys(loaded: readonly LoadedBench[]): void {
  const seen = new Map<string, string>();
  for (const { bench, file } of loaded) {
    for (const name of bench.tasks) {
      const key = taskKey({ bench: bench.name, name });
      const first = seen.get(key);
      if (first !== undefined) {
        const where = first === file ? `both in ${file}` : `in ${first} and ${file}`;
        throw new UsageError(`expected one task per name, got two named "${key}" (${where}): ${KEY_HINT}`);
      }
      seen.set(key, file);
    }
  }
}

/** A number of percent, or a rate: `'1%'` or `'0.01'` is 0.01. */
function parseRate(value: string, option: string): number {
  const percent = value.endsWith('%');
  const n = Number(percent ? value.slice(0, -1) : value);
  if (value === '' || !Number.isFinite(n) || n < 0 || n > (percent ? 100 : 1)) {
    throw new UsageError(
      `--${option}: expected a rate from 0 to 1 (or 0% to 100%) like 0.01 or 1%, got "${value}"`,
    );
  }
  return percent ? n / 100 : n;
}

function parsePercent(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.endsWith('%') ? value.slice(0, -1) : value);
  if (value === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${option}: expected a percentage like 10, got "${value}"`);
  }
  return n;
}

function readBaseline(file: string): BenchResults {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--compare: cannot read ${file}: ${(error as Error).message}`);
  }
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== SCHEMA_VERSION || !Array.isArray((data as BenchResults).tasks)) {
    throw new UsageError(
      `--compare: expected results of schema ${SCHEMA_VERSION} (from --json) in ${file}, got schema ${String(version)}`,
    );
  }
  const keys = new Set<string>();
  for (const task of (data as BenchResults).tasks) {
    const key = taskKey(task);
    if (keys.has(key)) {
      throw new UsageError(
        `--compare: expected one task per name in ${file}, got two named "${key}": ${KEY_HINT}, then record the baseline again`,
      );
    }
    keys.add(key);
  }
  return data as BenchResults;
}

function writeJson(file: string, data: unknown): void {
  const text = `${JSON.stringify(data, null, 2)}\n`;
  if (file === '-') process.stdout.write(text);
  else writeFileSync(file, text);
}

/** Writes an output after the run; a failure (a full disk) is returned as one line, not thrown. */
function writeOutput(option: string, file: string, data: unknown): string | undefined {
  try {
    writeJson(file, data);
    return undefined;
  } catch (error) {
    return `--${option}: cannot write "${file}" after the run: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function printComparison(comparison: Comparison, out: NodeJS.WritableStream): void {
  const rows = comparison.changes.map((c) => ({
    task: c.task,
    state: c.state,
    baseline: formatNs(c.baselineNs),
    now: formatNs(c.nowNs),
    change: `${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}%`,
    p: formatP(c.p),
    '': c.stars,
    significant: c.significant ? 'yes' : 'no',
  }));
  if (rows.length > 0) out.write(`\ncompared with the baseline (medians):\n${formatTable(rows)}\n`);
  else out.write('\ncompared with the baseline: no task and state in both runs to compare\n');
  for (const name of comparison.added) out.write(`${name}: not in the baseline\n`);
  for (const name of comparison.missing) out.write(`${name}: in the baseline, not run now\n`);
  for (const { task, in: where } of comparison.errored) {
    const when = where === 'both' ? 'in the baseline and now' : where === 'now' ? 'now' : 'in the baseline';
    out.write(`${task}: errored ${when}, not compared\n`);
  }
  for (const task of comparison.tooFast) {
    out.write(
      `${task}: every median under 1 µs in both runs, not compared (batch the function to measure it)\n`,
    );
  }
}

/** The reasons the gates fail, one line each (none: every gate passed). */
function gateFailures(
  tasks: readonly TaskResult[],
  comparison: Comparison | undefined,
  maxViolationRate: number | undefined,
  maxRegressionPct: number | undefined,
): string[] {
  const reasons: string[] = [];
  for (const t of tasks) {
    if (t.state === 'errored') reasons.push(`${taskKey(t)}: errored: ${t.error?.split('\n')[0]}`);
  }
  if (maxViolationRate !== undefined) {
    for (const t of tasks) {
      if (t.violationRate > maxViolationRate) {
        reasons.push(
          `${taskKey(t)}: violation rate ${(t.violationRate * 100).toFixed(2)}% (${t.violations} of ${t.samples} ` +
            `over ${formatNs(t.budgetNs ?? 0)}) is above --max-violation-rate ${(maxViolationRate * 100).toFixed(2)}%`,
        );
      }
    }
  }
  if (maxRegressionPct !== undefined && comparison !== undefined) {
    for (const c of comparison.changes) {
      if (
        (c.state === 'elapsed' || c.state === 'running') &&
        c.significant &&
        c.changePct > maxRegressionPct
      ) {
        reasons.push(
          `${c.task}: ${c.state} p50 ${formatNs(c.baselineNs)} -> ${formatNs(c.nowNs)} ` +
            `(+${c.changePct.toFixed(1)}%, p${c.p < 1e-300 ? '' : '='}${formatP(c.p)}) is a regression above --fail-on-regression ${maxRegressionPct}%`,
        );
      }
    }
  }
  return reasons;
}

/** The exit code of a run stopped by Ctrl-C (128 + SIGINT's number, as a shell reports it). */
const INTERRUPTED = 130;

/**
 * Runs the benches one after the other. Meanwhile the first Ctrl-C (SIGINT) aborts the run: the
 * task in progress stops after its iterations in flight, the rest are skipped, and what finished
 * is returned. Its listener then goes at once, so that a second one is Node's own: it ends the
 * process by the signal even while an iteration holds the thread (a listener would wait for it).
 */
async function runBenches(
  loaded: readonly LoadedBench[],
): Promise<{ results: BenchResults; interrupted: boolean }> {
  const registry = benchRegistry();
  const controller = new AbortController();
  const onInterrupt = (): void => {
    process.off('SIGINT', onInterrupt);
    process.stderr.write(
      '\ntlob bench: interrupted: stopping after the iterations in flight, then printing what finished (Ctrl-C again to quit at once)\n',
    );
    controller.abort();
  };
  registry.interrupt = controller.signal;
  process.on('SIGINT', onInterrupt);
  let results: BenchResults | undefined;
  const tasks: TaskResult[] = [];
  try {
    for (const { bench, file } of loaded) {
      if (controller.signal.aborted) break;
      try {
        results = await bench.run();
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new UsageError(
          `cannot run the bench${bench.name === '' ? '' : ` "${bench.name}"`} of ${file}: ${why}`,
        );
      }
      tasks.push(...results.tasks);
    }
  } finally {
    registry.interrupt = undefined;
    process.off('SIGINT', onInterrupt);
  }
  return { results: { ...(results as BenchResults), tasks }, interrupted: controller.signal.aborted };
}

/**
 * The `tlob bench` command: runs bench files, prints a table, writes JSON, compares with a
 * baseline and applies the CI gates. Resolves to the exit code (0 ok, 1 a gate failed or a task
 * errored, 2 bad usage or input, 130 interrupted by Ctrl-C); it does not reject.
 */
export async function benchCommand(argv: string[]): Promise<number> {
  // the process must not end with code 0 while the command is still running: a bench file or a
  // task that ends it (process.exit()), or a promise nothing can settle that the harness did not see
  const onExit = (): void => {
    const current = benchRegistry().current;
    const where = current === undefined ? '' : ` (in the task "${current}")`;
    process.stderr.write(
      `tlob bench: the process exited before the command finished${where}: no results were printed or written\n`,
    );
    if (!process.exitCode) process.exitCode = 1;
  };
  process.on('exit', onExit);
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'string' },
        'benchmark-action': { type: 'string' },
        compare: { type: 'string' },
        'min-change': { type: 'string' },
        'fail-on-regression': { type: 'string' },
        'max-violation-rate': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('expected bench files, got none');
    const maxViolationRate =
      values['max-violation-rate'] === undefined
        ? undefined
        : parseRate(values['max-violation-rate'], 'max-violation-rate');
    const maxRegression = values['fail-on-regression'];
    if (maxRegression !== undefined && values.compare === undefined) {
      throw new UsageError('--fail-on-regression: expected --compare BASELINE.json beside it');
    }
    const maxRegressionPct =
      maxRegression === undefined ? undefined : parsePercent(maxRegression, 'fail-on-regression', 0);
    const minChange = parsePercent(values['min-change'], 'min-change', 5);
    const baseline = values.compare === undefined ? undefined : readBaseline(values.compare);

    for (const file of positionals) {
      if (!existsSync(resolve(file)))
        throw new UsageError(`cannot find the bench file "${file}" (in ${process.cwd()})`);
      if (!statSync(resolve(file)).isFile())
        throw new UsageError(`expected a bench file, got the directory "${file}"`);
    }
    const outputs = [
      ['json', values.json],
      ['benchmark-action', values['benchmark-action']],
    ] as const;
    for (const [option, file] of outputs) {
      const reason = file === undefined || file === '-' ? undefined : unwritableReason(file);
      if (reason !== undefined) throw new UsageError(`--${option}: ${reason}`);
    }
    if (values.json === '-' && values['benchmark-action'] === '-') {
      throw new UsageError("expected at most one of --json and --benchmark-action on stdout ('-'), got both");
    }
    // with JSON on stdout, what is meant for reading goes to stderr, so that stdout parses
    const report =
      values.json === '-' || values['benchmark-action'] === '-' ? process.stderr : process.stdout;
    const loaded = await loadBenches(positionals);
    if (loaded.length === 0) {
      throw new UsageError(
        `expected ${positionals.join(', ')} to default-export a Bench from 'tlob/bench' (or an array of them), or to construct one, got none`,
      );
    }
    checkKeys(loaded);
    const { results: all, interrupted } = await runBenches(loaded);
    const tasks = all.tasks;
    report.write(`${formatTable(tableRows(tasks))}\n`);
    for (const t of tasks)
      for (const w of t.warnings) process.stderr.write(`tlob bench: ${taskKey(t)}: ${w.message}\n`);
    const unwritten: string[] = [];
    if (values.json !== undefined) unwritten.push(writeOutput('json', values.json, all) ?? '');
    if (values['benchmark-action'] !== undefined)
      unwritten.push(
        writeOutput('benchmark-action', values['benchmark-action'], toBenchmarkAction(all)) ?? '',
      );
    const comparison = baseline === undefined ? undefined : compareResults(all, baseline, minChange);
    if (comparison !== undefined) printComparison(comparison, report);
    const failures = gateFailures(tasks, comparison, maxViolationRate, maxRegressionPct);
    for (const reason of failures) process.stderr.write(`tlob bench: FAIL ${reason}\n`);
    if (maxViolationRate !== undefined) {
      // a task with no budget has no violations: the gate passes it without having checked it
      const unbudgeted = tasks.filter((t) => t.budgetNs === null).map(taskKey);
      if (unbudgeted.length > 0)
        process.stderr.write(
          `tlob bench: --max-violation-rate checks no budget for ${unbudgeted.join(', ')}: give the bench or the task a \`budget\`\n`,
        );
    }
    for (const reason of unwritten) if (reason !== '') process.stderr.write(`tlob bench: ${reason}\n`);
    if (interrupted) return INTERRUPTED;
    if (unwritten.some((reason) => reason !== '')) return 2;
    return failures.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `tlob bench: ${parseArgsMessage((error as Error).message)}\nRun \`tlob bench --help\` for usage.\n`,
      );
      return 2;
    }
    // not the input's fault: a defect of the harness, whose stack says where
    process.stderr.write(
      `tlob bench: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 2;
  } finally {
    process.off('exit', onExit);
  }
}
