import { writeFileSync } from 'node:fs';
import { renderReport } from '../report/html-report.js';
import type { RunData } from '../report/run-data.js';
import type { TimelineData } from '../report/timeline.js';
import { toChromeTrace } from '../report/trace-export.js';

/** Where `tlob run` and `tlob report` write what they were asked for. */
interface OutputFiles {
  json?: string | undefined;
  trace?: string | undefined;
  report?: string | undefined;
}

/** Writes the run data (`--json`), the Chrome trace (`--trace`) and the HTML report (`--report`). */
export function writeOutputs(data: RunData, files: OutputFiles): string[] {
  const written: string[] = [];
  if (files.json !== undefined) {
    writeFileSync(files.json, JSON.stringify(data));
    written.push(files.json);
  }
  if (files.trace !== undefined) {
    writeFileSync(files.trace, JSON.stringify(toChromeTrace(timelinesOf(data), processLabels(data))));
    written.push(files.trace);
  }
  if (files.report !== undefined) {
    writeFileSync(files.report, renderReport(data));
    written.push(files.report);
  }
  return written;
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
