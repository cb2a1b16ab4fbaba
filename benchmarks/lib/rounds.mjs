// Runs the variants of a benchmark alternately, each in its own process, and takes medians.
import { progress, runJsonChild } from './child.mjs';
import { median } from './summary.mjs';

/**
 * Runs `script --variant=<name>` for every variant, `rounds` times, rotating the order each round
 * so that no variant always runs first or last on a noisy machine. Each child prints a JSON object
 * of numbers; the result maps each variant to the per-field medians over the rounds (and the raw
 * samples under `samples`).
 */
export async function runRounds(script, variants, { rounds = 5, args = [], nodeArgs = [] } = {}) {
  const samples = Object.fromEntries(variants.map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]);
    for (const variant of order) {
      progress(`  round ${r + 1}/${rounds}: ${variant}`);
      samples[variant].push(await runJsonChild(script, [`--variant=${variant}`, ...args], { nodeArgs }));
    }
  }
  const result = {};
  for (const variant of variants) {
    const runs = samples[variant];
    const fields = Object.keys(runs[0]).filter((k) => typeof runs[0][k] === 'number');
    result[variant] = Object.fromEntries(fields.map((f) => [f, median(runs.map((x) => x[f]))]));
    result[variant].samples = runs;
  }
  return result;
}
