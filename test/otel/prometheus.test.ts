import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBinary } from '../probes/preload-apps.js';

// End to end: the example app (examples/opentelemetry.mjs, tlob/otel into the OpenTelemetry SDK
// and @opentelemetry/exporter-prometheus) is scraped every second by a real Prometheus server
// (Debian's `prometheus`, which .ci/run installs), and the test reads tlob's histogram back through
// Prometheus' query API. Without `prometheus` on PATH the test fails: it must not pass unseen.

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
let dir = '';

afterAll(() => {
  for (const child of children) child.kill('SIGTERM');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function onPath(command: string): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(folder, command);
    if (folder !== '' && existsSync(file)) return file;
  }
  return undefined;
}

/** A TCP port free on 127.0.0.1 now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `command`, resolves with its stdout once `done(stdout)` holds. */
function start(command: string, args: string[], env: Record<string, string>, done: (out: string) => boolean) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, NODE_OPTIONS: '', ...env } });
  children.push(child);
  let out = '';
  let err = '';
  return new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (done(out)) resolve(out);
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('exit', (code) =>
      reject(new Error(`${command} exited (${code}) before it was ready:\n${out}\n${err}`)),
    );
  });
}

async function query(base: string, promql: string): Promise<number | undefined> {
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
  const value = body.data?.result?.[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}

describe('Prometheus scrapes tlob/otel metrics', () => {
  it('reads the window histogram back through the query API', async () => {
    const prometheus = onPath('prometheus');
    if (prometheus === undefined) {
      throw new Error(
        "`prometheus` is not on PATH: install Debian's package (apt-get install -y prometheus); .ci/run installs it",
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'tlob-prometheus-'));
    const metricsPort = await freePort();
    const appOut = await start(
      nodeBinary(),
      ['examples/opentelemetry.mjs'],
      { STAY: '1', METRICS_PORT: String(metricsPort), NO_COLOR: '1' },
      (out) => out.includes('"handlerWindows"'),
    );
    const app = JSON.parse(appOut.trim().split('\n').at(-1) as string) as {
      handlerWindows: number;
      elapsedSum: number;
    };

    const webPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: tlob',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${metricsPort}']`,
      ].join('\n'),
    );
    const server = spawn(
      prometheus,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    children.push(server);
    const base = `http://127.0.0.1:${webPort}`;

    const count = 'tlob_window_duration_count{tlob_window_name="handler",tlob_window_state="elapsed"}';
    let seen: number | undefined;
    for (const deadline = Date.now() + 40_000; Date.now() < deadline; ) {
      seen = await query(base, count).catch(() => undefined);
      if (seen !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(seen, 'Prometheus never returned the scraped histogram').toBe(app.handlerWindows);

    const sum = await query(base, count.replace('_count', '_sum'));
    expect(sum).toBeCloseTo(app.elapsedSum, 6);
    // the two slow requests (40 ms asleep in a 20 ms budget) at least
    expect(
      await query(base, 'sum(tlob_window_violations_total{tlob_window_name="handler"})'),
    ).toBeGreaterThanOrEqual(2);
    // the query of docs/opentelemetry.md, over everything since the start instead of a rate
    const p99 = await query(
      base,
      'histogram_quantile(0.99, sum by (le) (tlob_window_duration_bucket{tlob_window_name="handler",tlob_window_state="elapsed"}))',
    );
    expect(p99).toBeGreaterThan(0.025); // the slow ones: 40 ms asleep
    expect(p99).toBeLessThanOrEqual(10);
  }, 60_000);
});
