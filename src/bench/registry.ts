import { sharedRegistry } from '../shared-registry.js';

/** What the `tlob-bench` command collects: every `Bench` constructed while it loads bench files. */
interface BenchRegistry {
  collecting: boolean;
  readonly benches: unknown[];
  /** Aborted by the command's first Ctrl-C: every `bench.run()` then stops as on its own `signal`. */
  interrupt?: AbortSignal | undefined;
  /** The `bench › task` a `bench.run()` is in, for the command's message should the process exit. */
  current?: string | undefined;
}

const KEY = Symbol.for('tlob.bench.registry');

/**
 * The registry, on `globalThis` so that the command and the bench files share it even when they
 * load different copies of `tlob/bench` (the command's bundle and the package's entry).
 */
export function benchRegistry(): BenchRegistry {
  return sharedRegistry<BenchRegistry>(KEY, () => ({ collecting: false, benches: [] }));
}

/** Marks an object as a `Bench` across copies of the package. */
export const BENCH_BRAND = Symbol.for('tlob.bench');
