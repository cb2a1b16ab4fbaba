// Public names of `tlob/bench`.

export { Bench, type BenchOptions, type TaskOptions } from './bench.js';
export { benchCommand } from './command.js';
export { type NodeBenchDetail, type NodeBenchSampler, nodeBenchSample } from './node-bench.js';
export type { BenchEnvironment, BenchResults, BenchWarning, TaskResult } from './results.js';
export type { StateStats } from './statistics.js';
export type { BenchTableRow } from './table.js';
export type { BenchHook } from './task-runner.js';
export type { BenchState, TlobTaskStats, WorstViolation } from './task-stats.js';
