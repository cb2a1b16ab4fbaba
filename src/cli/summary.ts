import { styleText } from 'node:util';
import { formatNs } from '../engine/duration.js';
import {
  overBudgetRatio,
  percentiles,
  type RunData,
  violationElapsed,
  worstFirst,
} from '../report/run-data.js';
import { runNotes } from '../report/run-notes.js';

/**
 * One line of the worst violations: how long the call took and how many times its budget, then
 * the split when the budget ran out (what the record holds) and how late that was found.
 */
export function describeViolation(v: RunData['violations'][number]): string {
  const ns = (key: string) => formatNs(Number(v[key] ?? 0));
  const took = violationElapsed(v);
  const ratio = overBudgetRatio(v);
  const late = v.reportedLateNs >= 1e6 ? `, found ${formatNs(v.reportedLateNs)} late` : '';
  return (
    `"${v.name}" #${v.id} pid ${v.pid}${v.threadId === undefined ? '' : ` worker ${v.threadId}`}: ` +
    `${took.ended ? 'took' : 'not ended, took at least'} ` +
    `${formatNs(took.ns)}, ${ratio.toFixed(ratio < 10 ? 2 : 1)}x its budget ${ns('budgetNs')} ` +
    `(at the budget: running ${ns('runningNs')}, waiting ${ns('waitingNs')}, sleeping ${ns('sleepingNs')}, ` +
    `in ${v.state}${late})`
  );
}

/** How many violations the summary lists. */
const WORST = 5;
/** How many names the summary's table lists (those with the most violations, then windows). */
const NAMES = 30;
/** The width a name may take in the table before it is cut. */
const NAME_WIDTH = 60;

/** `name` as one printable cell: control characters (terminal escapes) shown as `?`, cut to `NAME_WIDTH`. */
function nameCell(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it replaces
  const printable = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return printable.length > NAME_WIDTH ? `${printable.slice(0, NAME_WIDTH - 1)}…` : printable;
}

/**
 * The table `tlob run` prints when the program ends: per name the count, violations, p50/p99 of
 * elapsed and the p50 of each state (at most `NAMES` names: those with the most violations, then
 * windows); then the worst violations (`worstFirst`) with their split. `diedBy`: the signal the
 * program died by, if it did.
 */
export function formatSummary(
  data: RunData,
  diedBy: NodeJS.Signals | null = null,
  stream: NodeJS.WriteStream = process.stderr,
): string {
  const bold = (s: string) => styleText('bold', s, { stream });
  const red = (s: string) => styleText('red', s, { stream });
  const header = ['name', 'count', 'violations', 'p50', 'p99', 'run p50', 'wait p50', 'sleep p50'];
  const shown =
    data.names.length <= NAMES
      ? data.names
      : [...data.names].sort((a, b) => b.violations - a.violations || b.count - a.count).slice(0, NAMES);
  const rows = shown.map((n) => {
    const [p50, p99] = percentiles(n.elapsed, [50, 99]);
    return [
      nameCell(n.name),
      String(n.count),
      String(n.violations),
      formatNs(p50 as number),
      formatNs(p99 as number),
      formatNs(percentiles(n.running, [50])[0] as number),
      formatNs(percentiles(n.waiting, [50])[0] as number),
      formatNs(percentiles(n.sleeping, [50])[0] as number),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  // a thread that saved nothing but its start (a process killed by a signal it does not handle) is
  // counted apart, and said why below
  const reported = data.threads.filter((t) => t.partial !== true || t.names.length > 0).length;
  const out = [
    '',
    bold(
      reported === data.threads.length
        ? `tlob: ${reported} thread(s) reported`
        : `tlob: ${reported} thread(s) reported, ${data.threads.length - reported} more saved nothing`,
    ),
  ];
  const notes = runNotes(data);
  for (const note of notes.missing) out.push(`(${note})`);
  if (rows.length > 0) out.push(bold(line(header))); // a header over no row reads as a table that lost its rows
  for (const r of rows) out.push(Number(r[2]) > 0 ? red(line(r)) : line(r));
  if (rows.length === 0 && data.threads.every((t) => t.partial === true) && diedBy !== null)
    // a death by a signal other than SIGINT and SIGTERM runs no exit handler: nothing was written
    out.push(
      `(the program was killed by ${diedBy} before it could write its data${diedBy === 'SIGABRT' ? ': the abort reactor, process.abort() and fatal errors such as running out of memory end it so' : ''})`,
    );
  else if (rows.length === 0) {
    // a probe on a module that never loaded, or that no call came through, says why itself, below
    if (notes.probes.length === 0 && data.threads.length === 0)
      out.push(
        '(no Node.js process of the run wrote data: tlob measures the node processes the command starts that keep the NODE_OPTIONS it set)',
      );
    else if (notes.probes.length === 0 && data.threads.every(setNoProbe))
      out.push(
        "(no window finished, and no probe was set: name the functions to measure with -p, like -p 'p ./lib/db.mjs:query threshold=20ms', or in a tlob.config.json (docs/probes.md), or open windows with tlob's API in the program)",
      );
    else if (notes.probes.length === 0)
      out.push(
        '(no window finished: did a probe match? a path that does not resolve in its module is refused with a warning on stderr when the module loads; `tlob list` shows the probes the specs set)',
      );
    if (data.threads.some((t) => t.argv.some((arg) => TEST_RUNNER.test(arg))))
      out.push(
        '(Jest and Vitest load test files and what they import themselves, where a module specifier does not reach: attach in a setup file, see docs/probes.md)',
      );
  }
  for (const note of notes.probes) out.push(`(${note})`);
  const hidden = data.names.length - shown.length;
  if (hidden > 0) out.push(`… and ${hidden} more names (every name is in the --report and --json outputs)`);
  // a long run fills each thread's timeline buffer in its first seconds: the trace and the
  // report's timeline stop there, which nothing else in them makes plain
  const full = data.threads.filter((t) => (t.timeline?.dropped ?? 0) > 0);
  if (full.length > 0) {
    const dropped = full.reduce((sum, t) => sum + (t.timeline?.dropped ?? 0), 0);
    out.push(
      `(the timeline of ${full.length} thread(s) filled its buffer: ${dropped.toLocaleString('en-US')} later transitions ` +
        "are not in the trace nor in the report's timeline, which show the start of the run; the table and the " +
        'violations count every window)',
    );
  }
  const worst = worstFirst(data.violations).slice(0, WORST);
  if (worst.length > 0)
    out.push('', bold(`worst violations (${data.violations.length + data.violationsDropped} in all):`));
  for (const v of worst) out.push(`  ${describeViolation(v)}`);
  return `${out.join('\n')}\n`;
}

/**
 * Whether a thread wrote all its data and names no probe, applied or refused (no `-p`, config file
 * or `TLOB_PROBES` spec reached it, and the program set none); a thread that wrote only its start
 * may have had some.
 */
function setNoProbe(t: RunData['threads'][number]): boolean {
  return (
    t.partial !== true &&
    t.probedModules !== undefined &&
    t.probedModules.length === 0 &&
    (t.refusedProbes ?? []).length === 0
  );
}

/** An argument of a process of Jest or Vitest (their command, or a worker's script in their package). */
const TEST_RUNNER = /(^|[\\/])(jest|vitest|jest-worker|jest-cli)([\\/.]|$)/;
