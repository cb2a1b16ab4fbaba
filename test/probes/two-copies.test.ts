import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCompatible, TLOB_VERSION } from '../../src/version.js';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url);
const distJs = new URL('dist/index.js', root).href;
const distCjs = new URL('dist/index.cjs', root).pathname;

/**
 * Runs `body` as an ES module in a child node (whose own copy of tlob is none: each copy is loaded
 * by the body) and returns what it prints as JSON on its last line, and the `TlobWarning`s it got.
 */
function runCopies(body: string): { out: any; warnings: { code: string; message: string }[] } {
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const warnings = [];
    process.on('warning', (w) => { if (w.name === 'TlobWarning') warnings.push({ code: w.code, message: w.message }); });
    const spin = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const out = {};
    ${body}
    await sleep(10); // warnings are emitted on the next tick
    console.log(JSON.stringify({ out, warnings }));`;
  const run = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1) as string);
  return { out: result.out, warnings: result.warnings };
}

/** A copy of the built package with another version number, as a second install would be. */
function copyWithVersion(version: string): { js: string; cjs: string } {
  const dir = mkdtempSync(join(tmpdir(), `tlob-${version}-`));
  cpSync(new URL('dist', root), join(dir, 'dist'), { recursive: true });
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
  symlinkSync(new URL('node_modules', root).pathname, join(dir, 'node_modules'), 'dir'); // its dependencies
  for (const file of ['index.js', 'index.cjs']) {
    const path = join(dir, 'dist', file);
    const text = readFileSync(path, 'utf8');
    const constant = `TLOB_VERSION = ${JSON.stringify(TLOB_VERSION)};`;
    expect(text.split(constant)).toHaveLength(2); // the build holds the version exactly once
    writeFileSync(path, text.replace(constant, `TLOB_VERSION = ${JSON.stringify(version)};`));
  }
  return { js: new URL(`file://${dir}/dist/index.js`).href, cjs: join(dir, 'dist', 'index.cjs') };
}

describe('the ESM and CommonJS builds of tlob in one process', () => {
  it('share one monitor: windows, ring, stats, reactor, current window and probes', () => {
    const { out, warnings } = runCopies(`
      const esm = await import(${JSON.stringify(distJs)});
      const cjs = require(${JSON.stringify(distCjs)});
      out.sameValues = esm.tlob === cjs.tlob && esm.attach === cjs.attach && esm.budget === cjs.budget && esm.timeline === cjs.timeline;
      esm.tlob.reactor('nop');
      out.reactor = cjs.tlob.reactor();
      esm.timeline.start();
      // a synchronous window over budget, opened through the CommonJS copy
      cjs.tlob.run('cjs-sync', { budget: '1ms' }, () => { out.currentSync = esm.tlob.current()?.name; spin(3); });
      // an asynchronous one: its continuation runs in the window for the other copy too
      out.currentAfterAwait = await cjs.tlob.run('cjs-async', { budget: '1s' }, async () => {
        await sleep(5);
        return esm.tlob.current()?.name;
      });
      out.ring = esm.tlob.ring.read().map((v) => v.name);
      out.stats = esm.tlob.stats().map((s) => [s.name, s.count, s.violations]);
      // a probe attached through one copy, disabled and enabled through the other
      const target = { f: (x) => x + 1 };
      esm.tlob.attach(target, 'f', { budget: '1s', name: 'probe' });
      cjs.tlob.disable();
      out.disabledBoth = esm.tlob.enabled;
      target.f(1);
      cjs.tlob.enable();
      target.f(2);
      out.probeCount = esm.tlob.stats().find((s) => s.name === 'probe')?.count;
      out.timelineOn = cjs.timeline.enabled;
      const snapshot = cjs.timeline.snapshot();
      out.timeline = [...new Set(snapshot.name.map((i) => snapshot.names[i]))];
    `);
    expect(out).toEqual({
      sameValues: true,
      reactor: 'nop',
      currentSync: 'cjs-sync',
      currentAfterAwait: 'cjs-async',
      ring: ['cjs-sync'],
      stats: [
        ['cjs-sync', 1, 1],
        ['cjs-async', 1, 0],
      ],
      disabledBoth: false,
      probeCount: 1,
      timelineOn: true,
      timeline: ['cjs-sync', 'cjs-async', 'probe'],
    });
    expect(warnings).toEqual([]);
  });

  it('see one tlob probe per function and one list of probe specs', () => {
    const { out } = runCopies(`
      const esm = await import(${JSON.stringify(distJs)});
      const cjs = require(${JSON.stringify(distCjs)});
      const target = { f: (x) => x + 1 };
      const probe = esm.tlob.attach(target, 'f', { budget: '1s' });
      try { cjs.tlob.attach(target, 'f', { budget: '1s' }); } catch (error) { out.second = error.code; }
      const generic = cjs.attach(target, 'f', { entry: () => {} });
      out.result = target.f(1);
      generic.detach();
      probe.detach();
      out.name = target.f.name;
      esm.tlob.probes.add('p node:path:posix.relative threshold=1s');
      out.listed = cjs.tlob.probes.list();
      cjs.tlob.probes.remove('node:path:posix.relative');
      out.after = esm.tlob.probes.list();
    `);
    expect(out).toEqual({
      second: 'ERR_TLOB_ALREADY_ATTACHED',
      result: 2,
      name: 'f',
      listed: ['p node:path:posix.relative threshold=1s'],
      after: [],
    });
  });
});

describe('two versions of tlob in one process', () => {
  it('a copy shares the monitor of a compatible version loaded before it, without a warning', () => {
    const newer = copyWithVersion('0.1.7');
    const { out, warnings } = runCopies(`
      const first = await import(${JSON.stringify(newer.js)});
      const ours = await import(${JSON.stringify(distJs)});
      out.same = first.tlob === ours.tlob;
      ours.tlob.run('w', { budget: '1s' }, () => {});
      out.stats = first.tlob.stats().map((s) => s.name);
    `);
    expect(out).toEqual({ same: true, stats: ['w'] });
    expect(warnings).toEqual([]);
  });

  it('an incompatible version runs on its own and warns once; its two builds share with each other', () => {
    const other = copyWithVersion('0.2.0');
    const { out, warnings } = runCopies(`
      const ours = await import(${JSON.stringify(distJs)});
      const otherEsm = await import(${JSON.stringify(other.js)});
      const otherCjs = require(${JSON.stringify(other.cjs)});
      out.apart = ours.tlob !== otherEsm.tlob;
      out.otherBuildsShare = otherEsm.tlob === otherCjs.tlob;
      otherEsm.tlob.reactor('nop');
      otherEsm.tlob.run('theirs', { budget: '1ms' }, () => spin(3));
      out.oursRing = ours.tlob.ring.length;
      out.oursStats = ours.tlob.stats().length;
      out.oursReactor = ours.tlob.reactor();
      out.theirRing = otherCjs.tlob.ring.read().map((v) => v.name);
    `);
    expect(out).toEqual({
      apart: true,
      otherBuildsShare: true,
      oursRing: 0,
      oursStats: 0,
      oursReactor: 'log',
      theirRing: ['theirs'],
    });
    expect(warnings).toEqual([
      {
        code: 'TLOB_INCOMPATIBLE_COPY',
        message: `tlob 0.2.0 runs on its own: the process already has tlob ${TLOB_VERSION}, which it cannot share a monitor with; windows, violations and stats of each are apart (docs/copies.md)`,
      },
    ]);
  });
});

describe('version compatibility (the rule of OpenTelemetry for its globals)', () => {
  it.each([
    ['0.1.0', '0.1.0', true],
    ['0.1.0', '0.1.7', true], // the registered copy offers all that 0.1.0 does
    ['0.1.7', '0.1.0', false], // a 0.x patch may add what 0.1.0 lacks
    ['0.1.0', '0.2.0', false],
    ['1.2.0', '1.4.1', true],
    ['1.4.1', '1.2.0', false],
    ['1.2.0', '2.2.0', false],
    ['1.2.0-rc.1', '1.2.0-rc.1', true],
    ['1.2.0', '1.2.0-rc.1', false],
    ['1.2.0-rc.1', '1.2.0', false],
    ['1.2.0', 'not a version', false],
  ])('a copy of %s with %s registered: %s', (own, registered, expected) => {
    expect(isCompatible(own, registered)).toBe(expected);
  });

  it("this copy's version is package.json's", () => {
    expect(TLOB_VERSION).toBe(require('../../package.json').version);
  });
});

describe('error classes across two copies of tlob', () => {
  it('instanceof holds for an error thrown by the other copy, and only for its own classes', async () => {
    const other = copyWithVersion('0.2.0'); // an incompatible copy keeps its own classes
    const esm = await import(distJs);
    const cjs = require(other.cjs);
    const caught = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('expected a throw');
    };
    expect(cjs.TlobTypeError).not.toBe(esm.TlobTypeError);
    const typeError = caught(() => esm.tlob.run('', { budget: '1s' }, () => {}));
    const rangeError = caught(() => esm.parseBudget(7_200_000)); // 2 h: past the 1 h maximum
    expect(typeError).toBeInstanceOf(cjs.TlobTypeError);
    expect(typeError).toBeInstanceOf(esm.TlobTypeError);
    expect(typeError).toBeInstanceOf(TypeError);
    expect(typeError).not.toBeInstanceOf(cjs.TlobRangeError);
    expect(typeError).not.toBeInstanceOf(cjs.TlobError);
    expect(rangeError).toBeInstanceOf(cjs.TlobRangeError);
    expect(new TypeError('plain')).not.toBeInstanceOf(cjs.TlobTypeError);
    expect({ code: 'ERR_TLOB_INVALID_ARG' }).not.toBeInstanceOf(cjs.TlobTypeError);

    const budgetError = new esm.TlobBudgetError({ name: 'w', budgetNs: 1e6, elapsedNs: 2e6 });
    expect(budgetError).toBeInstanceOf(cjs.TlobBudgetError);
    expect(budgetError).toBeInstanceOf(cjs.TlobError);
    expect(new cjs.TlobError('ERR_TLOB_CONFIG', 'x')).not.toBeInstanceOf(esm.TlobBudgetError);

    // a user's subclass keeps the ordinary instanceof
    const Base = esm.TlobError as new (code: string, message: string) => Error;
    class Mine extends Base {}
    expect(new Mine('ERR_TLOB_CONFIG', 'x')).toBeInstanceOf(Mine);
    expect(new cjs.TlobError('ERR_TLOB_CONFIG', 'x')).not.toBeInstanceOf(Mine);
  });
});
