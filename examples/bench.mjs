// tlob/bench: a CPU task, an I/O task and a mixed one, each at concurrency 1, 4 and 16, with the
// split of every iteration into running, waiting and sleeping.
//
//   node examples/bench.mjs              runs the benches and prints the split
//   npx tlob-bench examples/bench.mjs    the same through the command (table, --json, gates)
import { fileURLToPath } from 'node:url';
import { Bench } from 'tlob/bench';

const spin = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // hold the thread, as parsing or rendering would
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const benches = [1, 4, 16].map((concurrency) =>
  new Bench({ name: `concurrency ${concurrency}`, concurrency, budget: '10ms', time: 150, warmupTime: 30 })
    .add('cpu', () => spin(1)) // synchronous: one iteration at a time, whatever the concurrency
    .add('io', () => sleep(2))
    .add('mixed', async () => {
      spin(0.5);
      await sleep(2);
    }),
);

export default benches;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ms = (ns) => (ns / 1e6).toFixed(2);
  for (const bench of benches) {
    const { tasks } = await bench.run();
    for (const t of tasks) {
      console.log(
        `${bench.name} ${t.name}: elapsed p50 ${ms(t.elapsed.p50)} ms = running ${ms(t.running.p50)}` +
          ` + waiting ${ms(t.waiting.p50)} + sleeping ${ms(t.sleeping.p50)}; violations ${t.violations}/${t.samples}`,
      );
    }
  }
}
