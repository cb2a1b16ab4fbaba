import type { TaskResult } from './results.js';

/** One row of `bench.table()`: what `console.table` shows per task (times in milliseconds). */
export interface BenchTableRow {
  readonly task: string;
  readonly samples: number;
  readonly 'ops/s': number;
  readonly 'elapsed p50': number;
  readonly 'elapsed p99': number;
  readonly 'running p50': number;
  readonly 'waiting p50': number;
  readonly 'sleeping p50': number;
  readonly rme: string;
  readonly violations: string;
}

const ms = (ns: number): number => Number((ns / 1e6).toPrecision(4));

/** The name a task is shown and compared by: `bench › task`, or the task's name when the bench has none. */
export const taskKey = (task: { bench: string; name: string }): string =>
  task.bench === '' ? task.name : `${task.bench} › ${task.name}`;

/** Rows for `console.table`, one per task. */
export function tableRows(tasks: readonly TaskResult[]): BenchTableRow[] {
  return tasks.map((t) => ({
    task: taskKey(t) + (t.state === 'completed' ? '' : ` (${t.state})`),
    samples: t.samples,
    'ops/s': Number(t.throughput.opsPerSecond.toPrecision(4)),
    'elapsed p50': ms(t.elapsed.p50),
    'elapsed p99': ms(t.elapsed.p99),
    'running p50': ms(t.running.p50),
    'waiting p50': ms(t.waiting.p50),
    'sleeping p50': ms(t.sleeping.p50),
    rme: `±${t.elapsed.rme.toFixed(2)}%`,
    violations: t.budgetNs === null ? '-' : `${t.violations} (${(t.violationRate * 100).toFixed(1)}%)`,
  }));
}

/** Formats rows (or any flat records) as a plain text table with a header line. */
export function formatTable(rows: readonly object[]): string {
  const first = rows[0];
  if (first === undefined) return '';
  const keys = Object.keys(first);
  const cells = [keys, ...rows.map((r) => keys.map((k) => String((r as Record<string, unknown>)[k])))];
  const widths = keys.map((_, i) => Math.max(...cells.map((row) => (row[i] as string).length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
        .join('  '),
    )
    .join('\n');
}
