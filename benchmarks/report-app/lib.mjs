// The handlers of the 100,000-window benchmark app (benchmarks/report.mjs probes them).
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** An async handler: one wait on the event loop, a little work. */
export async function handle(i) {
  await tick();
  let x = 0;
  for (let k = 0; k < 200 + (i % 7) * 100; k++) x += k;
  return x;
}

/** A synchronous helper, called every tenth request; every thousandth is slow. */
export function render(i) {
  const end = performance.now() + (i % 1000 === 0 ? 3 : 0.01);
  while (performance.now() < end) {
    // busy
  }
  return i;
}
