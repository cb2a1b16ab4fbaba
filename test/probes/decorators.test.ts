import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installFixture, runNode } from './preload-apps.js';

const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

describe.each([
  ['TC39 standard decorators', 'standard'],
  ['experimentalDecorators', 'legacy'],
])('@budget as %s (tsconfig.%s.json)', (_label, flavour) => {
  it('compiles with tsc and budgets instance and static, sync and async methods', () => {
    const dir = installFixture('decorators');
    const compile = runNode(dir, [tsc, '-p', `tsconfig.${flavour}.json`]);
    expect(compile.stdout + compile.stderr).toBe('');
    expect(compile.status).toBe(0);
    const run = runNode(dir, [join(`out-${flavour}`, 'service.js')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      out: ['svc slow 1', 'svc fast 2', 'svc load 3', 4, 'fast', 2],
      violations: ['Service.load', 'Service.parse', 'Service.slow'],
      counts: {
        'Service.create': 1,
        'Service.slow': 1,
        'service.fast': 1,
        'Service.load': 1,
        'Service.parse': 1,
      },
    });
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
