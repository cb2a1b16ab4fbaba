import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, expect } from 'vitest';
import type { Probe, TlobViolation } from '../src/index.js';
import { tlob } from '../src/index.js';

/** Busy-waits `ms` milliseconds on the JS thread. */
export function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // hold the thread
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Violations published from now on, collected through `tlob:error`. */
export function collectViolations(): { list: TlobViolation[]; stop(): void } {
  const list: TlobViolation[] = [];
  const stop = tlob.subscribe('error', (v) => list.push(v as TlobViolation));
  return { list, stop };
}

/**
 * Asserts where a violation happens: none during `setup` (and its promise), exactly one inside
 * `block` (after it and its promise, if any, finished). Returns that violation.
 */
export async function expectViolation(block: () => unknown, setup?: () => unknown): Promise<TlobViolation> {
  const seen = collectViolations();
  try {
    await setup?.();
    expect(seen.list).toHaveLength(0);
    await block();
    expect(seen.list).toHaveLength(1);
    return seen.list[0] as TlobViolation;
  } finally {
    seen.stop();
  }
}

/**
 * Runs a timing scenario up to `tries` times, so that one noisy run on a shared machine does not
 * fail it. Every failed attempt is written to stderr (`tlob-test-retry: …`), so that a log shows
 * how many retries a run needed.
 */
export async function retry<T>(tries: number, scenario: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await scenario();
    } catch (error) {
      last = error;
      noteRetry(`attempt ${i + 1} of ${tries} failed: ${String(error)}`);
    }
  }
  throw last;
}

/** Writes one line of the retry log (`tlob-test-retry: <the test>: <why>`) to stderr. */
export function noteRetry(why: string): void {
  const what = expect.getState().currentTestName ?? 'a scenario';
  process.stderr.write(`tlob-test-retry: ${what}: ${why}\n`);
}

/** `ns` in milliseconds. */
export const ms = (ns: number) => ns / 1e6;

/**
 * Runs `body` as an ES module in a child node, after `import { tlob } from` the built package;
 * returns its stdout (stderr is captured; a non-zero exit throws, as `execFileSync` does).
 */
export function runWithTlob(body: string): string {
  return execFileSync(process.execPath, tlobScriptArgs(body), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Like `runWithTlob`, and returns stderr too (whatever the exit status). */
export function runWithTlobOutput(body: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, tlobScriptArgs(body), { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function tlobScriptArgs(body: string): string[] {
  const dist = new URL('../dist/index.js', import.meta.url).href;
  return ['--input-type=module', '-e', `import { tlob } from ${JSON.stringify(dist)};\n${body}`];
}

/**
 * Probes a test file attaches, detached after each test (with `tlob.probes` cleared and tlob
 * enabled again): wrap each `attach`/`tlob.attach` in the returned `track`.
 */
export function trackProbes(): <T extends Probe<any>>(probe: T) => T {
  const probes: Probe<any>[] = [];
  afterEach(() => {
    for (const p of probes.splice(0)) p.detach();
    tlob.probes.clear();
    tlob.enable();
  });
  return (probe) => {
    probes.push(probe);
    return probe;
  };
}
