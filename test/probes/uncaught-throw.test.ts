import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// An error a monitored function throws and nobody catches: Node's report of it starts with the file
// and line of the throw, and that line with a caret under the throw. Under tlob it must be the same
// report as without it, on each path a call can take (the first calls of a site run on the async
// path, later synchronous ones on the synchronous fast path), not a line of tlob's.

const dist = new URL('../../dist/index.cjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tlob-uncaught-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How each entry point monitors `o.f`; empty: not monitored. */
const entries: Record<string, string> = {
  plain: '',
  'tlob.attach': `tlob.attach(o, 'f', { budget: '60s' });`,
  'tlob.run': `const f = o.f; o.f = (fail) => tlob.run('f', { budget: '60s' }, () => f(fail));`,
  'a start/stop pair': `const f = o.f; o.begin = () => {}; o.end = f; tlob.attach(o, 'begin', { budget: '60s', stopPath: 'end' }); o.f = (fail) => { o.begin(); return o.end(fail); };`,
};

/** The first lines of Node's report of the uncaught error, after `calls` calls that returned. */
function crashHeader(entry: string, calls: number): string {
  const file = join(dir, `${entry.replace(/\W/g, '-')}-${calls}.cjs`);
  writeFileSync(
    file,
    [
      `const { tlob } = require(${JSON.stringify(dist)});`,
      `const o = { f(fail) { if (fail) throw new Error('thrown by f'); return 1; } };`,
      entries[entry],
      `for (let i = 0; i < ${calls}; i++) o.f(false);`,
      `setTimeout(() => o.f(true), 1);`,
    ].join('\n'),
  );
  const run = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  expect(run.status).toBe(1);
  return run.stderr.split('\n').slice(0, 3).join('\n').replace(file, 'FILE');
}

describe('an uncaught error thrown by a monitored function', () => {
  const plain = crashHeader('plain', 0);

  it('plain, Node reports the line of the throw', () => {
    expect(plain).toMatch(/^FILE:2\n.*throw new Error\('thrown by f'\).*\n\s+\^/);
  });

  it.each([
    ['tlob.attach', 0],
    ['tlob.attach', 40],
    ['tlob.run', 0],
    ['tlob.run', 40],
    ['a start/stop pair', 0],
  ] as const)('%s after %i returns: the same report', (entry, calls) => {
    expect(crashHeader(entry, calls)).toBe(plain);
  });
});
