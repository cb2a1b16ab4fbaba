import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

// dist/index.js and dist/index.cjs are two copies of tlob (as when a dependency pins another
// version): their probes share one registry through globalThis.
describe('two copies of tlob in one process', () => {
  it("see each other's probes: one tlob probe per function, spec lists shared, module hooks installed once", async () => {
    const esm = await import(new URL('../../dist/index.js', import.meta.url).href);
    const cjs = require('../../dist/index.cjs');
    expect(esm.tlob).not.toBe(cjs.tlob);
    const target = { f: (x: number) => x + 1 };
    const probe = esm.tlob.attach(target, 'f', { budget: '1s' });
    expect(() => cjs.tlob.attach(target, 'f', { budget: '1s' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_ALREADY_ATTACHED' }),
    );
    const generic = cjs.attach(target, 'f', { entry: () => {} });
    expect(target.f(1)).toBe(2);
    generic.detach();
    probe.detach();
    expect(target.f.name).toBe('f');
    esm.tlob.probes.add('p node:path:posix.relative threshold=1s');
    expect(cjs.tlob.probes.list()).toEqual(['p node:path:posix.relative threshold=1s']);
    cjs.tlob.probes.remove('node:path:posix.relative');
    expect(esm.tlob.probes.list()).toEqual([]);
  });
});
