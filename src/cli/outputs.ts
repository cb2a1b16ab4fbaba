import { writeFileSync } from 'node:fs';
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

/**
 * Checks, before anything runs, that each output can be written: its directory exists and is
 * writable, and the path is not a directory. Throws a usage error naming the option.
 */
export function checkOutputs(
  command: string,
  files: OutputFiles,
  optionOf: (key: keyof OutputFiles) => string,
): void {
  for (const key of ['json', 'trace', 'report'] as const) {
    const file = files[key];
    if (file === undefined) continue;
    const reason = unwritableReason(file);
    if (reason !== undefined) throw new UsageError(command, `${optionOf(key)}: ${reason}`);
  }
}

/**
 * Writes the run data (`--json`), the Chrome trace (`--trace`) and the HTML report (`--report`).
 * One that cannot be written is reported on stderr and does not keep the others from being written.
 */
export function writeOutputs(data: RunData, files: OutputFiles): { written: string[]; failed: string[] } {
  const written: string[] = [];
  const failed: string[] = [];
  const write = (file: string | undefined, writeTo: (file: string) => void) => {
    if (file === undefined) return;
    try {
      writeTo(file);
      written.push(file);
    } catch (error) {
      failed.push(file);
      process.stderr.write(`tlob: cannot write ${file}: ${(error as Error).message}\n`);
    }
  };
  // in pieces: the text of a run's million transitions is hundreds of megabytes
  write(files.json, (file) => writeJsonFile(file, data));
  write(files.trace, (file) => writeJsonFile(file, toChromeTrace(timelinesOf(data), processLabels(data))));
  write(files.report, (file) => writeFileSync(file, renderReport(data)));
  return { written, failed };
}

function timelinesOf(data: RunData): TimelineData[] {
  return data.threads.flatMap((t) => (t.timeline === undefined ? [] : [t.timeline]));
}

/** `node app.mjs` per pid, for the process names of the trace. */
function processLabels(data: RunData): Map<number, string> {
  const labels = new Map<number, string>();
  for (const t of data.threads) if (t.threadId === 0) labels.set(t.pid, `node ${t.argv.join(' ')}`.trim());
  return labels;
}
