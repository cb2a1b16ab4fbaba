// The timeline from code (docs/timeline.md): record the windows of a few calls, export them as a
// Chrome trace and write it where Perfetto UI (ui.perfetto.dev) or chrome://tracing can open it.
// Run: node examples/timeline.mjs [trace.json]
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeline, tlob, toChromeTrace } from 'tlob';

const spin = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

tlob.reactor('nop');
timeline.start({ maxEvents: 10_000 }); // off until here: nothing subscribed, nothing published

// three concurrent requests: each sleeps, then runs; the third breaks its 15 ms budget
await Promise.all(
  [5, 10, 20].map((ms) =>
    tlob.run('request', { budget: '15ms' }, async () => {
      await sleep(ms);
      spin(2);
      tlob.run('render', { budget: '5ms' }, () => spin(1)); // nested: runs inside its request
    }),
  ),
);

timeline.stop();
const trace = toChromeTrace([timeline.snapshot()], new Map([[process.pid, 'examples/timeline.mjs']]));
const file = process.argv[2] ?? join(tmpdir(), 'tlob-timeline-example.json');
writeFileSync(file, JSON.stringify(trace));

const count = (ph, name) => trace.traceEvents.filter((e) => e.ph === ph && (!name || e.name === name)).length;
console.log(`windows: ${trace.metadata['tlob-windows']}, dropped: ${trace.metadata['tlob-dropped']}`);
console.log(`async window slices: ${count('b', 'request')} request, ${count('b', 'render')} render`);
console.log(`running slices on the JS thread: ${count('X')}`);
console.log(`over budget instants: ${count('n', 'over budget')}`);
console.log(`wrote ${file}: open it in https://ui.perfetto.dev`);
