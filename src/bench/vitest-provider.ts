// `tlob/vitest`: a Vitest `benchmark.provider` that measures with tinybench and adds tlob's split.
import { Bench as Tinybench } from 'tinybench';
import type { BenchmarkProvider, BenchResult } from 'vitest';
import { checkWithTlobOptions } from './check-options.js';
import type { TlobTaskStats } from './task-stats.js';
import { type WithTlobOptions, withTlob } from './tinybench.js';

/** What `bench(...).run()` resolves to with this provider: Vitest's result plus tlob's statistics. */
export type TlobBenchResult = BenchResult & { readonly tlob: TlobTaskStats };

/**
 * A Vitest benchmark provider: runs each registration on a tinybench `Bench` wrapped by
 * `withTlob`, and returns Vitest's usual results, each with a `tlob` field. Experimental, like
 * Vitest's provider API.
 * @example
 * // bench-provider.mjs, named by `benchmark.provider` in the Vitest config
 * import { createProvider } from 'tlob/vitest';
 * export default createProvider({ budget: '5ms' });
 */
export function createProvider(options: WithTlobOptions = {}): BenchmarkProvider {
  checkWithTlobOptions(options, 'createProvider');
  let count = 0;
  return {
    async run({ test, config, registrations, options: runOptions }) {
      const bench = withTlob(
        new Tinybench({
          signal: test.context.signal,
          name: `${test.fullTestName} ${++count}`,
          retainSamples: config.retainSamples,
          ...runOptions,
          now: () => performance.now(),
        }),
        options,
      );
      for (const { name, fn, fnOpts } of registrations) bench.add(name, fn, fnOpts);
      await bench.run();
      const errors = bench.tasks
        .filter((t) => t.result.state === 'errored')
        .map((t) => (t.result as { error: Error }).error);
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'Some benchmarks failed');
      return bench.tasks.map((task): TlobBenchResult => {
        if (task.result.state !== 'completed') {
          throw new Error(`task "${task.name}" did not complete: received "${task.result.state}"`);
        }
        return { ...(task.result as BenchResult), name: task.name, tlob: task.tlob };
      });
    },
  };
}

/** The provider without a budget: `benchmark: { provider: 'tlob/vitest' }`. */
export default createProvider();
