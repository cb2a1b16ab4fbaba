// Request handlers of examples/cli/server.mjs. The probe specs of examples/cli/tlob.config.json
// put a budget on them without a change to this file.

/** Holds the JS thread for `ms` milliseconds (CPU-bound work). */
export function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A handler that waits on a slow dependency (sleeping), then renders (running). */
export async function getUser(id) {
  await sleep(id % 10 === 0 ? 40 : 5);
  spin(1);
  return { id, name: `user ${id}` };
}

/** A CPU-bound handler: its time is running time, and it holds up everything else. */
export function renderReport(rows) {
  spin(rows / 10);
  return `${rows} rows`;
}
