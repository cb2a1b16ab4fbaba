import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '../probes/preload-apps.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const states = [
  ['elapsed', 3],
  ['running', 3],
  ['waiting', 3],
  ['sleeping', 3],
];

/** Runs a fixture app under the preload; returns what it printed (the counts per state, or null). */
function counts(flag: '--import' | '--require', app: string, env: Record<string, string>): unknown {
  const run = runNode(root, [flag, 'tlob/register', `test/fixtures/otel/${app}`], env);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout);
}

describe('TLOB_OTEL: the preload exports windows to the global providers', () => {
  it('ESM (--import): TLOB_OTEL=1 records into the MeterProvider the app registers later', () => {
    expect(counts('--import', 'preload-app.mjs', { TLOB_OTEL: '1' })).toEqual(states);
  });

  it('CommonJS (--require) does the same', () => {
    expect(counts('--require', 'preload-app.cjs', { TLOB_OTEL: 'true' })).toEqual(states);
  });

  it('nothing without TLOB_OTEL, or with TLOB_OTEL_METRICS=0', () => {
    expect(counts('--import', 'preload-app.mjs', {})).toBeNull();
    expect(counts('--import', 'preload-app.mjs', { TLOB_OTEL: '1', TLOB_OTEL_METRICS: '0' })).toBeNull();
  });

  it('a bad TLOB_OTEL_SPANS stops the app at start with the clear error', () => {
    const run = runNode(root, ['--import', 'tlob/register', 'test/fixtures/otel/preload-app.mjs'], {
      TLOB_OTEL: '1',
      TLOB_OTEL_SPANS: 'everything',
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      'tlob otel: expected `spans` to be "attributes", "child", "over-budget" or "none", got "everything"',
    );
  });
});
