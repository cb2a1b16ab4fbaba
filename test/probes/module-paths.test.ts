import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/run-tlob.js';
import { installFixture, runNode } from './preload-apps.js';

interface DualOutput {
  same: boolean;
  heard: number;
  stats: [string, number][];
}

const lastLine = (stdout: string) => stdout.trim().split('\n').at(-1) as string;

describe('a probe that meets itself through a second module path', () => {
  let dir = '';
  beforeAll(() => {
    dir = installFixture('dual-app');
  });

  const cases = [
    ['import-first', 'EventEmitter.prototype.emit'],
    ['require-first', 'EventEmitter.prototype.emit'],
    // the path as the CommonJS exports name it (`module.exports = EventEmitter`)
    ['import-first', 'prototype.emit'],
    ['require-first', 'prototype.emit'],
  ];
  for (const [order, path] of cases) {
    it(`a dual package whose ES entry wraps its CommonJS entry: no warning, each call counted once (${order}, ${path})`, () => {
      const plain = runNode(dir, ['app.mjs', order as string]);
      expect(plain.status).toBe(0);
      const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs', order as string], {
        TLOB_PROBES: `p eventemitter3:${path} threshold=1s name=emit`,
      });
      expect(run.stderr).not.toMatch(/Warning|Error/);
      expect(run.status).toBe(0);
      const output = JSON.parse(lastLine(run.stdout)) as DualOutput;
      expect(output.same).toBe(true);
      expect(output.heard).toBe(3);
      expect(output.stats).toEqual([['emit', 3]]);
    });
  }
});

describe("a package's module imported by its name and then by its path", () => {
  it('is the probed one both ways: every call counted', () => {
    const dir = installFixture('path-app');
    const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs'], {
      TLOB_PROBES: 'p date-fns:addDays threshold=1s name=addDays',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(lastLine(run.stdout))).toEqual({ same: true, stats: [['addDays', 2]] });
  });
});

describe('a loader that bypasses the module hooks', () => {
  let dir = '';
  beforeAll(() => {
    dir = installFixture('loader-app');
  });

  const probes = 'p ./lib.js:handle threshold=1s';

  it('without one, the probe binds as the module loads and sees every call, with no warning', () => {
    const run = runNode(dir, ['--require', 'tlob/register', 'app.js'], { TLOB_PROBES: probes });
    expect(run.status).toBe(0);
    expect(run.stderr).not.toMatch(/Warning/);
    expect(JSON.parse(lastLine(run.stdout))).toEqual({ sum: 8, stats: [['./lib.js:handle', 4]] });
  });

  for (const order of ['loader-first', 'tlob-first']) {
    it(`one warning names the module and the likely cause; later calls are still seen (${order})`, () => {
      const preload = ['--require', 'tlob/register', '--require', './own-loader.js'];
      const args = order === 'tlob-first' ? preload : [...preload.slice(2), ...preload.slice(0, 2)];
      const run = runNode(dir, [...args, 'app.js'], { TLOB_PROBES: probes });
      expect(run.status).toBe(0);
      const warnings = run.stderr.match(/TlobWarning/g) ?? [];
      expect(warnings).toHaveLength(1);
      expect(run.stderr).toMatch(/\[TLOB_HOOKS_BYPASSED\].*\.\/lib\.js.*require\.extensions/);
      // the order of the preloads changes nothing, and the warning asks for none
      expect(run.stderr).toMatch(/which no order of the preloads avoids/);
      expect(run.stderr).not.toMatch(/load that loader after/);
      // the call made while the module loaded is missed; the three later ones are observed
      expect(JSON.parse(lastLine(run.stdout))).toEqual({ sum: 8, stats: [['./lib.js:handle', 3]] });
    });
  }

  it('under tlob run, which preloads tlob/register first, the warning gives advice that applies', () => {
    const run = runNode(dir, [cli, 'run', '-q', '--', 'node', '--require', './own-loader.js', 'app.js'], {
      TLOB_PROBES: probes,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr.match(/TlobWarning/g) ?? []).toHaveLength(1);
    expect(run.stderr).toMatch(
      /\[TLOB_HOOKS_BYPASSED\].*\.\/lib\.js.*no order of the preloads avoids \(tlob\/register first, as `tlob run` loads it, or last\).*probe a method of an exported class or object/,
    );
    expect(run.stderr).not.toMatch(/load that loader after/);
  });

  it('an ES module that took its function by name before the probe bound: the warning says so', () => {
    const args = ['--require', './own-loader.js', '--import', 'tlob/register', 'esm-app.mjs'];
    const run = runNode(dir, args, { TLOB_PROBES: probes });
    expect(run.status).toBe(0);
    expect(run.stderr.match(/TlobWarning/g) ?? []).toHaveLength(1);
    expect(run.stderr).toMatch(/\[TLOB_HOOKS_BYPASSED\].*\.\/lib\.js.*functions taken from it then/);
    // the import by name holds the unwrapped function
    expect(JSON.parse(lastLine(run.stdout))).toEqual({ sum: 8, stats: [['./lib.js:handle', 0]] });
  });

  it('a CommonJS .ts module compiled by a loader of its own (as tsx does): warned about, later calls seen', () => {
    const args = ['--require', 'tlob/register', '--require', './own-ts-loader.js', 'ts-app.js'];
    const run = runNode(dir, args, { TLOB_PROBES: 'p ./typed.ts:handle threshold=1s' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\[TLOB_HOOKS_BYPASSED\].*\.\/typed\.ts/);
    expect(JSON.parse(lastLine(run.stdout))).toEqual({ sum: 8, stats: [['./typed.ts:handle', 3]] });
  });
});

describe('a module system that refuses module.registerHooks (as Jest does)', () => {
  // Jest's own `module` replaces registerHooks with a function that throws
  const script = `
    const nodeModule = require('node:module');
    nodeModule.registerHooks = () => { throw new Error('module.registerHooks() is not supported in Jest\\nsee the docs'); };
    nodeModule.syncBuiltinESMExports();
    const { tlob } = require('tlob');
    tlob.reactor('nop');
    const lib = require('./lib.js');
    const results = [];
    for (const name of ['./lib.js', './missing-later.js']) {
      try {
        tlob.attach(name, name === './lib.js' ? 'handle' : 'anything', { budget: '1s', name });
        results.push('attached');
      } catch (error) {
        results.push(String(error.message));
      }
    }
    lib.handle('a');
    console.log(JSON.stringify({ results, stats: tlob.stats().map((s) => [s.name, s.count]) }));
  `;

  it('attach patches the modules already loaded, and warns once that later ones cannot be', () => {
    const dir = installFixture('cjs-app');
    const run = runNode(dir, ['-e', script]);
    expect(run.status, run.stderr).toBe(0);
    const output = JSON.parse(lastLine(run.stdout)) as { results: string[]; stats: [string, number][] };
    expect(output.results).toEqual(['attached', 'attached']);
    expect(output.stats).toEqual([
      ['./lib.js', 1],
      ['./missing-later.js', 0],
    ]);
    const warnings = run.stderr.match(/tlob: .*/g) ?? [];
    expect(warnings).toEqual([
      'tlob: module.registerHooks refused the hooks (module.registerHooks() is not supported in Jest): probes can patch only modules already loaded by require',
    ]);
  });
});

describe("another loader's wrapper modules (import-in-the-middle, as OpenTelemetry loads it)", () => {
  let dir = '';
  beforeAll(() => {
    dir = installFixture('iitm-app');
  });

  // the orders OpenTelemetry's docs and tlob's give: its loader first
  it.each([
    ['on the loader thread, first', ['--import', './hooks-thread.mjs', '--import', 'tlob/register']],
    ['on the loader thread, after tlob', ['--import', 'tlob/register', '--import', './hooks-thread.mjs']],
    ['in-thread, first', ['--import', './hooks-in-thread.mjs', '--import', 'tlob/register']],
  ])(
    'a probe on an ES module of the app loads, counts each call, and warns of nothing (%s)',
    (_order, preload) => {
      const run = runNode(dir, [...preload, 'app.mjs'], { TLOB_PROBES: 'p ./lib.mjs:work threshold=1s' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(/TlobWarning|Error/);
      expect(JSON.parse(lastLine(run.stdout))).toEqual({ result: 42, stats: [['./lib.mjs:work', 1]] });
    },
  );
});
