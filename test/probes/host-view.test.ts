import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { attach, tlob } from '../../src/index.js';
import { trackProbes } from '../helpers.js';

const require = createRequire(import.meta.url);
const track = trackProbes();

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

describe('aliases keep their identity', () => {
  const asyncLib = require('async');

  it('attaching one name of a function attaches its other names with the same wrapper', async () => {
    const each = asyncLib.each;
    expect(asyncLib.forEach).toBe(each);
    const probe = track(tlob.attach(asyncLib, 'each', { budget: '1s', name: 'async.each' }));
    expect(asyncLib.each).not.toBe(each);
    expect(asyncLib.forEach).toBe(asyncLib.each);
    // both names are observed, by the one probe
    await asyncLib.forEach([1, 2], async () => {});
    await asyncLib.each([1], async () => {});
    expect(tlob.stats().find((s) => s.name === 'async.each')?.count).toBe(2);
    // the function has its probe: attaching an alias is a duplicate
    expect(() => tlob.attach(asyncLib, 'forEach', { budget: '1s' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_ALREADY_ATTACHED' }),
    );
    probe.detach();
    expect(asyncLib.each).toBe(each);
    expect(asyncLib.forEach).toBe(each);
  });

  it('attach by module specifier keeps the aliases of module.exports identical too', () => {
    const detect = asyncLib.detect;
    expect(asyncLib.find).toBe(detect);
    const probe = track(attach('async', 'detect', { entry: () => {} }));
    expect(asyncLib.detect).not.toBe(detect);
    expect(asyncLib.find).toBe(asyncLib.detect);
    probe.detach();
    expect(asyncLib.find).toBe(detect);
  });

  it('`aliases: false` patches the one name: the others keep the original', () => {
    const target = { run: (x: number) => x, start: undefined as unknown as (x: number) => number };
    target.start = target.run;
    const original = target.run;
    track(tlob.attach(target, 'run', { budget: '1s', aliases: false }));
    expect(target.run).not.toBe(original);
    expect(target.start).toBe(original);
    expect(() => tlob.attach(target, 'start', { budget: '1s', aliases: 'yes' as never })).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message: expect.stringContaining('`aliases`'),
      }),
    );
  });

  it('an inherited method is shadowed under its one name; a reference taken before attach keeps the original', () => {
    class Emitter {
      on() {
        return this;
      }
    }
    (Emitter.prototype as unknown as Record<string, unknown>).addListener = Emitter.prototype.on;
    const instance = new Emitter() as Emitter & { addListener: () => unknown };
    const taken = instance.on;
    track(attach(instance, 'on', { entry: () => {} }));
    expect(instance.on).not.toBe(taken);
    expect(instance.addListener).toBe(taken);
    // on the prototype itself, both names get the wrapper
    track(attach(Emitter.prototype, 'on', { entry: () => {} }));
    expect(Emitter.prototype.on).toBe((Emitter.prototype as unknown as Record<string, unknown>).addListener);
  });

  it('two probes stacked on one function through its aliases are all removed, detached in any order', () => {
    const f = (x: number) => x;
    const target = { a: f, b: f };
    const first = attach(target, 'a', { entry: () => {} });
    const second = attach(target, 'b', { entry: () => {} });
    expect(target.a).toBe(target.b);
    first.detach();
    second.detach();
    expect(target.a).toBe(f);
    expect(target.b).toBe(f);
  });
});
