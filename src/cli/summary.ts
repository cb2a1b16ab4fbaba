import { styleText } from 'node:util';
import { formatNs } from '../engine/duration.js';
import { percentiles, type RunData } from '../report/run-data.js';

/** How many violations the summary lists. */
const WORST = 5;

/**
 * The table `tlob run` prints when the program ends: per name the count, violations, p50/p99 of
 * elapsed and the p50 of each state; then the worst violations with their split.
 */
export function formatSummary(data: RunData, stream: NodeJS.WriteStream = process.stderr): string {
  const bold = (s: string) => styleText('bold', s, { stream });
  const red = (s: string) => styleText('red', s, { stream });
  const header = ['name', 'count', 'violations', 'p50', 'p99', 'run p50', 'wait p50', 'sleep p50'];
  const rows = data.names.map((n) => {
    const [p50, p99] = percentiles(n.elapsed, [50, 99]);
    return [
      n.name,
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
  const out = ['', bold(`tlob: ${data.threads.length} thread(s) reported`), bold(line(header))];
  for (const r of rows) out.push(Number(r[2]) > 0 ? red(line(r)) : line(r));
  if (rows.length === 0) out.push('(no window finished: did a probe match? see `tlob list`)');
  const worst = [...data.violations]
    .sort((a, b) => Number(b.elapsedNs ?? 0) - Number(a.elapsedNs ?? 0))
    .slice(0, WORST);
  if (worst.length > 0)
    out.push('', bold(`worst violations (${data.violations.length + data.violationsDropped} in all):`));
  for (const v of worst) {
    const ns = (key: string) => formatNs(Number(v[key] ?? 0));
    out.push(
      `  "${v.name}" #${v.id} pid ${v.pid}: elapsed ${ns('elapsedNs')} over ${ns('budgetNs')} ` +
        `(running ${ns('runningNs')}, waiting ${ns('waitingNs')}, sleeping ${ns('sleepingNs')}) in ${v.state}`,
    );
  }
  return `${out.join('\n')}\n`;
}
