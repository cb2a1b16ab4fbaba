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

describe('error classes across two copies of tlob', () => {
  it('instanceof holds for an error thrown by the other copy, and only for its own classes', async () => {
    const esm = await import(new URL('../../dist/index.js', import.meta.url).href);
    const cjs = require('../../dist/index.cjs');
    const caught = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('expected a throw');
    };
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
