import { channel } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import shimmer from 'shimmer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tlob } from '../../src/index.js';
import { attach, type Probe } from '../../src/probes/attach.js';
import type { ProbeCall } from '../../src/probes/observed-call.js';
import { runWithTlob } from '../helpers.js';

const require = createRequire(import.meta.url);
/** lodash's `memoize`, whose documented cache reset is `memoized.cache = new Map()`. */
const memoize = require('lodash/memoize') as <F extends (...args: any[]) => any>(
  fn: F,
) => F & { cache: unknown };

const probes: Probe<any>[] = [];
function track<T extends Probe<any>>(probe: T): T {
  probes.push(probe);
  return probe;
}
afterEach(() => {
  for (const probe of probes.splice(0)) probe.detach();
});

function recorder() {
  const calls: ProbeCall<any>[] = [];
  const entries: ProbeCall<any>[] = [];
  return {
    calls,
    entries,
    handlers: {
      entry: (c: ProbeCall<any>) => void entries.push(c),
      ret: (c: ProbeCall<any>) => void calls.push(c),
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('attach: sync calls', () => {
  it('passes this, args, return value; calls entry and ret once with a shared data object', () => {
    const result = { r: 1 };
    const target = {
      f(this: unknown, a: number, b: number) {
        expect(this).toBe(target);
        return a + b > 0 ? result : null;
      },
    };
    const seen: unknown[] = [];
    track(
      attach(
        target,
        'f',
        {
          entry: (c) => {
            c.data.started = true;
            seen.push(['entry', c.thisArg, [...c.args]]);
          },
          ret: (c) => seen.push(['ret', c.end, c.result, c.data.started, c.probe.priv]),
        },
        'my-priv',
      ),
    );
    expect(target.f(1, 2)).toBe(result);
    expect(seen).toEqual([
      ['entry', target, [1, 2]],
      ['ret', 'return', result, true, 'my-priv'],
    ]);
  });

  it('rethrows the same error object and reports end "throw"', () => {
    const error = new Error('boom');
    const target = {
      f() {
        throw error;
      },
    };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    expect(() => target.f()).toThrow(error);
    expect(r.calls[0]?.end).toBe('throw');
    expect(r.calls[0]?.error).toBe(error);
  });

  it('keeps name, length, own properties, prototype and [[Prototype]]', () => {
    function original(this: any, _a: unknown, _b: unknown) {}
    original.extra = 42;
    Object.defineProperty(original, Symbol.for('s'), { value: 's', enumerable: false });
    const target = { original };
    track(attach(target, 'original', recorder().handlers));
    const wrapped = target.original;
    expect(wrapped).not.toBe(original);
    expect(wrapped.name).toBe('original');
    expect(wrapped.length).toBe(2);
    expect(wrapped.extra).toBe(42);
    expect((wrapped as any)[Symbol.for('s')]).toBe('s');
    expect(wrapped.prototype).toBe(original.prototype);
    expect(Object.getPrototypeOf(wrapped)).toBe(Object.getPrototypeOf(original));
    expect((wrapped as any).__original).toBe(original);
    const ownKeys = (f: Function) =>
      Reflect.ownKeys(f)
        .map(String)
        .filter((k) => !k.startsWith('__'));
    expect(ownKeys(wrapped).sort()).toEqual(ownKeys(original).sort());
  });

  it.each([
    ['attach', (target: { getUser: Function }) => track(attach(target, 'getUser', recorder().handlers))],
    [
      'tlob.attach',
      (target: { getUser: Function }) => track(tlob.attach(target, 'getUser', { budget: '60s' }) as never),
    ],
  ] as const)(
    "%s: a write to an own property reaches the original, which reads it (lodash.memoize's cache reset)",
    (_, probe) => {
      /** How many times the memoized function computed, over the same calls and a cache reset between them. */
      const run = (withProbe: boolean) => {
        let computed = 0;
        const target = { getUser: memoize((id: number) => ({ id, n: ++computed })) };
        if (withProbe) probe(target);
        const first = target.getUser(1);
        expect(target.getUser(1)).toBe(first);
        target.getUser.cache = new Map();
        const again = target.getUser(1);
        return { computed, again: again === first, cache: target.getUser.cache instanceof Map };
      };
      expect(run(false)).toEqual({ computed: 2, again: false, cache: true });
      expect(run(true)).toEqual(run(false));
    },
  );

  it('forwards writable own properties as accessors; copies read-only ones, name and length as they are', () => {
    function original() {}
    original.count = 1;
    Object.defineProperty(original, 'fixed', {
      value: 'f',
      writable: false,
      enumerable: true,
      configurable: true,
    });
    const target = { original };
    track(attach(target, 'original', recorder().handlers));
    const wrapped = target.original as typeof original & { fixed: string };
    original.count = 2;
    expect(wrapped.count).toBe(2);
    wrapped.count = 3;
    expect(original.count).toBe(3);
    const count = Object.getOwnPropertyDescriptor(wrapped, 'count');
    expect(count).toMatchObject({ enumerable: true, configurable: true });
    expect(typeof count?.get).toBe('function');
    expect(Object.getOwnPropertyDescriptor(wrapped, 'fixed')).toEqual(
      Object.getOwnPropertyDescriptor(original, 'fixed'),
    );
    for (const key of ['name', 'length'])
      expect(Object.getOwnPropertyDescriptor(wrapped, key)).toEqual(
        Object.getOwnPropertyDescriptor(original, key),
      );
  });

  it('an arrow or async function wrapper has no prototype and is no constructor', () => {
    const target = { arrow: (x: number) => x * 2, async asy() {} };
    track(attach(target, 'arrow', recorder().handlers));
    track(attach(target, 'asy', recorder().handlers));
    expect(Object.hasOwn(target.arrow, 'prototype')).toBe(false);
    expect(() => new (target.arrow as any)()).toThrow(TypeError);
    expect(Object.getPrototypeOf(target.asy)).toBe(Object.getPrototypeOf(async () => {}));
    expect(target.arrow(3)).toBe(6);
  });

  it('detach restores the original property descriptor exactly and is idempotent', () => {
    const target = {};
    const f = () => 1;
    Object.defineProperty(target, 'f', { value: f, enumerable: false, writable: false, configurable: true });
    const before = Object.getOwnPropertyDescriptor(target, 'f');
    const probe = attach(target, 'f', recorder().handlers);
    const during = Object.getOwnPropertyDescriptor(target, 'f');
    expect(during?.value).not.toBe(f);
    expect({ ...during, value: f }).toEqual(before);
    probe.detach();
    probe.detach();
    expect(Object.getOwnPropertyDescriptor(target, 'f')).toEqual(before);
    expect(probe.attached).toBe(false);
  });
});

describe('attach: constructors', () => {
  class Base {
    static created = 0;
    static make() {
      return new Base(0);
    }
    readonly target: Function;
    constructor(readonly x: number) {
      this.target = new.target;
      Base.created++;
    }
  }

  it('new constructs the original with new.target mapped to the original; instanceof holds', () => {
    const ns = { Base };
    const r = recorder();
    track(attach(ns, 'Base', r.handlers));
    const Wrapped = ns.Base;
    const instance = new Wrapped(5);
    expect(instance).toBeInstanceOf(Base);
    expect(instance).toBeInstanceOf(Wrapped);
    expect(instance.target).toBe(Base);
    expect(instance.x).toBe(5);
    expect(r.calls[0]?.newTarget).toBe(Base);
    expect(r.calls[0]?.result).toBe(instance);
    expect(Wrapped.make()).toBeInstanceOf(Base);
    expect(() => (Wrapped as any)(1)).toThrow(TypeError);
  });

  it("leaves the prototype it shares with the original as it is: an instance's constructor is the original", async () => {
    class Deferred<T> extends Promise<T> {}
    const ns = { Base, Deferred };
    const r = recorder();
    track(attach(ns, 'Base', r.handlers));
    track(attach(ns, 'Deferred', r.handlers));
    const instance = new ns.Base(1);
    expect(ns.Base.prototype).toBe(Base.prototype);
    expect(instance.constructor).toBe(Base);
    expect(instance.constructor).not.toBe(ns.Base);
    // why it stays so: the class's own uses of `constructor` would call the wrapper (a promise
    // subclass's `then` builds its result with it), each one a call of the probe
    const deferred = new ns.Deferred<number>((resolve) => resolve(1));
    expect(await deferred.then((v) => v + 1)).toBe(2);
    expect(r.entries.map((c) => c.newTarget)).toEqual([Base, Deferred]);
  });

  it('subclasses of the wrapper get their own new.target', () => {
    const ns = { Base };
    track(attach(ns, 'Base', recorder().handlers));
    class Sub extends ns.Base {}
    const sub = new Sub(1);
    expect(sub.target).toBe(Sub);
    expect(sub).toBeInstanceOf(Base);
  });

  it('prototype methods via a dotted path; an inherited method is shadowed on the instance only', () => {
    class Client {
      query(q: string) {
        return `result of ${q}`;
      }
    }
    const ns = { Client };
    const r = recorder();
    const probe = track(attach(ns, 'Client.prototype.query', r.handlers));
    expect(new Client().query('a')).toBe('result of a');
    expect(r.calls).toHaveLength(1);
    probe.detach();
    const one = new Client();
    const two = new Client();
    const instanceProbe = track(attach(one, 'query', r.handlers));
    one.query('b');
    two.query('c');
    expect(r.calls).toHaveLength(2);
    expect(Object.hasOwn(one, 'query')).toBe(true);
    instanceProbe.detach();
    expect(Object.hasOwn(one, 'query')).toBe(false);
  });
});

describe('attach: promises', () => {
  it('a program whose last work is the call still gets its ret before it exits', () => {
    const out = runWithTlob(`
      const { attach } = await import(${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)});
      const o = { async f() { await null; return 5; } };
      attach(o, 'f', { ret(c) { console.log('ret', c.end, c.result); } });
      console.log('caller got', await o.f());
    `);
    expect(out).toBe('caller got 5\nret fulfilled 5\n');
  });

  it('returns the very same promise (and subclass instance) and reports the fulfilled value', async () => {
    class MyPromise<T> extends Promise<T> {}
    const value = { v: 1 };
    const target = {
      async f() {
        await null;
        return value;
      },
      g() {
        return MyPromise.resolve(7);
      },
    };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    track(attach(target, 'g', r.handlers));
    const p = target.f();
    expect(p).toBeInstanceOf(Promise);
    expect(await p).toBe(value);
    const q = target.g();
    expect(q).toBeInstanceOf(MyPromise);
    expect(await q).toBe(7);
    await settle();
    expect(r.calls.map((c) => [c.end, c.result])).toEqual([
      ['fulfilled', value],
      ['fulfilled', 7],
    ]);
  });

  it('a cached promise that settled long before the probe was attached is reported too', async () => {
    const cached = Promise.resolve('cached');
    await settle();
    const pending = new Promise((resolve) => setTimeout(resolve, 5, 'later'));
    const target = { get: () => cached, slow: () => pending };
    const r = recorder();
    track(attach(target, 'get', r.handlers));
    track(attach(target, 'slow', r.handlers));
    expect(target.get()).toBe(cached);
    expect(target.slow()).toBe(pending);
    await settle();
    await settle();
    expect(r.calls.map((c) => [c.end, c.result])).toEqual([
      ['fulfilled', 'cached'],
      ['fulfilled', 'later'],
    ]);
  });

  it('reports a handled rejection with the same reason', async () => {
    const error = new Error('nope');
    const target = {
      async f() {
        await null;
        throw error;
      },
      async early() {
        throw error;
      },
    };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    track(attach(target, 'early', r.handlers));
    await expect(target.f()).rejects.toBe(error);
    await expect(target.early()).rejects.toBe(error);
    await settle();
    expect(r.calls.map((c) => [c.end, c.error])).toEqual([
      ['rejected', error],
      ['rejected', error],
    ]);
  });

  it('a rejection nobody handles still raises unhandledRejection with the same promise', async () => {
    const error = new Error('unhandled');
    const target = {
      async f() {
        await null;
        throw error;
      },
    };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    const seen: unknown[] = [];
    const listener = (reason: unknown, promise: unknown) => seen.push([reason, promise]);
    const listeners = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', listener);
    process.on('rejectionHandled', () => {});
    try {
      const p = target.f();
      await settle();
      await settle();
      expect(seen).toEqual([[error, p]]);
      expect(r.calls[0]?.end).toBe('rejected');
    } finally {
      process.removeAllListeners('unhandledRejection');
      process.removeAllListeners('rejectionHandled');
      for (const l of listeners) process.on('unhandledRejection', l as any);
    }
  });
});

describe('attach: thenables and callbacks', () => {
  function countingThenable(value: unknown) {
    const thenable = {
      calls: 0,
      // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test needs
      then(onFulfilled: (v: unknown) => unknown) {
        thenable.calls++;
        return onFulfilled(value);
      },
    };
    return thenable;
  }

  it("never calls a thenable's then itself, and restores the object at the first then", async () => {
    let made: ReturnType<typeof countingThenable> | undefined;
    const target = { f: () => (made = countingThenable('v')) };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    const t = target.f();
    expect(t).toBe(made);
    await settle();
    expect(made?.calls).toBe(0);
    expect(r.calls).toHaveLength(0);
    expect(await t).toBe('v');
    expect(made?.calls).toBe(1);
    expect(Object.getOwnPropertyDescriptor(t, 'then')?.enumerable).toBe(true);
    expect(r.calls.map((c) => [c.end, c.result])).toEqual([['fulfilled', 'v']]);
  });

  it("the thenable's then gets the caller's arguments, as many, a callback wrapped only where one was passed", () => {
    const f = () => {};
    const callerArgs: unknown[][] = [
      [],
      [f],
      [f, f],
      [null, f],
      [f, undefined],
      [undefined, undefined],
      [f, f, 'x'],
    ];
    /** What the real `then` got for each of the caller's argument lists: the type of each argument. */
    const seen = (probe?: (target: { f: () => object }) => Probe<any>) =>
      callerArgs.map((args) => {
        let got: string[] = [];
        const target = {
          f: () => ({
            // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test needs
            then(...received: unknown[]) {
              got = received.map((a) => typeof a);
            },
          }),
        };
        if (probe !== undefined) {
          track(probe(target));
          target.f(); // the first call: tlob.attach learns that f returns thenables
        }
        (target.f() as { then: Function }).then(...args);
        return got;
      });
    const plain = seen();
    expect(plain).toEqual([
      [],
      ['function'],
      ['function', 'function'],
      ['object', 'function'],
      ['function', 'undefined'],
      ['undefined', 'undefined'],
      ['function', 'function', 'string'],
    ]);
    expect(seen((target) => attach(target, 'f', recorder().handlers))).toEqual(plain);
    expect(seen((target) => tlob.attach(target, 'f', { budget: '1s' }))).toEqual(plain);
  });

  it('a promise then returns that settles before the callback passed is not the outcome', async () => {
    const target = {
      f: (returned: () => Promise<unknown>) => ({
        // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test needs
        then(onFulfilled: (v: string) => unknown) {
          setTimeout(() => onFulfilled('rows'), 10);
          return returned();
        },
      }),
    };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    for (const returned of [
      () => Promise.resolve('other'),
      () => new Promise((resolve) => setTimeout(resolve, 1, 'other')),
    ]) {
      expect(await new Promise((resolve) => target.f(returned).then(resolve))).toBe('rows');
      await settle();
    }
    expect(r.calls.map((c) => [c.end, c.result])).toEqual([
      ['fulfilled', 'rows'],
      ['fulfilled', 'rows'],
    ]);
  });

  it('an outcome the caller passed no callback for is learnt from the native promise then returns', async () => {
    const error = new Error('no rows');
    const target = {
      f: (fail: boolean) => ({
        // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test needs
        then(onFulfilled?: (v: string) => unknown, onRejected?: (e: unknown) => unknown) {
          return (fail ? Promise.reject(error) : Promise.resolve('rows')).then(onFulfilled, onRejected);
        },
      }),
    };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    // a promise is read after Node's unhandled-rejection pass: each call's `ret` after a settle
    const rejected = target.f(true).then(() => 'fulfilled');
    expect(await rejected.catch((e: unknown) => e)).toBe(error);
    await settle();
    expect(await target.f(false).then(undefined, () => 'rejected')).toBe('rows');
    await settle();
    expect(await target.f(false).then((v: string) => `got ${v}`)).toBe('got rows');
    expect(r.calls.map((c) => [c.end, c.result, c.error])).toEqual([
      ['rejected', undefined, error],
      ['fulfilled', 'rows', undefined],
      ['fulfilled', 'rows', undefined],
    ]);
  });

  it('a frozen thenable is returned untouched and reported as a plain return', () => {
    // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test needs
    const thenable = Object.freeze({ then: (resolve: (v: number) => void) => resolve(1) });
    const target = { f: () => thenable };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    expect(target.f()).toBe(thenable);
    expect(r.calls[0]?.end).toBe('return');
  });

  it('with { callback: true }, ret runs when the callback is first called; the callback runs every time', () => {
    const target = {
      f(x: number, cb: (err: Error | null, v?: number) => void) {
        cb(null, x * 2);
        cb(null, x * 3);
        return 'sync value';
      },
    };
    const r = recorder();
    track(attach(target, 'f', { ...r.handlers, callback: true }));
    const got: unknown[] = [];
    expect(target.f(2, (err, v) => got.push([err, v]))).toBe('sync value');
    expect(got).toEqual([
      [null, 4],
      [null, 6],
    ]);
    expect(r.calls.map((c) => [c.end, c.result, c.error])).toEqual([['callback', [null, 4], undefined]]);
  });

  it('a callback API that calls back asynchronously with an error', async () => {
    const error = new Error('io');
    const target = {
      read(cb: (err: Error | null) => void) {
        setTimeout(cb, 1, error);
      },
    };
    const r = recorder();
    track(attach(target, 'read', { ...r.handlers, callback: true }));
    const err = await new Promise((resolve) => target.read(resolve));
    expect(err).toBe(error);
    expect(r.calls[0]?.error).toBe(error);
  });
});

describe('attach: never break the host', () => {
  it('handler exceptions never reach the caller; a warning and a channel message report them', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const published: unknown[] = [];
    const subscriber = (m: unknown) => published.push(m);
    channel('tlob:warning').subscribe(subscriber);
    try {
      const target = { f: (x: number) => x + 1 };
      track(
        attach(target, 'f', {
          entry: () => {
            throw new Error('entry broke');
          },
          ret: () => {
            throw new Error('ret broke');
          },
        }),
      );
      expect(target.f(1)).toBe(2);
      await settle();
      expect(warnings.map((w) => w.message)).toEqual([
        expect.stringContaining('entry broke'),
        expect.stringContaining('ret broke'),
      ]);
      expect(published).toHaveLength(2);
    } finally {
      process.off('warning', onWarning);
      channel('tlob:warning').unsubscribe(subscriber);
    }
  });

  it('a foreign wrapper on top: detach becomes pass-through, a second detach after the foreign unwrap restores', () => {
    const original = (x: number) => x;
    const target = { f: original };
    const r = recorder();
    const probe = attach(target, 'f', r.handlers);
    const ours = target.f;
    const foreignCalls: number[] = [];
    shimmer.wrap(target, 'f', (inner: any) => (x: number) => {
      foreignCalls.push(x);
      return inner(x);
    });
    probe.detach();
    expect(target.f(1)).toBe(1);
    expect(foreignCalls).toEqual([1]);
    expect(r.calls).toHaveLength(0);
    shimmer.unwrap(target, 'f');
    expect(target.f).toBe(ours);
    expect(target.f(2)).toBe(2);
    probe.detach();
    expect(target.f).toBe(original);
  });

  it.each([
    ['an own writable, configurable method', () => ({ f: (x: number) => x }), true],
    [
      'a read-only, configurable method',
      () => Object.defineProperty({}, 'f', { value: (x: number) => x, writable: false, configurable: true }),
      false,
    ],
    ['an inherited method', () => Object.create({ f: (x: number) => x }), true],
    [
      'a writable, non-configurable method',
      () => Object.defineProperty({}, 'f', { value: (x: number) => x, writable: true, configurable: false }),
      true,
    ],
  ])(
    'marks the wrapper of %s as shimmer does, but for __unwrap, which would let OpenTelemetry take it out',
    (_what, make, writable) => {
      const target = make() as { f: (x: number) => number };
      const original = target.f;
      const before = Reflect.getOwnPropertyDescriptor(target, 'f');
      track(attach(target, 'f', recorder().handlers));
      const wrapped = target.f as any;
      expect(wrapped).not.toBe(original);
      expect(wrapped.__wrapped).toBe(true);
      expect(wrapped.__original).toBe(original);
      expect(Object.keys(wrapped)).toEqual([]); // the markers are not enumerable
      const own = Reflect.getOwnPropertyDescriptor(target, 'f');
      expect(own?.writable).toBe(writable);
      if (before !== undefined) expect({ ...own, value: undefined }).toEqual({ ...before, value: undefined });
      expect(wrapped.__unwrap).toBeUndefined();
    },
  );

  it('calls in flight at detach finish normally', async () => {
    const target = {
      async f() {
        await settle();
        return 'done';
      },
    };
    const probe = attach(target, 'f', recorder().handlers);
    const p = target.f();
    probe.detach();
    await expect(p).resolves.toBe('done');
  });

  it('same handlers (or same monitor key) twice on one function: ERR_TLOB_ALREADY_ATTACHED; different probes stack', () => {
    const target = { f: (x: number) => x };
    const r = recorder();
    track(attach(target, 'f', r.handlers));
    expect(() => attach(target, 'f', r.handlers)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_ALREADY_ATTACHED' }),
    );
    track(attach(target, 'f', { entry: () => {}, monitor: 'm' }));
    expect(() => attach(target, 'f', { ret: () => {}, monitor: 'm' })).toThrow(/already has a probe/);
    const other = recorder();
    track(attach(target, 'f', other.handlers));
    expect(target.f(3)).toBe(3);
    expect(r.calls).toHaveLength(1);
    expect(other.calls).toHaveLength(1);
  });

  it('frozen objects, getters and non-functions are refused with a code and the path', () => {
    const frozen = Object.freeze({ f: () => 1 });
    expect(() => attach(frozen, 'f', recorder().handlers)).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_NOT_PATCHABLE',
        message: expect.stringContaining('target.f'),
      }),
    );
    const withGetter = {
      get f() {
        return () => 1;
      },
    };
    expect(() => attach(withGetter, 'f', recorder().handlers)).toThrow(/accessor/);
    expect(() => attach({ n: 1 }, 'n', recorder().handlers)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_NOT_A_FUNCTION' }),
    );
  });

  it('a non-configurable but writable property is patched by assignment and restored', () => {
    const target = {} as { f: () => number };
    const f = () => 1;
    Object.defineProperty(target, 'f', { value: f, writable: true, configurable: false, enumerable: true });
    const probe = attach(target, 'f', recorder().handlers);
    expect(target.f).not.toBe(f);
    expect(target.f()).toBe(1);
    probe.detach();
    expect(target.f).toBe(f);
  });

  it('a path that does not resolve names the path and the nearest existing name', () => {
    const ns = {
      Client: class {
        query() {}
      },
    };
    expect(() => attach(ns, 'Client.prototype.qeury', recorder().handlers)).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_NOT_FOUND',
        message: expect.stringMatching(/"Client\.prototype\.qeury".*did you mean "query"/),
      }),
    );
    expect(() => attach(ns, 'Clinet.prototype.query', recorder().handlers)).toThrow(/did you mean "Client"/);
    expect(() => attach(ns, '', recorder().handlers)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG' }),
    );
    expect(() => attach(null as any, 'f', recorder().handlers)).toThrow(TypeError);
    expect(() => attach(ns, 'Client', {} as any)).toThrow(/entry.*ret/);
  });

  it('when off, the wrapper calls straight through (no handler runs)', () => {
    const spy = vi.fn((x: number) => x);
    const target = { f: spy };
    const seen = recorder();
    const probe = attach(target, 'f', seen.handlers);
    const wrapper = target.f;
    probe.detach();
    expect(wrapper(4)).toBe(4);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(seen.entries).toHaveLength(0);
    expect(seen.calls).toHaveLength(0);
  });
});
