// The report and the timeline at scale (`node benchmarks/report.mjs`, after `npm run build`):
// - runs benchmarks/report-app under `tlob run` for 100,000 windows with --json, --trace and
//   --report, and reports the sizes of the outputs;
// - times `tlob report` building the HTML from the saved data;
// - opens the report in headless Chromium (Debian's /usr/bin/chromium) several times and reports
//   the time until its script has drawn everything (navigation start to `body[data-rendered]`),
//   with a screenshot of the first in .tmp/report-100k.png;
// - measures the timeline recorder's cost per transition: batches of 20,000 async windows in one
//   process with the recorder off and on, in alternating pairs, median of the differences.
// Targets (docs/timeline.md): the report ≤ 5 MB and rendered in under 2 s.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineLine } from './lib/machine.mjs';
import { median } from './lib/summary.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cli = join(root, 'dist/cli.js');
const out = mkdtempSync(join(tmpdir(), 'tlob-report-bench-'));
const rounds = Number(process.env.ROUNDS ?? 5);
const mb = (file) => (statSync(file).size / 1e6).toFixed(2);

function tlob(args, env = {}) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: join(here, 'report-app'),
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`tlob ${args.join(' ')} failed:\n${r.stderr}`);
  return performance.now() - t0;
}

console.log(machineLine());
const data = join(out, 'data.json');
const report = join(out, 'report.html');
const trace = join(out, 'trace.json');
const specs = [
  '-p',
  'p ./lib.mjs:handle threshold=2ms name=handle',
  '-p',
  'p ./lib.mjs:render threshold=1ms name=render',
];
const runMs = tlob([
  'run',
  '-q',
  '-r',
  'nop',
  ...specs,
  '--json',
  data,
  '--trace',
  trace,
  '--report',
  report,
  'app.mjs',
]);
console.log(`run of 100,000 windows under tlob run (all three outputs): ${(runMs / 1000).toFixed(2)} s`);
console.log(`sizes: data ${mb(data)} MB, trace ${mb(trace)} MB, report ${mb(report)} MB`);
const build = [];
for (let i = 0; i < rounds; i++) build.push(tlob(['report', data, '-o', join(out, `r${i}.html`)]));
console.log(`tlob report (read data, build HTML, write): median ${median(build).toFixed(0)} ms of ${rounds}`);

const { launchChromium, openReport } = await import(
  pathToFileURL(join(root, 'test/report/chromium.ts')).href
);
mkdirSync(join(root, '.tmp'), { recursive: true });
const chromium = await launchChromium();
const render = [];
for (let i = 0; i < rounds; i++) {
  const opened = await openReport(chromium.browser, report);
  if (opened.consoleErrors.length > 0) throw new Error(opened.consoleErrors.join('\n'));
  render.push(opened.renderMs);
  if (i === 0) {
    await opened.page.setViewportSize({ width: 1280, height: 1300 });
    await opened.page.screenshot({ path: join(root, '.tmp/report-100k.png') });
  }
  await opened.page.close();
}
await chromium.close();
console.log(
  `report render in Chromium (load to drawn): median ${median(render).toFixed(0)} ms, max ${Math.max(...render).toFixed(0)} ms of ${rounds}`,
);

// the recorder's cost per transition, in one process: PAIRS rounds of batches of 20,000 async
// windows, with the recorder off, on, and with no-op subscribers instead (the order alternating),
// and the medians of the differences within a round, so that slow phases of a shared machine
// hit all sides
const pairs = Number(process.env.PAIRS ?? 30);
const probe = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { timeline, tlob } from ${JSON.stringify(pathToFileURL(join(root, 'dist/index.js')).href)};
const tick = () => new Promise((r) => setImmediate(r));
const N = 20_000;
async function batch() {
  const t0 = performance.now();
  for (let i = 0; i < N; i += 50) {
    const all = [];
    for (let j = 0; j < 50; j++) all.push(tlob.run('w', { budget: '1s' }, async () => { await tick(); }));
    await Promise.all(all);
  }
  return performance.now() - t0;
}
async function recorded() {
  timeline.start({ maxEvents: 200_000 });
  const ms = await batch();
  timeline.stop();
  const transitions = timeline.snapshot().kind.length;
  timeline.clear();
  return { ms, transitions };
}
// the same channels with subscribers that do nothing: what publishing costs by itself
const channels = ['tlob:event', 'tlob:error', 'tlob:stop'];
const noop = () => {};
async function published() {
  for (const c of channels) subscribe(c, noop);
  const ms = await batch();
  for (const c of channels) unsubscribe(c, noop);
  return ms;
}
await batch(); await recorded(); await published(); // warm-up
const off = [], on = [], diff = [], noopDiff = [];
let transitions = 0;
for (let p = 0; p < ${pairs}; p++) {
  let a, b, c;
  if (p % 2 === 0) { a = await batch(); b = await recorded(); c = await published(); }
  else { c = await published(); b = await recorded(); a = await batch(); }
  off.push(a); on.push(b.ms); diff.push(b.ms - a); noopDiff.push(c - a); transitions = b.transitions;
}
const med = (x) => [...x].sort((p, q) => p - q)[x.length >> 1];
console.log(JSON.stringify({ off: med(off), on: med(on), diff: med(diff), noopDiff: med(noopDiff), transitions }));
`,
  ],
  { encoding: 'utf8' },
);
if (probe.status !== 0) throw new Error(probe.stderr);
const cost = JSON.parse(probe.stdout);
console.log(
  `timeline recorder: 20,000 async windows (${cost.transitions} transitions) ${cost.off.toFixed(1)} ms off, ` +
    `${cost.on.toFixed(1)} ms on (medians of ${pairs}); median difference within a pair ${cost.diff.toFixed(1)} ms, ` +
    `${((cost.diff * 1e6) / cost.transitions).toFixed(0)} ns per transition; ` +
    `no-op subscribers on the same channels: ${((cost.noopDiff * 1e6) / cost.transitions).toFixed(0)} ns per transition`,
);
console.log('(the machine is shared: read the numbers as rough)');
