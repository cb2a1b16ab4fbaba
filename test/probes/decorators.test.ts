import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { installFixture, runNode } from './preload-apps.js';

const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

describe.each([
  ['TC39 standard decorators', 'standard'],
  ['experimentalDecorators', 'legacy'],
])('@budget as %s (tsconfig.%s.json)', (_label, flavour) => {
  let dir = '';
  beforeAll(() => {
    dir = installFixture('decorators');
    const compile = runNode(dir, [tsc, '-p', `tsconfig.${flavour}.json`]);
    expect(compile.stdout + compile.stderr).toBe('');
    expect(compile.status).toBe(0);
  });

  it('compiles with tsc and budgets instance and static, sync and async methods', () => {
    const run = runNode(dir, [join(`out-${flavour}`, 'service.js')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      out: ['svc slow 1', 'svc fast 2', 'svc load 3', 4, 'fast', 2, 'svc service'],
      violations: ['Service.load', 'Service.parse', 'Service.slow'],
      // a method with a symbol key is named after its class too, under either flavour
      counts: {
        'Service.create': 1,
        'Service.slow': 1,
        'service.fast': 1,
        'Service.load': 1,
        'Service.parse': 1,
        'Service.Symbol(describe)': 1,
      },
    });
  });

  it('a call with any `this` returns what the method returns; the window is named after the class that defines it', () => {
    const run = runNode(dir, [join(`out-${flavour}`, 'this-values.js')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // a standard decorator does not see its class: a static method learns it when the class is
    // defined, an instance method at the first call whose `this` reaches it; calls before that
    // are `anonymous.greet`, and do not fix the name
    const standard = flavour === 'standard';
    const early = (name: string) => (standard ? `anonymous.${name}` : `Greeter.${name}`);
    expect(JSON.parse(run.stdout)).toEqual([
      ['unbound static', 'made a', 'Greeter.make'],
      ['revoked proxy', 'hi b', early('greet')],
      ['throwing constructor getter', 'hi c', early('greet')],
      ['object of another class', 'hi c2', early('greet')],
      ['primitive', 'hi d', early('greet')],
      ['undefined', 'hi e', early('greet')],
      ['null prototype', 'hi f', early('greet')],
      ['subclass instance', 'dear, hi g', 'Greeter.greet'],
      ['revoked proxy, once named', 'hi h', 'Greeter.greet'],
      ['wrapped after @budget, revoked proxy', 'HI i', early('shout')],
      // the prototype holds the other decorator's wrapper: the class is the first on the way
      // from `this` with a `shout` of its own, here the subclass that overrides it
      ['wrapped after @budget, subclass instance', 'DEAR, HI j', standard ? 'Polite.shout' : 'Greeter.shout'],
      ['wrapped after @budget, inherited by a subclass instance', 'hi k…', 'Greeter.whisper'],
    ]);
  });
});

describe('reflect-metadata of wrapped methods and classes (NestJS routes, guards, injection)', () => {
  it('stays with a method under @budget in either order, and with a probed method or class', () => {
    const dir = installFixture('decorators');
    const compile = runNode(dir, [tsc, '-p', 'tsconfig.metadata.json']);
    expect(compile.stdout + compile.stderr).toBe('');
    const run = runNode(dir, [join('out-metadata', 'metadata.js')]);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      above: ['/b', ['admin']],
      below: '/a',
      probed: '/probed',
      prefix: '/admin',
      arguments: ['body 0'],
      parameters: ['Repository'],
      symbolName: '[handle]',
      calls: ['b1', 'a2', 'h', 'p'],
      counts: {
        'AdminController.above': 1,
        'AdminController.below': 1,
        'AdminController.Symbol(handle)': 1,
        'AdminController.prototype.probed': 1,
        'target.AdminController': 1,
      },
    });
  });
});

describe('@budget argument checks', () => {
  it('a bad budget or name fails when the class is defined; only methods can be decorated', async () => {
    const { budget } = await import('../../src/index.js');
    expect(() => budget('fast')).toThrow(expect.objectContaining({ code: 'ERR_TLOB_INVALID_BUDGET' }));
    expect(() => budget({ budget: '1ms', name: '' })).toThrow(/name/);
    const field = { kind: 'field', name: 'x', static: false } as unknown as ClassMethodDecoratorContext;
    expect(() => budget('1ms')(() => {}, field)).toThrow('@budget: expected a method, got a field `x`');
    expect(() => budget('1ms')({}, 'x', { get: () => 1 })).toThrow(
      '@budget: expected a method, got an accessor (get or set) `x`',
    );
    const accessor = { kind: 'accessor', name: 'x', static: false } as unknown as ClassMethodDecoratorContext;
    expect(() => budget('1ms')(() => {}, accessor)).toThrow(
      '@budget: expected a method, got an accessor `x`',
    );
    // under experimentalDecorators, as TypeScript's __decorate calls it: a field gets (prototype,
    // key), a class (constructor), a parameter (prototype, key, index)
    const legacy = budget('1ms') as unknown as (...args: unknown[]) => unknown;
    class Decorated {}
    expect(() => legacy(Decorated.prototype, 'x')).toThrow('@budget: expected a method, got a field `x`');
    expect(() => legacy(Decorated, 'count')).toThrow('@budget: expected a method, got a field `count`');
    expect(() => legacy(Decorated)).toThrow('@budget: expected a method, got a class `Decorated`');
    expect(() => legacy(Decorated.prototype, 'm', 0)).toThrow(
      '@budget: expected a method, got a parameter of `m`',
    );
    expect(() => legacy(Decorated, undefined, 0)).toThrow(
      '@budget: expected a method, got a constructor parameter',
    );
    expect(() => legacy({}, 'n', { value: 5, writable: true })).toThrow(
      '@budget: expected a method, got 5 (number)',
    );
    // a misspelt option, as tlob.run and tlob.attach refuse them
    expect(() => budget({ budget: '1ms', nam: 'x' } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message: expect.stringMatching(/`nam` \(did you mean `name`\?\)/),
      }),
    );
  });
});
