import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { unwritableReason } from '../output-file.js';
import { renderReport } from '../report/html-report.js';
import { writeJsonFile } from '../report/json-file.js';
import type { RunData } from '../report/run-data.js';
import type { TimelineData } from '../report/timeline.js';
import { toChromeTrace } from '../report/trace-export.js';
import { UsageError } from './usage-error.js';

/** Where `tlob run` and `tlob report` write what they were asked for. */
interface OutputFiles {
  json?: string | undefined;
  trace?: string | undefined;
  report?: string | undefined;
}

/** The file an output is shown with, in the message that refuses one named like a module. */
const EXAMPLE_FILE = { json: 'data.json', trace: 'trace.json', report: 'report.html' } as const;

/** A file named like a JavaScript or TypeScript module: source, not something an output may replace. */
const SOURCE_FILE = /\.[cm]?[jt]sx?$/i;

/**
 * Checks, before anything runs, that each output can be written: its directory exists and is
 * writable, the path is not a directory, no two outputs name one file, none names one of
 * `inputs` (the program's script, the data a report is made from), which it would overwrite, and
 * none is named like a module (`--json lib.mjs app.mjs`, an output option that lost its file name,
 * would replace a source file of the program). Throws a usage error naming the option.
 */
export function checkOutputs(
  command: string,
  files: OutputFiles,
  optionOf: (key: keyof OutputFiles) => string,
  inputs: { file: string; what: string }[] = [],
): void {
  const taken = new Map<string, string>(inputs.map((i) => [resolve(i.file), i.what]));
  for (const key of ['json', 'trace', 'report'] as const) {
    const file = files[key];
    if (file === undefined) continue;
    const reason = unwritableReason(file);
    if (reason !== undefined) throw new UsageError(command, `${optionOf(key)}: ${reason}`);
    const other = taken.get(resolve(file));
    if (other !== undefined) throw new UsageError(command, `${optionOf(key)}: ${file} is ${other} already`);
    if (SOURCE_FILE.test(file))
      throw new UsageError(
        command,
        `${optionOf(key)}: ${file} is named like a JavaScript or TypeScript module, which the output would overwrite (give ${optionOf(key)} the file to write first, like ${optionOf(key)} ${EXAMPLE_FILE[key]})`,
      );
    taken.set(resolve(file), `the file of ${optionOf(key)}`);
  }
}

/**
 * Writes the HTML report (`--report`), the run data (`--json`) and the Chrome trace (`--trace`),
 * the smallest first (the trace of a long run is hundreds of megabytes). Each goes to a temporary
 * file beside its path, renamed over it once whole: one that cannot be written (a full disk) leaves
 * no truncated file, is reported on stderr and does not keep the others from being written.
 */
export function writeOutputs(data: RunData, files: OutputFiles): { written: string[]; failed: string[] } {
  const written: string[] = [];
  const failed: string[] = [];
  const write = (file: string | undefined, writeTo: (file: string) => void) => {
    if (file === undefined) return;
    const partial = `${file}.tlob-${process.pid}.tmp`;
    try {
      writeTo(partial);
      renameSync(partial, file);
      written.push(file);
    } catch (error) {
      rmSync(partial, { force: true });
      failed.push(file);
      process.stderr.write(`tlob: cannot write ${file}: ${(error as Error).message}\n`);
    }
  };
  write(files.report, (file) => writeFileSync(file, renderReport(data)));
  // in pieces: the text of a run's million transitions is hundreds of megabytes
  write(files.json, (file) => writeJsonFile(file, data));
  write(files.trace, (file) => writeJsonFile(file, toChromeTrace(timelinesOf(data), processLabels(data))));
  return { written, failed };
}

function timelinesOf(data: RunData): TimelineData[] {
  return data.threads.flatMap((t) => (t.timeline === undefined ? [] : [t.timeline]));
}

/**
 * `node app.mjs` per pid, for the process names of the trace; a process started by another of the
 * run says by which (`node app.mjs (child of 4242)`): a cluster's primary and workers, or a program
 * that forks itself, run the same command.
 */
function processLabels(data: RunData): Map<number, string> {
  const main = data.threads.filter((t) => t.threadId === 0);
  const pids = new Set(main.map((t) => t.pid));
  const labels = new Map<number, string>();
  for (const t of main) {
    const command = `node ${t.argv.join(' ')}`.trim();
    labels.set(t.pid, pids.has(t.ppid) ? `${command} (child of ${t.ppid})` : command);
  }
  return labels;
}
