import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { otelFromEnvironment } from '../../src/otel/index.js';
import { nodeBinary, runNode } from '../probes/preload-apps.js';

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
      'tlob otel: expected `TLOB_OTEL_SPANS` to be attributes, child, over-budget or none, got "everything" (string)',
    );
  });

  it('a bad TLOB_OTEL stops the app at start too', () => {
    const run = runNode(root, ['--import', 'tlob/register', 'test/fixtures/otel/preload-app.mjs'], {
      TLOB_OTEL: 'enabled',
    });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'tlob otel: expected `TLOB_OTEL` to be 1, true, yes, on, 0, false, no or off, got "enabled" (string)',
    );
  });

  it("counts a window in flight at the first collection of the app's MeterProvider, before any window stopped", () => {
    const run = runNode(root, ['--require', 'tlob/register', 'test/otel/fixtures/preload-active.cjs'], {
      TLOB_OTEL: '1',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([['preload.hanging', 1]]);
  });
});

/**
 * The built package installed apart from any program, as `npx` or a global install has it: in a
 * temporary `node_modules` with its own dependencies and no `@opentelemetry/api`. Returns its `tlob` command.
 */
function installApart(): string {
  const modules = join(mkdtempSync(join(tmpdir(), 'tlob-apart-')), 'node_modules');
  const pkg = join(modules, 'tlob');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  for (const dependency of ['es-module-lexer', 'shimmer'])
    symlinkSync(join(root, 'node_modules', dependency), join(modules, dependency), 'dir');
  return join(pkg, 'dist/cli.js');
}

describe('tlob run --otel with tlob installed apart from the program', () => {
  const app = join(root, 'test/otel/fixtures/apart-app.mjs');
  const work = join(root, 'test/otel/fixtures/apart-work.mjs');

  /** Runs `tlob run --otel` of the copy apart in `cwd`; returns what the program printed. */
  function runApart(cwd: string, program: string[]): unknown {
    const cli = installApart();
    // the premise: tlob's own location does not resolve the API
    expect(() => createRequire(cli).resolve('@opentelemetry/api')).toThrow();
    const run = spawnSync(
      nodeBinary(),
      [cli, 'run', '-q', '--otel', '-r', 'nop', '-p', `p ${work}:work threshold=20ms`, ...program],
      { cwd, env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout);
  }

  const exported = {
    metrics: ['tlob.window.active', 'tlob.window.duration', 'tlob.window.violations'],
    overBudget: true,
    events: ['tlob.budget.violation'],
  };

  it("exports through the providers of the program's @opentelemetry/api, found from its entry script", () => {
    // a working directory where nothing resolves the API either
    expect(runApart(mkdtempSync(join(tmpdir(), 'tlob-apart-cwd-')), [app])).toEqual(exported);
  });

  it('or from the working directory, for a program without an entry script', () => {
    const program = ['--', 'node', '-e', `import(${JSON.stringify(app)})`];
    expect(runApart(join(root, 'test/otel/fixtures'), program)).toEqual(exported);
  });
});

describe('TLOB_OTEL, TLOB_OTEL_METRICS and TLOB_OTEL_SPANS: the values the preload takes', () => {
  /** The options of the export the environment starts (`off` when none), or the error it throws. */
  function fromEnvironment(env: Record<string, string>): unknown {
    let started: ReturnType<typeof otelFromEnvironment>;
    try {
      started = otelFromEnvironment(env);
    } catch (error) {
      return error;
    }
    started?.disable();
    return started === undefined ? 'off' : { metrics: started.options.metrics, spans: started.options.spans };
  }

  const on = ['1', 'true', 'yes', 'on', 'ON', 'True'];
  const off = ['0', 'false', 'no', 'off', 'OFF', 'No'];
  const started = (metrics: boolean, spans = 'attributes') => ({ metrics, spans });
  const cases: [Record<string, string>, unknown][] = [
    [{}, 'off'],
    [{ TLOB_OTEL: '' }, 'off'],
    ...off.map((v): [Record<string, string>, unknown] => [{ TLOB_OTEL: v }, 'off']),
    ...on.map((v): [Record<string, string>, unknown] => [{ TLOB_OTEL: v }, started(true)]),
    ...off.map((v): [Record<string, string>, unknown] => [
      { TLOB_OTEL: '1', TLOB_OTEL_METRICS: v },
      started(false),
    ]),
    ...['', ...on].map((v): [Record<string, string>, unknown] => [
      { TLOB_OTEL: '1', TLOB_OTEL_METRICS: v },
      started(true),
    ]),
    [{ TLOB_OTEL: '1', TLOB_OTEL_SPANS: 'Over-Budget' }, started(true, 'over-budget')],
    [{ TLOB_OTEL: '1', TLOB_OTEL_SPANS: 'CHILD' }, started(true, 'child')],
    [{ TLOB_OTEL: '1', TLOB_OTEL_SPANS: '' }, started(true)],
  ];
  it.each(cases)('%j starts %j', (env, expected) => {
    expect(fromEnvironment(env)).toEqual(expected);
  });

  const SWITCH = 'to be 1, true, yes, on, 0, false, no or off';
  it.each<[Record<string, string>, string]>([
    [{ TLOB_OTEL: 'enabled' }, `expected \`TLOB_OTEL\` ${SWITCH}, got "enabled" (string)`],
    [{ TLOB_OTEL: '2' }, `expected \`TLOB_OTEL\` ${SWITCH}, got "2" (string)`],
    [
      { TLOB_OTEL: '1', TLOB_OTEL_METRICS: 'disabled' },
      `expected \`TLOB_OTEL_METRICS\` ${SWITCH}, got "disabled" (string)`,
    ],
    [
      { TLOB_OTEL: '1', TLOB_OTEL_METRICS: 'none' },
      `expected \`TLOB_OTEL_METRICS\` ${SWITCH}, got "none" (string)`,
    ],
    [
      { TLOB_OTEL: '0', TLOB_OTEL_METRICS: 'none' },
      `expected \`TLOB_OTEL_METRICS\` ${SWITCH}, got "none" (string)`,
    ],
    [
      { TLOB_OTEL: '1', TLOB_OTEL_SPANS: 'all' },
      'expected `TLOB_OTEL_SPANS` to be attributes, child, over-budget or none, got "all" (string)',
    ],
  ])('%j throws ERR_TLOB_INVALID_ARG naming the variable', (env, message) => {
    expect(fromEnvironment(env)).toEqual(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_TLOB_INVALID_ARG',
        message: `tlob otel: ${message}`,
      }),
    );
  });

  it.each<[unknown, string]>([
    [null, 'null'],
    ['TLOB_OTEL=1', '"TLOB_OTEL=1" (string)'],
  ])('an env of %j throws ERR_TLOB_INVALID_ARG instead of reading as an empty environment', (env, got) => {
    expect(fromEnvironment(env as Record<string, string>)).toEqual(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message: `otelFromEnvironment: expected \`env\` to be an object of environment variables (process.env when not given), got ${got}`,
      }),
    );
  });
});
