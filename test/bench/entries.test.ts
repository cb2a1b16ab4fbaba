import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// The harness and its adapters are separate entries: importing 'tlob' (or 'tlob/bench') must not
// load tinybench or vitest, which are optional peers. A resolve hook in a child node records every
// specifier resolved while the built entries load.

const root = fileURLToPath(new URL('../..', import.meta.url));

function specifiersLoadedBy(entries: string[]): string[] {
  const script = `
    const { registerHooks } = require('node:module');
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context); } });
    (async () => {
      for (const entry of ${JSON.stringify(entries)}) await import(entry);
      console.log(JSON.stringify(seen));
    })();`;
  const out = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout);
}

it("import 'tlob' and 'tlob/bench' load neither tinybench nor vitest; 'tlob/vitest' loads tinybench", () => {
  const core = specifiersLoadedBy(['tlob', 'tlob/bench', 'tlob/tinybench']);
  expect(core).toContain('tlob/bench');
  expect(core.filter((s) => /tinybench$|^vitest/.test(s) && !s.startsWith('tlob'))).toEqual([]);
  expect(specifiersLoadedBy(['tlob/vitest'])).toContain('tinybench');
});

it('the ESM and CommonJS builds of tlob/bench share the one copy of the core of their format', () => {
  const out = spawnSync(
    process.execPath,
    [
      '-e',
      `const core = require('tlob'); const bench = require('tlob/bench');
       console.log(typeof bench.Bench, typeof bench.benchCommand, require.cache[require.resolve('tlob')] !== undefined,
         Object.keys(require.cache).filter((k) => k.endsWith('index.cjs')).length, typeof core.tlob.run);`,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  expect(out.stdout.trim()).toBe('function function true 1 function');
});
