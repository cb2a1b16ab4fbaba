import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { retry } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// An application that imports tlob and blocks its thread in a window, once the watchdog runs.
const app = `
import { tlob } from 'tlob';
import { otel } from 'tlob/otel';
function blockTheThread(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
async function main() {
  tlob.watchdog(true);
  await tlob.run('warm-up', { budget: '1s' }, async () => {});
  while (!tlob.watchdog().running) await new Promise((resolve) => setTimeout(resolve, 5));
  tlob.run('bundled', { budget: '20ms' }, () => blockTheThread(300));
  console.log(typeof otel === 'function' ? 'done' : 'no otel');
}
main();
`;

describe('tlob bundled into an application (esbuild, for Node)', () => {
  // a space in the path: a bundle's own file is found from a stack frame, where paths are not quoted
  const dir = mkdtempSync(join(tmpdir(), 'tlob bundle-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'tlob'), 'dir');
  writeFileSync(join(dir, 'app.mjs'), app);
  afterAll(() => rmSync(dir, { recursive: true, force: true })); // the link, not the repository

  // CommonJS is esbuild's default output for Node; it leaves `import.meta` empty
  it.each(['cjs', 'esm'] as const)(
    'as %s: loads, and the watchdog shows the blocking code in its stack',
    async (format) => {
      const outfile = join(dir, 'out', format === 'cjs' ? 'app.cjs' : 'app.mjs');
      await build({
        entryPoints: [join(dir, 'app.mjs')],
        bundle: true,
        platform: 'node',
        format,
        outfile,
        logLevel: 'silent',
        // the banner commonly given to an ES module bundle for the `require` of CommonJS code in it
        ...(format === 'esm'
          ? {
              banner: {
                js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
              },
            }
          : {}),
      });
      await retry(3, async () => {
        const run = spawnSync(process.execPath, [outfile], {
          encoding: 'utf8',
          env: { ...process.env, NODE_OPTIONS: '' },
        });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toBe('done\n');
        expect(run.stderr).toMatch(/^tlob: "bundled" #\d+ over budget 20\.0ms: the main thread is blocked/m);
        // tlob's frames cannot be told from the application's in one file: those under the
        // blocking code are shown; the stack starts with that code, or with Node's code it was in
        // when caught (as performance.now(): Node's functions, named or not, at `node:` locations,
        // and V8's builtins they call, at `<anonymous>`), not with tlob's capture of it
        expect(run.stderr).toMatch(
          /stack of the blocked thread:\n(\s+at (node:.*|.*\((node:.*|<anonymous>)\))\n)*\s+at blockTheThread \(/,
        );
        expect(run.stderr).not.toMatch(/at capture \(/);
      });
    },
    30_000,
  );
});
