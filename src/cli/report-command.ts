import { readFileSync } from 'node:fs';
import type { RunData } from '../report/run-data.js';
import { runDataProblem } from '../report/run-data-check.js';
import { type Command, parseCommandArgs } from './command.js';
import { checkOutputs, writeOutputs } from './outputs.js';
import { UsageError } from './usage-error.js';

const help = `Usage: tlob report <data.json> [-o report.html] [--trace trace.json]

Builds the HTML report (and, with --trace, the Chrome trace) from the data that
\`tlob run --json data.json\` saved.
  -o, --output FILE   the report to write (default: report.html)
  --trace FILE        also write the timeline as a Chrome trace
`;

export const reportCommand: Command = {
  summary: 'build the HTML report from saved run data',
  help,
  run(args) {
    const parsed = parseCommandArgs(
      'report',
      help,
      args,
      { output: { type: 'string', short: 'o' }, trace: { type: 'string' } },
      true,
    );
    if (parsed === undefined) return 0;
    const [input, ...extra] = parsed.positionals;
    if (input === undefined)
      throw new UsageError('report', 'expected a data file (from `tlob run --json`), got none');
    if (extra.length > 0)
      throw new UsageError('report', `expected one data file, got ${parsed.positionals.length}`);
    const output = parsed.values.output ?? 'report.html';
    const files = { report: output, trace: parsed.values.trace };
    checkOutputs('report', files, (key) => (key === 'report' ? '--output' : `--${key}`), [
      { file: input, what: 'the data to report' },
    ]);
    let data: RunData;
    try {
      data = JSON.parse(readFileSync(input, 'utf8')) as RunData;
    } catch (error) {
      throw new UsageError('report', `cannot read ${input}: ${(error as Error).message}`);
    }
    const problem = runDataProblem(data);
    if (problem !== undefined) {
      throw new UsageError(
        'report',
        `expected ${input} to hold the data of \`tlob run --json\`, got something else (${problem})`,
      );
    }
    const { written, failed } = writeOutputs(data, files);
    if (written.length > 0) process.stderr.write(`tlob: wrote ${written.join(', ')}\n`);
    return failed.length > 0 ? 1 : 0;
  },
};
