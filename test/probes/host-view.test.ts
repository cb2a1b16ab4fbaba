import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { attach, type Probe, tlob } from '../../src/index.js';

const require = createRequire(import.meta.url);
const probes: Probe<any>[] = [];
const track = <T extends Probe<any>>(p: T): T => {
  probes.push(p);
  return p;
};
afterEach(() => {
  for (const p of probes.splice(0)) p.detach();
  tlob.enable();
});

const statsNames = () => tlob.stats().map((s) => s.name);

describe('a refused attach leaves no trace', () => {
  it('no stats entry is created for a probe that could not be installed', () => {
    const frozen = Object.freeze({ f: () => 1 });
    expect(() => tlob.attach(frozen, 'f', { budget: '1s', name: 'refused-frozen' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_NOT_PATCHABLE' }),
    );
    expect(() => tlob.attach({ f: () => 1 }, 'g', { budget: '1s', name: 'refused-missing' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_NOT_FOUND' }),
    );
    const pair = { open() {}, close: 1 };
    expect(() =>
      tlob.attach(pair, 'open', { budget: '1s', name: 'refused-pair', stopPath: 'close' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_TLOB_NOT_A_FUNCTION' }));
    expect(statsNames()).not.toContain('refused-frozen');
    expect(statsNames()).not.toContain('refused-missing');
    expect(statsNames()).not.toContain('refused-pair');
    // the refused pair left its start half unpatched
    expect(Object.hasOwn(pair.open, '__wrapped')).toBe(false);
  });

  it('a refused duplicate keeps the first probe and its stats entry', () => {
    const target = { f: (x: number) => x };
    track(tlob.attach(target, 'f', { budget: '1s', name: 'kept' }));
    expect(() => tlob.attach(target, 'f', { budget: '1s', name: 'kept' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_ALREADY_ATTACHED' }),
    );
    expect(target.f(2)).toBe(2);
    expect(tlob.stats().find((s) => s.name === 'kept')?.count).toBe(1);
  });

  it('a getter on a plain object is refused without being called', () => {
    let reads = 0;
    const target = {
      get f() {
        reads++;
        return () => 1;
      },
    };
    expect(() => tlob.attach(target, 'f', { budget: '1s' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_NOT_PATCHABLE' }),
    );
    expect(() => attach(target, 'f', { entry: () => {} })).toThrow(/accessor/);
    expect(reads).toBe(0);
  });

  it("a module's re-export getter is still followed to where the function is defined", () => {
    const index = require('../fixtures/probes/ts-cjs/index.js');
    const impl = require('../fixtures/probes/ts-cjs/impl.js');
    const original = impl.greet;
    track(tlob.attach(index, 'greet', { budget: '1s' }));
    expect(impl.greet).not.toBe(original);
    expect(index.greet('c')).toBe('hello c');
  });
});
