import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layer map of docs/architecture.md, enforced: every import in src/ (value or type) either
// stays in its own layer or goes to a lower one. A layer is a folder of src/; the root files are
// the entry points (`index.ts`, `tlob.ts`; `register.ts`, the preload, above everything), or helpers
// that import nothing.

const src = fileURLToPath(new URL('../src/', import.meta.url));

/** Layers from the top; a layer may import any layer after it in this list, none before. */
const layers: readonly (readonly string[])[] = [
  ['preload'],
  ['cli'],
  ['bench', 'otel'],
  ['entry'],
  ['probes'],
  ['watchdog'],
  ['monitors'],
  ['context'],
  ['engine'],
  ['report'],
  ['helpers'],
];
const entryFiles = new Set(['index.ts', 'tlob.ts', 'process-api.ts']);

function layerOf(file: string): string {
  const [first, ...rest] = file.split('/');
  if (rest.length > 0) return first as string;
  if (file === 'register.ts') return 'preload'; // composes all that the preload turns on
  return entryFiles.has(file) ? 'entry' : 'helpers';
}

function rank(layer: string): number {
  const i = layers.findIndex((names) => names.includes(layer));
  if (i < 0) throw new Error(`src/${layer}/ is in no layer: add it to docs/architecture.md and this test`);
  return i;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(src, join(e.parentPath, e.name)).split('\\').join('/'));
}

/** Relative specifiers of every `import`/`export … from` and dynamic `import()` in `text`. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.[^'"]+)['"]/g))
    found.push(m[1] as string);
  return found;
}

interface Edge {
  from: string;
  to: string;
}

function edges(): Edge[] {
  const all: Edge[] = [];
  for (const file of sourceFiles(src)) {
    for (const spec of importsOf(readFileSync(join(src, file), 'utf8'))) {
      const to = normalize(join(dirname(file), spec))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts');
      all.push({ from: file, to });
    }
  }
  return all;
}

/** Edges that go up the map, or sideways between two folders of the same rank. */
function forbidden(list: Edge[]): string[] {
  return list
    .filter(({ from, to }) => {
      const a = layerOf(from);
      const b = layerOf(to);
      return a !== b && rank(a) >= rank(b);
    })
    .map(({ from, to }) => `src/${from} -> src/${to}`);
}

describe('the layer map (docs/architecture.md)', () => {
  it('finds the imports of src/ (the parser is not blind)', () => {
    expect(importsOf(`import { a } from './a.js';\nimport type { B } from "../b.js";`)).toEqual([
      './a.js',
      '../b.js',
    ]);
    expect(importsOf(`export { c } from './c.js';\nawait import('./d.js');\nimport './e.js';`)).toEqual([
      './c.js',
      './d.js',
      './e.js',
    ]);
    const list = edges();
    expect(list.length).toBeGreaterThan(100);
    expect(list).toContainEqual({ from: 'engine/monitor.ts', to: 'report/ring.ts' });
  });

  it('no module of src/ imports a layer above its own', () => {
    expect(forbidden(edges())).toEqual([]);
  });

  it('an upward edge is caught', () => {
    expect(
      forbidden([
        { from: 'engine/monitor.ts', to: 'context/outside.ts' },
        { from: 'report/errors.ts', to: 'engine/monitor.ts' },
        { from: 'bench/run.ts', to: 'otel/spans.ts' },
        { from: 'call-or-construct.ts', to: 'report/errors.ts' },
        { from: 'probes/attach.ts', to: 'monitors/tlob/window.ts' },
      ]),
    ).toEqual([
      'src/engine/monitor.ts -> src/context/outside.ts',
      'src/report/errors.ts -> src/engine/monitor.ts',
      'src/bench/run.ts -> src/otel/spans.ts',
      'src/call-or-construct.ts -> src/report/errors.ts',
    ]);
  });

  it('every folder of src/ has a place on the map', () => {
    for (const file of sourceFiles(src)) expect(() => rank(layerOf(file)), file).not.toThrow();
  });
});
