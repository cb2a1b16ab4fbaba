import { afterEach, describe, expect, it } from 'vitest';
import { attach, tlob } from '../../src/index.js';

const hostile = () =>
  new Proxy(
    {},
    {
      get(_t, key) {
        if (key === 'then') return () => {};
        return undefined;
      },
      getOwnPropertyDescriptor() {
        throw new Error('trap broke');
      },
      defineProperty() {
        throw new Error('trap broke');
      },
    },
  );

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

describe('a returned value whose traps throw', () => {
  it('reaches the caller of an attach probe unchanged; the failure is reported as a warning', async () => {
    process.on('warning', onWarning);
    const value = hostile();
    const target = { f: () => value };
    const probe = attach(target, 'f', { ret() {} });
    expect(target.f()).toBe(value);
    probe.detach();
    await new Promise((r) => setTimeout(r, 5));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
  });

  it('reaches the caller of a tlob.attach probe unchanged', () => {
    const value = hostile();
    const target = { g: () => value };
    const probe = tlob.attach(target, 'g', { budget: '1s' });
    expect(target.g()).toBe(value);
    expect(target.g()).toBe(value); // the second call takes the thenable-aware path
    probe.detach();
  });
});
