import { writeFileSync } from 'node:fs';
import { unwritableReason } from '../output-file.js';
import { renderReport } from '../report/html-report.js';
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
  const write = (file: string | undefined, content: () => string) => {
    if (file === undefined) return;
    try {
      writeFileSync(file, content());
      written.push(file);
    } catch (error) {
      failed.push(file);
      process.stderr.write(`tlob: cannot write ${file}: ${(error as Error).message}\n`);
    }
  };
  write(files.json, () => JSON.stringify(data));
  write(files.trace, () => JSON.stringify(toChromeTrace(timelinesOf(data), processLabels(data))));
  write(files.report, () => renderReport(data));
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
