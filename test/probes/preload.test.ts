import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installFixture, runNode } from './preload-apps.js';

/** Violation lines of the log reactor, by window name. */
function violations(stderr: string): string[] {
  return [...stderr.matchAll(/^tlob: "([^"]+)" #\d+ over budget/gm)].map((m) => m[1] as string);
}

describe('zero-code preload: an unchanged ESM app under --import tlob/register', () => {
  let dir = '';
  let baseline = '';
  beforeAll(() => {
    dir = installFixture('esm-app');
    const plain = runNode(dir, ['app.mjs']);
    expect(plain.status).toBe(0);
    baseline = plain.stdout;
  });

  it('every export form is wrapped; output unchanged; one violation line per slow probed call', () => {
    const probes = [
      'p ./lib.mjs:plain threshold=5ms',
      'p ./lib.mjs:Greeter.prototype.greet threshold=5ms',
      'p ./lib.mjs:arrow threshold=5ms',
      'p ./lib.mjs:default threshold=5ms name=main',
      'p ./dep.mjs:reexported threshold=1s',
      'p ./lib.mjs:starred threshold=1s',
      'p semver:satisfies threshold=1s',
      'p ./cjs-dep.cjs:double threshold=5ms',
    ].join('; ');
    const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs'], { TLOB_PROBES: probes });
    expect(run.stderr).not.toMatch(/Warning|Error/);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(baseline);
    expect(violations(run.stderr).sort()).toEqual(
      [
        './lib.mjs:plain',
        './lib.mjs:Greeter.prototype.greet',
        './lib.mjs:Greeter.prototype.greet',
        './lib.mjs:arrow',
        'main',
        './cjs-dep.cjs:double',
      ].sort(),
    );
  });

  it('a spec that does not fit the module that loads is a TLOB_PROBE warning with the suggestion; the app runs unchanged', () => {
    const probes = 'p ./lib.mjs:plian threshold=5ms; p ./cjs-dep.cjs:doubel threshold=5ms';
    const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs'], { TLOB_PROBES: probes });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(baseline);
    expect(run.stderr).not.toMatch(/TLOB_HOOK_ERROR|added after/);
    expect(run.stderr).toMatch(
      /\[TLOB_PROBE\].*probe \.\/lib\.mjs:plian not applied: .*did you mean "plain"/,
    );
    expect(run.stderr).toMatch(
      /\[TLOB_PROBE\].*probe \.\/cjs-dep\.cjs:doubel not applied: .*did you mean "double"/,
    );
  });

  it('a spec naming a file that is not there is a TLOB_PROBE warning naming the path and the working directory', () => {
    const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs'], {
      TLOB_PROBES: 'p ./lib/nope.mjs:plain threshold=1s; p ./lib.mjs:plain threshold=1s',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(baseline);
    expect(run.stderr).toMatch(
      /\[TLOB_PROBE\].*module \.\/lib\/nope\.mjs of a probe is not there: no file at .*nope\.mjs/,
    );
    // the file that is there draws no such warning
    expect(run.stderr).not.toMatch(/module \.\/lib\.mjs of a probe/);
  });

  it('a module an earlier preload imported keeps its unwrapped exports there, and one TLOB_PROBE warning says so', () => {
    writeFileSync(join(dir, 'early.mjs'), "import './lib.mjs';\n");
    const run = runNode(dir, ['--import', './early.mjs', '--import', 'tlob/register', 'app.mjs'], {
      TLOB_PROBES: 'p ./lib.mjs:plain threshold=1s',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(baseline);
    expect(run.stderr).toMatch(/\[TLOB_PROBE\].*module \.\/lib\.mjs was loaded before its probe was added/);
  });

  it('an ES module loaded with require() is not patched, and one TLOB_PROBE warning says so', () => {
    writeFileSync(
      join(dir, 'db.mjs'),
      // a call that waits on a timer: the process lives on past the check that finds the namespace
      "export async function query(sql) { await new Promise((r) => setTimeout(r, 2)); return [sql]; }\nexport default function def() { return 'd'; }\n",
    );
    writeFileSync(
      join(dir, 'require-esm.cjs'),
      [
        "const { query } = require('./db.mjs');",
        "const { tlob } = require('tlob');",
        "query('a').then(() => console.log(JSON.stringify(tlob.stats().map((s) => [s.name, s.count]))));",
      ].join('\n'),
    );
    const run = runNode(dir, ['--import', 'tlob/register', 'require-esm.cjs'], {
      TLOB_PROBES: 'p ./db.mjs:query threshold=1s',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('[["./db.mjs:query",0]]\n');
    expect(run.stderr).not.toMatch(/TLOB_HOOK_ERROR/);
    expect(run.stderr).toMatch(/\[TLOB_PROBE\].*module \.\/db\.mjs is an ES module loaded with require\(\)/);
  });

  it('an ES module loaded with require() by a script that ends right there is warned about too', () => {
    writeFileSync(join(dir, 'sync-lib.mjs'), 'export function work(n) { return n + 1; }\n');
    // nothing keeps the process alive after the script: no later turn of the loop
    writeFileSync(
      join(dir, 'require-esm-sync.cjs'),
      "require('./sync-lib.mjs').work(1);\nconsole.log('end');\n",
    );
    const run = runNode(dir, ['--require', 'tlob/register', 'require-esm-sync.cjs'], {
      TLOB_PROBES: 'p ./sync-lib.mjs:work threshold=1s',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('end\n');
    expect(run.stderr).toMatch(
      /\[TLOB_PROBE\].*module \.\/sync-lib\.mjs is an ES module loaded with require\(\)/,
    );
  });

  it('the probes really wrap what importers see (stats count every call)', () => {
    writeFileSync(
      join(dir, 'count.mjs'),
      [
        "import { tlob } from 'tlob';",
        "await import('./app.mjs');",
        'const counts = Object.fromEntries(tlob.stats().map((s) => [s.name, s.count]));',
        'console.error(JSON.stringify(counts));',
      ].join('\n'),
    );
    const probes =
      'p ./lib.mjs:starred threshold=1s; p ./dep.mjs:reexported threshold=1s; p semver:satisfies threshold=1s; p ./lib.mjs:Greeter.create threshold=1s';
    const run = runNode(dir, ['--import', 'tlob/register', 'count.mjs'], {
      TLOB_PROBES: probes,
      TLOB_CONFIG: '',
    });
    expect(run.status).toBe(0);
    const counts = JSON.parse(run.stderr.trim().split('\n').at(-1) as string);
    expect(counts).toMatchObject({
      './lib.mjs:starred': 1,
      './dep.mjs:reexported': 1,
      'semver:satisfies': 1,
      './lib.mjs:Greeter.create': 1,
    });
  });

  it('a config file gives probes and the reactor', () => {
    writeFileSync(
      join(dir, 'tlob.config.json'),
      JSON.stringify({ probes: ['p ./lib.mjs:plain threshold=5ms'], reactor: 'log', ringSize: 16 }),
    );
    const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs']);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(baseline);
    expect(violations(run.stderr)).toEqual(['./lib.mjs:plain']);
  });

  it('a bad spec stops the app before it starts, naming the spec and position', () => {
    const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs'], {
      TLOB_PROBES: 'p ./lib.mjs:plain threshold=fast',
    });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('ERR_TLOB_INVALID_SPEC');
    expect(run.stderr).toMatch(/invalid probe spec "p \.\/lib\.mjs:plain threshold=fast" at column 29/);
  });

  it('a path that does not resolve in a builtin stops the app before it starts, naming the spec and where it came from', () => {
    const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs'], {
      TLOB_PROBES: 'p node:path:joinn threshold=1ms',
    });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('ERR_TLOB_NOT_FOUND');
    expect(run.stderr).toContain(
      'TLOB_PROBES: p node:path:joinn threshold=1ms: path "joinn" does not resolve: found nothing there at `node:path.joinn` (did you mean "join"?)',
    );
  });
});

describe('zero-code preload: an unchanged CommonJS app under --require tlob/register', () => {
  let dir = '';
  let baseline = '';
  beforeAll(() => {
    dir = installFixture('cjs-app');
    const plain = runNode(dir, ['app.js']);
    expect(plain.status).toBe(0);
    baseline = plain.stdout;
  });

  it('exported functions, class methods (sync and async) and an npm dependency; output unchanged', () => {
    const probes = [
      'p ./lib.js:handle threshold=5ms',
      'p ./lib.js:Store.prototype.put threshold=5ms',
      'p ./lib.js:Store.prototype.fetch threshold=5ms name=fetch',
      'p semver:satisfies threshold=1s',
      'p date-fns:addDays threshold=1s name=addDays',
    ].join('\n');
    const run = runNode(dir, ['--require', 'tlob/register', 'app.js'], { TLOB_PROBES: probes });
    expect(run.stderr).not.toMatch(/Warning|Error/);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(baseline);
    expect(violations(run.stderr).sort()).toEqual(
      ['./lib.js:handle', './lib.js:Store.prototype.put', 'fetch'].sort(),
    );
  });

  it('a getter re-export of an npm dependency (date-fns, compiled CommonJS) is patched where defined', () => {
    writeFileSync(
      join(dir, 'count.js'),
      [
        "require('./app.js');",
        "setTimeout(() => console.error(JSON.stringify(require('tlob').tlob.stats().map((s) => [s.name, s.count]))), 300);",
      ].join('\n'),
    );
    const run = runNode(dir, ['--require', 'tlob/register', 'count.js'], {
      TLOB_PROBES: 'p date-fns:addDays threshold=1s name=addDays; p semver:valid threshold=1s',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(baseline);
    expect(JSON.parse(run.stderr.trim().split('\n').at(-1) as string)).toEqual([
      ['addDays', 1],
      ['semver:valid', 1],
    ]);
  });

  it('works with --import too for a CommonJS app', () => {
    const run = runNode(dir, ['--import', 'tlob/register', 'app.js'], {
      TLOB_PROBES: 'p ./lib.js:handle threshold=5ms',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(baseline);
    expect(violations(run.stderr)).toEqual(['./lib.js:handle']);
  });
});

describe('zero-code preload: TypeScript run by Node itself (type stripping)', () => {
  it('probes .ts ES modules (named and default exports, a type as the default) and a .cts CommonJS module', () => {
    const dir = installFixture('ts-app');
    const plain = runNode(dir, ['app.ts']);
    expect(plain.status).toBe(0);
    const run = runNode(dir, ['--import', 'tlob/register', 'app.ts'], {
      TLOB_PROBES:
        'p ./lib.ts:work threshold=2ms; p ./lib.ts:default.prototype.find threshold=5ms name=find; p ./helper.cts:helper threshold=2ms; p ./options.ts:loud threshold=2ms; p ./shape.ts:sides threshold=2ms',
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(plain.stdout);
    expect(violations(run.stderr).sort()).toEqual([
      './helper.cts:helper',
      './lib.ts:work',
      './options.ts:loud',
      './shape.ts:sides',
      'find',
    ]);
  });
});

describe('module probes that cannot observe the calls they name say so', () => {
  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) as string);
  const warnings = (stderr: string) => stderr.match(/\[TLOB_PROBE\] TlobWarning: .*/g) ?? [];

  it('a probe its module refuses when it loads leaves no trace: no stats entry, not listed, detached', () => {
    const dir = installFixture('cjs-app');
    writeFileSync(
      join(dir, 'refused.js'),
      [
        "const { tlob } = require('tlob');",
        "tlob.reactor('nop');",
        "const direct = tlob.attach('./lib.js', 'Store.prototype.gett', { budget: '1s', name: 'direct' });",
        "tlob.probes.add('p ./lib.js:hadle threshold=1s name=spec; p ./lib.js:handle threshold=1s');",
        "const lib = require('./lib.js');",
        "lib.handle('a');",
        'let removal;',
        "try { tlob.probes.remove('./lib.js:hadle'); } catch (error) { removal = error.code; }",
        'const stats = tlob.stats().map((s) => [s.name, s.count]);',
        'console.log(JSON.stringify({ stats, list: tlob.probes.list(), attached: direct.attached, removal }));',
      ].join('\n'),
    );
    const run = runNode(dir, ['refused.js']);
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run.stdout)).toEqual({
      stats: [['./lib.js:handle', 1]],
      list: ['p ./lib.js:handle threshold=1s'],
      attached: false,
      removal: 'ERR_TLOB_NOT_FOUND',
    });
    const said = warnings(run.stderr);
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(/probe \.\/lib\.js:Store\.prototype\.gett not applied: .*does not resolve/);
    expect(said[1]).toMatch(/probe \.\/lib\.js:hadle not applied: .*did you mean "handle"/);
  });

  it('a spec on a property that holds the module.exports function itself (as Fastify has it) warns why its callers are not counted', () => {
    const dir = installFixture('cjs-app');
    writeFileSync(
      join(dir, 'make.js'),
      'function make() { return 1; }\nmodule.exports = make;\nmodule.exports.default = make;\nmodule.exports.make = make;\n',
    );
    writeFileSync(
      join(dir, 'use-make.js'),
      [
        "const make = require('./make.js');",
        "const { tlob } = require('tlob');",
        'make();',
        'make();',
        'make.default();',
        'console.log(JSON.stringify(tlob.stats().map((s) => [s.name, s.count])));',
      ].join('\n'),
    );
    const run = runNode(dir, ['--require', 'tlob/register', 'use-make.js'], {
      TLOB_PROBES: 'p ./make.js:default threshold=1s; p ./lib.js:handle threshold=1s',
    });
    expect(run.status, run.stderr).toBe(0);
    // only the call through the property is seen
    expect(lastJson(run.stdout)).toEqual([
      ['./make.js:default', 1],
      ['./lib.js:handle', 0],
    ]);
    const said = warnings(run.stderr);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /probe \.\/make\.js:default is on `\.\/make\.js\.default`, which is the module's `module\.exports` itself: .*\(docs\/probes\.md, "Module specifiers"\); only calls through `\.default` are observed/,
    );
  });

  it('a path through a namespace a module exports (export * as ns) names the export to probe instead', () => {
    const dir = installFixture('esm-app');
    writeFileSync(join(dir, 'ns.mjs'), "export * as ns from './dep.mjs';\nexport * from './dep.mjs';\n");
    writeFileSync(join(dir, 'ns-only.mjs'), "export * as inner from './dep.mjs';\n");
    writeFileSync(
      join(dir, 'ns-app.mjs'),
      "import { ns, reexported } from './ns.mjs';\nimport { inner } from './ns-only.mjs';\nconsole.log(ns.reexported(1), reexported(2), inner.reexported(3));\n",
    );
    const run = runNode(dir, ['--import', 'tlob/register', 'ns-app.mjs'], {
      TLOB_PROBES: 'p ./ns.mjs:ns.reexported threshold=1s; p ./ns-only.mjs:inner.reexported threshold=1s',
    });
    expect(run.status, run.stderr).toBe(0);
    const said = warnings(run.stderr);
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(
      /probe \.\/ns\.mjs:ns\.reexported not applied: .*read-only; probe \.\/ns\.mjs:reexported, the same function as the module's own export \(calls through the namespace itself cannot be observed\)/,
    );
    expect(said[1]).toMatch(
      /probe \.\/ns-only\.mjs:inner\.reexported not applied: .*read-only; probe it by the specifier and path of the module that defines it/,
    );
    expect(run.stderr).not.toMatch(/attach by module specifier instead/);
  });
});
