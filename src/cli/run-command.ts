import { spawn } from 'node:child_process';
import {
  accessSync,
  appendFileSync,
  existsSync,
  constants as fsConstants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { checkTlobReactor } from '../monitors/tlob/tlob-reactor.js';
import { planPreload } from '../probes/preload-plan.js';
import {
  addHeldViolations,
  type HeldViolation,
  mergeRun,
  type RunData,
  type ThreadData,
} from '../report/run-data.js';
import { procStat, RUN_SIGNALS_FILE, signalAck } from '../watchdog/run-signals.js';
import { type Command, type Options, parseCommandArgs } from './command.js';
import { checkOutputs, writeOutputs } from './outputs.js';
import { splitAtProgram } from './split-argv.js';
import { formatSummary } from './summary.js';
import { UsageError } from './usage-error.js';

const help = `Usage: tlob run [options] [--] <script [args...] | node-args... | command...>

Runs a Node.js program with tlob preloaded (through NODE_OPTIONS, so child processes, cluster
workers and worker threads get it too). When the program ends, prints a summary per window name
to stderr and writes the outputs asked for. Exits with the program's exit code, or dies by the
same signal.

Options:
  -p, --probe SPEC     add a probe, in the TLOB_PROBES syntax (repeatable), e.g.
                       -p 'p ./lib/db.mjs:query threshold=50ms' (a function the
                       program calls through its module's exports)
  --config FILE        a tlob.config.json to read (probes, reactor, ringSize)
  -r, --reactor NAME   what a violation does: log (default), nop, abort, throw
  --json FILE          write the run data (stats, violations, timeline) as JSON
  --trace FILE         write the timeline as a Chrome trace (open it in ui.perfetto.dev)
  --report FILE        write the HTML report
  --otel               export the windows to OpenTelemetry through the program's global
                       providers (TLOB_OTEL=1; docs/opentelemetry.md)
  --no-watchdog        do not start the watchdog thread (TLOB_WATCHDOG=0; docs/watchdog.md)
  -q, --quiet          do not print the summary
  -h, --help           show this help

Examples:
  tlob run -p 'p ./lib/handlers.mjs:handle threshold=20ms' --report report.html server.mjs
  tlob run --trace trace.json -- node --enable-source-maps dist/app.js
`;

const options = {
  probe: { type: 'string', short: 'p', multiple: true },
  config: { type: 'string' },
  reactor: { type: 'string', short: 'r' },
  json: { type: 'string' },
  trace: { type: 'string' },
  report: { type: 'string' },
  otel: { type: 'boolean' },
  'no-watchdog': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} satisfies Options;

const SCRIPT = /\.[cm]?[jt]sx?$/;

/**
 * The preload next to the command's file in `dist/` (found through the real path of the script
 * node runs, which under `npx` or `node_modules/.bin` is a link), as an option of `NODE_OPTIONS`
 * (the path quoted): the program need not be able to resolve `tlob` itself. The CommonJS build,
 * with `--require`: any `--import` makes Node load the main file through its ES module loader, past
 * the require hooks of tsx/cjs or ts-node, and Node runs `--require` preloads in every worker
 * thread, where it runs none of `--import` in one started from a string.
 */
function preloadOption(): string {
  const here = dirname(realpathSync(process.argv[1] as string));
  return `--require=${JSON.stringify(join(here, 'register.cjs'))}`;
}

/** The command and arguments to spawn for the program part of the command line. */
function programCommand(program: string[]): { file: string; args: string[] } {
  const [first, ...rest] = program;
  if (first === undefined)
    throw new UsageError('run', 'expected a script or node arguments to run, got none');
  if (first === 'node') return { file: process.execPath, args: programArgs(rest) };
  if (basename(first) === 'node') return { file: first, args: programArgs(rest) }; // a node of your choice
  if (first.startsWith('-')) return { file: process.execPath, args: programArgs(program) };
  if (SCRIPT.test(first) || (existsSync(first) && !isExecutable(first)))
    return { file: process.execPath, args: programArgs(program) };
  // a command, or an executable file (a shell script, a bin with a shebang): run as it is; a node
  // it starts inherits the preload through NODE_OPTIONS
  return { file: first, args: rest };
}

/** Whether `file` is a file this user may execute (its shebang then says what runs it). */
function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Node's options whose value may come as the next argument (`--import dd-trace/initialize.mjs`):
 * that value is not the script.
 */
const NODE_VALUE_OPTIONS = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '-C',
  '--conditions',
  '--input-type',
  '--env-file',
  '--env-file-if-exists',
  '--experimental-config-file',
  '--watch-path',
  '--disable-warning',
  '--redirect-warnings',
  '--title',
  '--inspect-port',
  '--dns-result-order',
  '--unhandled-rejections',
  '--diagnostic-dir',
  '--report-dir',
  '--report-directory',
  '--report-filename',
  '--report-signal',
  '--heapsnapshot-signal',
  '--icu-data-dir',
  '--openssl-config',
  '--secure-heap',
  '--secure-heap-min',
  '--stack-trace-limit',
  '--max-http-header-size',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-concurrency',
  '--tls-cipher-list',
  '--tls-keylog',
]);

/** Node's options after which no operand is a script file (code given inline, or the test runner's files). */
const NODE_NO_SCRIPT = new Set(['-e', '--eval', '-p', '--print', '--test', '-']);

/** The first operand of node arguments that is the script to run, if any. */
function scriptOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (NODE_NO_SCRIPT.has(arg)) return undefined;
    if (!arg.startsWith('-')) return arg;
    if (NODE_VALUE_OPTIONS.has(arg)) i++; // its value
  }
  return undefined;
}

/** Node arguments, checked: the script (the first operand) must exist. */
function programArgs(args: string[]): string[] {
  const script = scriptOf(args);
  if (script !== undefined && SCRIPT.test(script) && !existsSync(script)) {
    throw new UsageError('run', `cannot find the script "${script}" (in ${process.cwd()})`);
  }
  return args;
}

/**
 * Checks the specs, the config file and the reactor before anything runs, so that what would stop
 * the program's preload is a usage error (exit 2): the preload's work replayed (`planPreload`), the
 * config file's specs, then `TLOB_PROBES`, then `-p`, in the order the preload applies them.
 */
function checkInput(values: { probe?: string[]; config?: string; reactor?: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  try {
    if (values.config !== undefined) {
      const file = resolve(values.config);
      if (!existsSync(file)) throw new Error(`cannot find the config file "${values.config}"`);
      env.TLOB_CONFIG = file;
    }
    if (values.reactor !== undefined)
      env.TLOB_REACTOR = checkTlobReactor(values.reactor, 'reactor') as string;
    const flags = (values.probe ?? []).map((text) => ({ text, from: 'probe' }));
    const plan = planPreload({ ...process.env, ...env }, flags);
    // the config file found here is the run's: a process of the program in another directory (a
    // workspace's package, a child forked with its own cwd) must not look for one of its own
    if (plan.file !== undefined) env.TLOB_CONFIG = plan.file;
  } catch (error) {
    throw new UsageError('run', (error as Error).message);
  }
  if (values.probe !== undefined && values.probe.length > 0) {
    env.TLOB_PROBES = [process.env.TLOB_PROBES, ...values.probe]
      .filter((s) => s !== undefined && s !== '')
      .join(';');
  }
  return env;
}

/** How long tlob waits, once the program ended, for the processes it started to end too. */
const PROCESSES_WAIT_MS = 5000;
/** After this much of that wait, tlob says what it waits for. */
const PROCESSES_SAY_MS = 500;

/**
 * Waits until every process that wrote to `dir` (each does when its preload starts) has ended, for
 * `PROCESSES_WAIT_MS` at most, or until `stop()` says so (a signal to tlob): processes the program
 * started may outlive it by a little (cluster workers end when their primary's channel closes) and
 * write their data as they exit. Says what it waits for when it takes longer than a moment.
 */
async function processesEnded(
  dir: string,
  programPid: number | undefined,
  stop: () => boolean,
  quiet: boolean,
): Promise<void> {
  const started = performance.now();
  let said = false;
  for (;;) {
    const pids = new Set<number>();
    for (const file of readdirSync(dir)) {
      const pid = Number(/^tlob-(\d+)-\d+\.json$/.exec(file)?.[1]);
      if (pid > 0 && pid !== programPid && pid !== process.pid && isRunning(pid)) pids.add(pid);
    }
    const waited = performance.now() - started;
    if (pids.size === 0 || waited >= PROCESSES_WAIT_MS || stop()) return;
    if (!said && !quiet && waited >= PROCESSES_SAY_MS) {
      said = true;
      process.stderr.write(
        `tlob: waiting for ${pids.size} process(es) the program started to end (pid ${[...pids].join(', ')}; up to ${PROCESSES_WAIT_MS / 1000} s, Ctrl-C stops waiting)\n`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Whether process `pid` is running: it exists (signal 0 checks, sends nothing) and, where
 * `/proc/<pid>/stat` tells, is not a zombie (an orphan whose new parent never reaps it, as in a
 * container without an init process).
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Reads the files the program's threads wrote, with the violations the watchdog reported for
 * worker threads held until they ended (`held-*.json`); a half-written file is reported and skipped.
 */
function readThreads(dir: string): ThreadData[] {
  const out: ThreadData[] = [];
  const held: HeldViolation[] = [];
  for (const file of readdirSync(dir)) {
    const thread = file.startsWith('tlob-');
    if (!(thread || file.startsWith('held-')) || !file.endsWith('.json')) continue;
    try {
      const data: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      if (thread) out.push(data as ThreadData);
      else held.push(data as HeldViolation);
    } catch (error) {
      process.stderr.write(`tlob: skipping ${file}: ${(error as Error).message}\n`);
    }
  }
  addHeldViolations(out, held);
  return out;
}

/**
 * Ends tlob by the signal the program died by. Node ignores some signals (`SIGPIPE`) and uses
 * others (`SIGUSR1` starts its inspector), so the default action is put back first: a listener
 * added and removed leaves the signal at `SIG_DFL`. Should the process still live (a signal whose
 * default is not to end it), the exit code is the shell's for a death by that signal, 128 + its number.
 */
function dieBy(signal: NodeJS.Signals): number {
  const none = () => {};
  try {
    process.on(signal, none);
    process.removeListener(signal, none);
  } catch {
    // SIGKILL and SIGSTOP take no listener, and need none
  }
  process.kill(process.pid, signal);
  return 128 + (constants.signals[signal] ?? 0);
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
/** The signals a terminal sends to its foreground process group (Ctrl-C, Ctrl-\\). */
const KEYBOARD: ReadonlySet<string> = new Set(['SIGINT', 'SIGQUIT']);

/**
 * Whether this process is in its terminal's foreground process group, as the program it spawned
 * is (same group): a Ctrl-C then reaches both, wherever stdin points. (A `kill -INT` of tlob alone
 * from elsewhere, while it runs in the foreground of its terminal, is then not passed on either.)
 * Read from `/proc/self/stat` (Linux): the process group and the foreground group of the
 * controlling terminal (-1 without one). Where that cannot be read, false: the signal is passed on.
 */
function inTerminalForeground(): boolean {
  const fields = procStat();
  if (fields === undefined) return false;
  const foreground = Number(fields[5]);
  return foreground > 0 && foreground === Number(fields[2]);
}

/** How long `tlob run` waits for the program to say that a signal reached it by itself. */
const ACK_WAIT_MS = 250;

/**
 * The acknowledgement the program's main process writes to the run's signals file when the first
 * signal of a name reaches it, by whatever way (`signalAck`): only the first, so a signal of a
 * name that reached it before (passed on, typed at the terminal, or sent to the group) is passed on
 * at once.
 */
class SignalAcks {
  /** The names of the signals that reached the program already. */
  private readonly delivered = new Set<string>();

  constructor(private readonly dir: string) {}

  /** `signal` reached the program (typed at the terminal: the whole group got it). */
  reached(signal: string): void {
    this.delivered.add(signal);
  }

  /** Whether `signal` reached `pid` by itself: its acknowledgement comes within `waitMs`. */
  async received(signal: string, pid: number, waitMs: number): Promise<boolean> {
    if (this.delivered.has(signal)) return false;
    this.delivered.add(signal); // by itself, or passed on now
    const until = Date.now() + waitMs;
    for (;;) {
      if (this.acknowledged(signal, pid)) return true;
      if (Date.now() >= until) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private acknowledged(signal: string, pid: number): boolean {
    let text: string;
    try {
      text = readFileSync(join(this.dir, RUN_SIGNALS_FILE), 'utf8');
    } catch {
      return false;
    }
    const prefix = `${signalAck(signal, pid)} `;
    return text.split('\n').some((line) => line.startsWith(prefix));
  }
}

/**
 * Notes a signal for the watchdogs of the program's processes, which hand it to a main thread held
 * in a synchronous loop (see `run-signals.ts`): `pid`, the process it was passed on to, or, for
 * one typed at the terminal, undefined: it reached tlob's process group, which the program shares.
 */
function noteSignal(dir: string, signal: NodeJS.Signals, pid: number | undefined): void {
  const to = pid !== undefined ? String(pid) : `g${procStat()?.[2] ?? ''}`;
  try {
    appendFileSync(join(dir, RUN_SIGNALS_FILE), `${signal} ${to} ${Date.now()}\n`);
  } catch {
    // the directory is gone or full: the signal still reaches the program the usual way
  }
}

/**
 * The directory the program's processes write their data to: absolute, since they may change
 * directory (`process.chdir`, a child forked with its own `cwd`) and a relative `TMPDIR` would
 * then point elsewhere.
 */
function makeDataDirectory(): string {
  const parent = resolve(tmpdir());
  try {
    return mkdtempSync(join(parent, 'tlob-run-'));
  } catch (error) {
    throw new UsageError(
      'run',
      `cannot make a directory for the run data in ${parent} (the temporary directory; set TMPDIR to another): ${(error as Error).message}`,
    );
  }
}

/**
 * Removes the run's data directory once its data is read and written out. A process of the program
 * that outlived the wait (a detached helper, a worker started late) may still write there, which
 * fails the removal (ENOTEMPTY): tried a few times, then left, with a line saying so.
 */
function removeDataDirectory(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  } catch (error) {
    process.stderr.write(
      `tlob: left ${dir} behind (a process of the program still writes there?): ${(error as Error).message}\n`,
    );
  }
}

export const runCommand: Command = {
  summary: 'run a Node.js program under tlob and report where the time of its windows went',
  help,
  async run(args) {
    const { own, program } = splitAtProgram(args, options);
    const parsed = parseCommandArgs('run', help, own, options, false);
    if (parsed === undefined) return 0;
    const values = parsed.values;
    const extraEnv = checkInput(values);
    // `tlob run --json app.mjs`: the output option took the script, which the check of the outputs
    // says better than that no program came
    if (program.length === 0) checkOutputs('run', values, (key) => `--${key}`);
    const { file, args: childArgs } = programCommand(program);
    const script = file === process.execPath || basename(file) === 'node' ? scriptOf(childArgs) : file;
    const inputs = script === undefined ? [] : [{ file: script, what: 'the program' }];
    checkOutputs('run', values, (key) => `--${key}`, inputs);
    const dir = makeDataDirectory();
    const wantsTimeline =
      values.trace !== undefined || values.report !== undefined || values.json !== undefined;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...extraEnv,
      TLOB_OUTPUT: dir,
      NODE_OPTIONS: `${preloadOption()} ${process.env.NODE_OPTIONS ?? ''}`.trim(),
    };
    if (wantsTimeline) env.TLOB_TRACE = '1';
    if (values.otel) env.TLOB_OTEL = '1';
    if (values['no-watchdog']) env.TLOB_WATCHDOG = '0';
    const child = spawn(file, childArgs, { stdio: 'inherit', env });
    const acks = new SignalAcks(dir);
    const relay = (signal: NodeJS.Signals) => {
      // typed at the terminal, it reached the program too: passed on, it would arrive twice (a
      // second Ctrl-C is "force quit" to many programs)
      const typed = KEYBOARD.has(signal) && inTerminalForeground();
      if (typed || child.pid !== undefined) noteSignal(dir, signal, typed ? undefined : child.pid);
      if (typed) acks.reached(signal);
      if (typed || child.pid === undefined) return;
      // sent to the whole process group (`kill -TERM -<group>`, a CI runner, systemd), it reached
      // the program by itself, which says so: passed on only when it does not
      const pid = child.pid;
      acks.received(signal, pid, ACK_WAIT_MS).then((received) => {
        if (!received) child.kill(signal);
      });
    };
    for (const signal of FORWARDED) process.on(signal, relay);
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (done) => {
        child.on('error', (error) => done({ code: null, signal: null, error }));
        child.on('exit', (code, signal) => done({ code, signal }));
      },
    );
    if (ended.error !== undefined) {
      for (const signal of FORWARDED) process.removeListener(signal, relay);
      removeDataDirectory(dir);
      const missing = (ended.error as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing) throw new UsageError('run', `cannot find the command "${file}"`);
      throw ended.error;
    }
    // a signal to tlob from now on (its relay to the ended program does nothing) stops the wait
    let signalled = false;
    const stopWaiting = () => {
      signalled = true;
    };
    for (const signal of FORWARDED) process.on(signal, stopWaiting);
    await processesEnded(dir, child.pid, () => signalled, values.quiet === true);
    for (const signal of FORWARDED) process.removeListener(signal, relay).removeListener(signal, stopWaiting);
    const data: RunData = mergeRun([basename(file), ...childArgs], readThreads(dir));
    if (values.quiet !== true) process.stderr.write(formatSummary(data, ended.signal));
    const { written, failed } = writeOutputs(data, values);
    if (values.quiet !== true && written.length > 0)
      process.stderr.write(`tlob: wrote ${written.join(', ')}\n`);
    removeDataDirectory(dir);
    if (ended.signal !== null) return dieBy(ended.signal);
    const code = ended.code ?? 1;
    return code === 0 && failed.length > 0 ? 1 : code;
  },
};
