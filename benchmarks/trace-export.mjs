// The Chrome trace and the HTML report of a timeline with many windows in flight
// (`node benchmarks/trace-export.mjs`, after `npm run build`): builds synthetic timelines, each
// window of one of four names running, sleeping, then running to its end, with a given number of
// windows open at once, and times `toChromeTrace` on them (in this process, best of --rounds) and
// `tlob report` building the HTML from saved run data holding them (one child process each).
//
//   node benchmarks/trace-export.mjs [--rounds=3] [--shapes=100000x50,100000x100000,...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue } from './lib/child.mjs';
import { importTlob } from './lib/load-tlob.mjs';
import { machineLine } from './lib/machine.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../dist/cli.js');
const rounds = Number(argValue('rounds') ?? 3);
const shapes = (argValue('shapes') ?? '100000x50,100000x50000,100000x100000,1000000x100000')
  .split(',')
  .map((s) => s.split('x').map(Number));

/**
 * `n` windows started 10 µs apart, each open for `inFlight` starts (so that many are open at
 * once), its transitions in time order as the recorder writes them.
 */
function syntheticTimeline(n, inFlight) {
  const step = 10_000;
  const length = inFlight * step - step / 2;
  const records = [];
  for (let i = 0; i < n; i++) {
    const start = 1e6 + i * step;
    records.push([start, 1, i], [start + length / 2, 3, i], [start + (length * 3) / 4, 1, i]);
    records.push([start + length, 0, i]);
  }
  records.sort((a, b) => a[0] - b[0]);
  return {
    pid: 4242,
    threadId: 0,
    timeOrigin: 1_700_000_000_000,
    names: ['a', 'b', 'c', 'd'],
    kind: records.map((r) => r[1]),
    id: records.map((r) => r[2] + 1),
    at: records.map((r) => r[0]),
    name: records.map((r) => r[2] % 4),
    value: records.map(() => 0),
    violations: [],
    dropped: 0,
  };
}

function runData(timeline) {
  return {
    version: 1,
    command: ['node', 'synthetic.mjs'],
    names: [],
    violations: [],
    violationsDropped: 0,
    threads: [
      {
        version: 1,
        pid: timeline.pid,
        ppid: 1,
        threadId: 0,
        argv: ['synthetic.mjs'],
        names: [],
        violations: [],
        violationsDropped: 0,
        timeline,
      },
    ],
  };
}

const { toChromeTrace } = await importTlob();
const out = mkdtempSync(join(tmpdir(), 'tlob-trace-bench-'));
console.log(machineLine());
try {
  for (const [n, inFlight] of shapes) {
    const timeline = syntheticTimeline(n, inFlight);
    const trace = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      toChromeTrace([timeline]);
      trace.push(performance.now() - t0);
    }
    const data = join(out, 'data.json');
    writeFileSync(data, JSON.stringify(runData(timeline)));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'report', data, '-o', join(out, 'report.html')], {
      encoding: 'utf8',
    });
    const reportMs = performance.now() - t0;
    if (r.status !== 0) throw new Error(`tlob report failed:\n${r.stderr}`);
    const label = `${n.toLocaleString('en')} windows, ${inFlight.toLocaleString('en')} in flight`;
    console.log(
      `${label}: toChromeTrace best ${(Math.min(...trace) / 1000).toFixed(2)} s of ${rounds}; ` +
        `tlob report ${(reportMs / 1000).toFixed(2)} s`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
