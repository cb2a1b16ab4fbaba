import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { retry } from '../helpers.js';

// A real `vitest bench` run in a child process, with `benchmark.provider` pointing at a module that
// uses 'tlob/vitest': the bench file asserts on `result.tlob` itself and prints it for this test.

const root = fileURLToPath(new URL('../..', import.meta.url));

it("vitest bench with tlob's provider: each result carries tlob's split and budget checks", async () => {
  await retry(2, async () => runVitestBench());
});

function runVitestBench(): void {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  const out = spawnSync(
    process.execPath,
    [join(root, 'node_modules/vitest/vitest.mjs'), 'bench', '--run', '--root', 'test/fixtures/vitest-bench'],
    { cwd: root, encoding: 'utf8', env: { ...env, NO_COLOR: '1' }, timeout: 120_000 },
  );
  expect(out.status, `${out.stdout}\n${out.stderr}`).toBe(0);
  expect(out.stdout).toMatch(/Tests +2 passed/);
  const tlobOf = (name: string) => {
    const line = out.stdout.split('\n').find((l) => l.startsWith(`TLOB ${name} `)) ?? '';
    return JSON.parse(line.slice(`TLOB ${name} `.length));
  };
  const sleep = tlobOf('sleep');
  expect(sleep.budgetNs).toBe(2e6);
  expect(sleep.violations).toBeGreaterThan(0);
  for (const state of ['elapsed', 'running', 'waiting', 'sleeping']) {
    expect(sleep[state]).toMatchObject({
      mean: expect.any(Number),
      p50: expect.any(Number),
      p99: expect.any(Number),
    });
  }
  expect(sleep.worstViolation.overByNs).toBeGreaterThan(0);
  expect(tlobOf('spin').running.p50).toBeGreaterThan(0.45e6);
}

it("docs/bench.md's Vitest example runs as written: config, provider and bench file", () => {
  const docs = readFileSync(join(root, 'docs/bench.md'), 'utf8');
  const block = /```js\n(\/\/ vitest\.config\.mjs\n[\s\S]*?)```/.exec(docs)?.[1] ?? '';
  // the block's three files, each after its `// name.mjs` line
  const files = block.split(/^(?=\/\/ [\w.-]+\.mjs)/m).map((part) => {
    const name = /^\/\/ ([\w.-]+\.mjs)/.exec(part)?.[1] ?? '';
    return [name, part] as const;
  });
  expect(files.map(([name]) => name)).toEqual(['vitest.config.mjs', 'bench-provider.mjs', 'parse.bench.mjs']);
  // inside the repository, so that 'tlob/vitest' resolves to this package by name
  const dir = mkdtempSync(join(root, 'test/fixtures/vitest-doc-'));
  try {
    for (const [name, text] of files) writeFileSync(join(dir, name), text);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    const out = spawnSync(
      process.execPath,
      [join(root, 'node_modules/vitest/vitest.mjs'), 'bench', '--run', '--root', dir],
      { cwd: root, encoding: 'utf8', env: { ...env, NO_COLOR: '1' }, timeout: 120_000 },
    );
    const output = `${out.stdout}\n${out.stderr}`;
    expect(output).not.toMatch(/ReferenceError|is not defined|SyntaxError/);
    // it ran the test; its assertions on the timing (no violation of 5 ms) are the example's, not this test's
    expect(output).toMatch(/Tests +1 (passed|failed)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
