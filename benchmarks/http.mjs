// Throughput of a `node:http` server (DESIGN §6): uninstrumented, every request in a tlob
// window, and OpenTelemetry's HTTP instrumentation. The server runs in a child process on
// 127.0.0.1; autocannon loads it from this process (10 connections, loopback only). Variants run
// alternately over several rounds, each on a fresh server with a warm-up first; medians shown.
//
//   node benchmarks/http.mjs [--rounds=3] [--seconds=5] [--paired-servers=3] [--paired-seconds=15]
//   node benchmarks/http.mjs --floor-parts [--rounds=5] [--seconds=20]
//   node benchmarks/http.mjs --paired-only [--paired-servers=3] [--paired-seconds=15]
//
// The target against the bare mechanism is judged inside one server that moves between the
// uninstrumented handler, the bare mechanism and tlob every 100 ms (the `paired` variant of
// http-server.cjs): each cycle through the three compares them under the same load. The separate
// servers' table is the throughput a user sees; it reads within the spread between servers.
// `--floor-parts` prints, instead, what each part of the floor costs per request and what tlob
// adds to the whole floor, compared between neighbouring 100 ms periods of one server.
// `--paired-only` runs only the measurement inside one server (~1 min) and prints its lines.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { argValue, progress } from './lib/child.mjs';
import { machineLine } from './lib/machine.mjs';
import { fmt, median, medianInterval, spread, table, times, verdict } from './lib/summary.mjs';

const serverScript = fileURLToPath(new URL('./http-server.cjs', import.meta.url));
const connections = 10;
const seconds = Number(argValue('seconds', '5'));
const pairedOnly = process.argv.includes('--paired-only');
const rounds = pairedOnly ? 0 : Number(argValue('rounds', '5'));

const allVariants = {
  plain: 'uninstrumented',
  tlob: "every request in `tlob.run('req', { budget: '50ms' }, …)`",
  hook: 'bare hook mechanism: `AsyncLocalStorage.run` per request, `createHook` before/after + `getStore` (reference)',
  floor:
    'floor: the bare mechanism + what any monitor of the request must do (an object, two clock reads per switch, a deadline heap entry, the end seen by a settle hook, one histogram record)',
  otel: 'OpenTelemetry `instrumentation-http` (BatchSpanProcessor, no-op exporter)',
  'tlob-metrics': "`tlob.run` + tlob/otel metrics (`otel({ spans: 'none' })`, SDK MeterProvider)",
  'otel-tlob-bare': '`instrumentation-http` + `tlob.run` (no tlob/otel)',
  'otel-tlob':
    "`instrumentation-http` + `tlob.run` + tlob/otel metrics and a child span per window (`spans: 'child'`)",
};

// `--variants=plain,tlob,hook,otel` runs those only (the call-path targets need no more).
const chosen = argValue('variants', undefined)?.split(',');
const variants = Object.fromEntries(
  Object.entries(allVariants).filter(
    ([name]) => chosen === undefined || name === 'plain' || chosen.includes(name),
  ),
);
for (const name of ['tlob', 'hook', 'otel']) {
  if (variants[name] === undefined) throw new Error(`--variants must include ${name}`);
}

function startServer(variant) {
  const child = fork(serverScript, [variant], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () =>
    new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)));
    });
  return { child, next };
}

function load(port, duration) {
  return autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration });
}

/** A fresh server of `variant` under load: a 1 s warm-up, then `duration` seconds measured. */
async function serve(variant, duration) {
  const server = startServer(variant);
  const { port } = await server.next();
  await load(port, 1);
  server.child.send('mark');
  await server.next();
  const result = await load(port, duration);
  server.child.send('stats');
  const { stats } = await server.next();
  return { result, stats };
}

/** One measured run of one variant on a fresh server. */
async function measure(variant) {
  const { result, stats } = await serve(variant, seconds);
  const failed = result.errors + result.timeouts + result.non2xx;
  return {
    rps: result.requests.total / (result.duration || seconds),
    cpuUsPerRequest: stats.cpuUs / result.requests.total,
    bytesPerRequest: stats.allocatedBytes / result.requests.total,
    failed,
    stats,
  };
}

if (process.argv.includes('--floor-parts')) {
  console.log(await floorParts());
  process.exit(0);
}

/**
 * `--floor-parts`: what each part of the floor costs, and tlob beside the whole floor, measured
 * inside one server per round whose level moves through the parts every 100 ms (the
 * `floor-parts` variant of http-server.cjs): the CPU per request of each 100 ms period is compared
 * with the period just before it, one level lower, under the same load.
 */
async function floorParts() {
  const partSeconds = Number(argValue('seconds', '20'));
  const pairs = [];
  const perLevel = [];
  let parts;
  for (let r = 0; r < rounds; r++) {
    const { result, stats } = await serve('floor-parts', partSeconds);
    parts = stats.parts;
    const periods = stats.periods.filter((p) => p.requests > 0);
    progress(
      `  round ${r + 1}/${rounds}: ${fmt(result.requests.total / partSeconds)} req/s, ${periods.length} periods`,
    );
    for (const p of periods) (perLevel[p.level] ??= []).push(p.cpuUs / p.requests);
    for (let i = 1; i < periods.length; i++) {
      const a = periods[i - 1];
      const b = periods[i];
      if (b.level !== a.level + 1) continue;
      (pairs[b.level] ??= []).push(b.cpuUs / b.requests - a.cpuUs / a.requests);
    }
  }
  const names = [...parts, 'every request in `tlob.run` instead (tlob ÷ the whole floor on the step)'];
  const rows = names.map((name, level) => [
    name,
    fmt(median(perLevel[level] ?? [Number.NaN])),
    level === 0 ? '' : `${fmt(median(pairs[level] ?? [Number.NaN]))}`,
    level === 0 ? '' : String(pairs[level]?.length ?? 0),
  ]);
  return [
    `_${machineLine()} · ${connections} connections · ${rounds} servers × ${partSeconds} s, the level moving every 100 ms_`,
    '',
    table(
      [
        'level',
        'server CPU µs/req (median of its periods)',
        'added µs/req (median of paired steps)',
        'pairs',
      ],
      rows,
    ),
  ].join('\n');
}

/**
 * The paired measurement: `servers` servers of the `paired` variant, each `seconds` under load.
 * A cycle is one period of each level in a row (100 ms each, counted from 20 ms after the switch);
 * a cycle in which a level served fewer than half the usual requests of a period (the load
 * starting or stopping) is left out. Returns each level's CPU per request per cycle.
 */
async function paired(servers, seconds) {
  const cycles = [];
  for (let r = 0; r < servers; r++) {
    const { result, stats } = await serve('paired', seconds);
    const { levels } = stats;
    const usual = median(stats.periods.map((p) => p.requests));
    const byCycle = new Map();
    for (const p of stats.periods) {
      if (!byCycle.has(p.cycle)) byCycle.set(p.cycle, new Array(levels.length).fill(undefined));
      byCycle.get(p.cycle)[p.level] = p.requests >= usual / 2 ? p.cpuUs / p.requests : undefined;
    }
    let kept = 0;
    for (const cpu of byCycle.values()) {
      if (cpu.every((c) => c !== undefined)) {
        cycles.push(Object.fromEntries(levels.map((name, i) => [name, cpu[i]])));
        kept++;
      }
    }
    progress(
      `  paired server ${r + 1}/${servers}: ${fmt(result.requests.total / seconds)} req/s, ${kept} cycles, ${stats.windows} windows`,
    );
  }
  return cycles;
}

const runs = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
progress(`http: ${Object.keys(variants).length} variants × ${rounds} rounds × ${seconds} s`);
for (let r = 0; r < rounds; r++) {
  const names = Object.keys(variants);
  for (let i = 0; i < names.length; i++) {
    const variant = names[(i + r) % names.length];
    const m = await measure(variant);
    progress(`  round ${r + 1}/${rounds}: ${variant} ${fmt(m.rps)} req/s ${JSON.stringify(m.stats)}`);
    runs[variant].push(m);
  }
}

const pairedServers = Number(argValue('paired-servers', '3'));
const pairedSeconds = Number(argValue('paired-seconds', '15'));
progress(`http: paired, ${pairedServers} servers × ${pairedSeconds} s`);
const cycles = await paired(pairedServers, pairedSeconds);
/** Throughput of `a` ÷ throughput of `b` in each cycle (the inverse ratio of their CPU per request). */
const pairedRatio = (a, b) => medianInterval(cycles.map((c) => c[b] / c[a]));
const percent = (x) => (x * 100).toFixed(1);
/** `90.4% (95% CI of the median 89.6–91.1%; quartiles 84.4–96.8%)`. */
const ratioText = (r) =>
  `${percent(r.median)}% (95% CI of the median ${percent(r.low)}–${percent(r.high)}%; quartiles ${percent(r.p25)}–${percent(r.p75)}%)`;
const tlobHook = pairedRatio('tlob', 'hook');
const pairedTable = table(
  ['server', 'server CPU µs/req (median of its periods)', 'throughput ÷ uninstrumented (same cycle)'],
  ['plain', 'hook', 'tlob'].map((v) => [
    variants[v],
    fmt(median(cycles.map((c) => c[v]))),
    v === 'plain' ? '' : ratioText(pairedRatio(v, 'plain')),
  ]),
);
const pairedVerdict = `every request monitored keeps ≥ 92% of the bare mechanism's throughput (aim 95%), inside one server: ${ratioText(tlobHook)}`;
if (pairedOnly) {
  console.log(
    [
      `_${machineLine()} · ${connections} connections · ${pairedServers} servers × ${pairedSeconds} s, ${cycles.length} cycles_`,
      '',
      pairedTable,
      '',
      verdict(tlobHook.median >= 0.92, pairedVerdict),
    ].join('\n'),
  );
  process.exit(0);
}

const med = (variant, field) => median(runs[variant].map((m) => m[field]));
/** The ratio to the uninstrumented server of the same round, median over the rounds. */
const ratio = (variant, field = 'rps') =>
  median(runs[variant].map((m, i) => m[field] / runs.plain[i][field]));
const rows = Object.keys(variants).map((v) => [
  variants[v],
  fmt(med(v, 'rps')),
  spread(runs[v].map((m) => m.rps)),
  times(ratio(v)),
  fmt(med(v, 'cpuUsPerRequest')),
  times(ratio(v, 'cpuUsPerRequest')),
  fmt(med(v, 'bytesPerRequest')),
  String(runs[v].reduce((n, m) => n + m.failed, 0)),
]);
const last = (v) => runs[v].at(-1).stats;
const tlobRatio = ratio('tlob');
const lines = [
  `_${machineLine()} · ${connections} connections · ${seconds} s per run after a 1 s warm-up · median of ${rounds} runs_`,
  '',
  table(
    [
      'server',
      'req/s',
      'spread',
      '÷ uninstrumented (same round)',
      'server CPU µs/req',
      'CPU ÷ uninstrumented',
      'server heap B/req',
      'failed',
    ],
    rows,
  ),
  '',
  `Checks of the last run (warm-up included): tlob recorded ${last('tlob').windows} windows (${last('tlob').violations}` +
    ` over the 50 ms budget, median running ${fmt(last('tlob').runningP50Ns / 1000)} µs);` +
    ` OpenTelemetry exported ${last('otel').spans} spans.`,
  '',
  `The uninstrumented handler, the bare mechanism and tlob inside one server, moving between them every 100 ms` +
    ` (${pairedServers} servers × ${pairedSeconds} s, ${cycles.length} cycles through the three; throughput as the` +
    " inverse of the server's CPU per request, the server being what limits it here):",
  '',
  pairedTable,
  '',
  'Targets (DESIGN §6):',
  '',
  verdict(
    tlobHook.median >= 0.92,
    `${pairedVerdict} (between the separate servers: ${((tlobRatio / ratio('hook')) * 100).toFixed(1)}%)`,
  ),
  verdict(
    tlobRatio >= 1.6 * ratio('otel'),
    `every request monitored keeps ≥ 1.6× OpenTelemetry's throughput: ${times(tlobRatio / ratio('otel'))}` +
      ` (OpenTelemetry's server CPU per request ${times(med('otel', 'cpuUsPerRequest') / med('tlob', 'cpuUsPerRequest'))} tlob's)`,
  ),
  `- for reading: every request monitored keeps ${ratioText(pairedRatio('tlob', 'plain'))} of the uninstrumented` +
    ` server's throughput inside one server, ${(tlobRatio * 100).toFixed(1)}% between the separate servers` +
    ` (server CPU per request ${times(ratio('tlob', 'cpuUsPerRequest'))})`,
  `- for comparison, OpenTelemetry's HTTP instrumentation keeps ${(ratio('otel') * 100).toFixed(1)}%` +
    ` (server CPU per request ${times(ratio('otel', 'cpuUsPerRequest'))})`,
];
if (variants.floor) {
  // CPU per request as ratios to the uninstrumented server of the same round, then to each other
  const cpu = (v) => ratio(v, 'cpuUsPerRequest');
  const plainCpu = med('plain', 'cpuUsPerRequest');
  /** The CPU per request `v` adds over `base`, signed (a negative one is the spread between servers). */
  const added = (v, base) => {
    const us = (cpu(v) - cpu(base)) * plainCpu;
    return us < 0 ? `−${fmt(-us)}` : `+${fmt(us)}`;
  };
  lines.push(
    '',
    'The floor (the least a monitor of every request adds to the bare mechanism); CPU per request as ratios to the uninstrumented server of the same round:',
    '',
    `- the floor keeps ${((ratio('floor') / ratio('hook')) * 100).toFixed(1)}% of the bare mechanism's throughput;` +
      ` CPU per request ${times(cpu('floor') / cpu('hook'))} the bare mechanism's (${added('floor', 'hook')} µs)`,
    `- the floor keeps ${times(ratio('floor') / ratio('otel'))} OpenTelemetry's throughput (what a monitor that does` +
      ` nothing beyond the floor reads against the ≥ 1.6× line); OpenTelemetry's CPU per request` +
      ` ${times(cpu('otel') / cpu('floor'))} the floor's`,
    `- tlob keeps ${((tlobRatio / ratio('floor')) * 100).toFixed(1)}% of the floor's throughput;` +
      ` CPU per request ${times(cpu('tlob') / cpu('floor'))} the floor's (${added('tlob', 'floor')} µs),` +
      ` ${times(cpu('tlob') / cpu('hook'))} the bare mechanism's (${added('tlob', 'hook')} µs)`,
  );
}

if (variants['tlob-metrics'] && variants['otel-tlob-bare'] && variants['otel-tlob'])
  lines.push(
    '',
    'tlob/otel (docs/opentelemetry.md), CPU per request added to the same server without it:',
    '',
    `- metrics: +${fmt(med('tlob-metrics', 'cpuUsPerRequest') - med('tlob', 'cpuUsPerRequest'))} µs over tlob alone;` +
      ` throughput ${times(ratio('tlob-metrics') / tlobRatio)} of tlob alone's`,
    `- in an app with OpenTelemetry's HTTP instrumentation, tlob alone: +${fmt(med('otel-tlob-bare', 'cpuUsPerRequest') - med('otel', 'cpuUsPerRequest'))} µs` +
      ` over the instrumentation alone (throughput ${times(ratio('otel-tlob-bare') / ratio('otel'))});` +
      ` with tlob/otel metrics and a child span per request: +${fmt(med('otel-tlob', 'cpuUsPerRequest') - med('otel-tlob-bare', 'cpuUsPerRequest'))} µs more` +
      ` (throughput ${times(ratio('otel-tlob') / ratio('otel-tlob-bare'))} of tlob alone's in that app)` +
      ` (last run: ${last('otel-tlob').spans} spans, ${last('otel-tlob').windows} windows)`,
  );
console.log(lines.join('\n'));
