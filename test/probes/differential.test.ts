import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tlob } from '../../src/index.js';
import { attach } from '../../src/probes/attach.js';
import type { ProbeCall } from '../../src/probes/observed-call.js';
import { inputs, isDeterministic, libraries, outcome } from './differential.js';

/**
 * Skipped: results random by design (two runs may agree by chance), and lodash functions that
 * would build a string or array as long as a Date's milliseconds.
 */
const SKIPPED =
  /^(random|sample|sampleSize|shuffle|uniqueId|times|range|rangeRight|repeat|pad|padStart|padEnd)$/;

// Functions that read the clock (`constructNow`, `isToday`) must see the same time in both runs.
beforeAll(() => {
  vi.useFakeTimers({ now: Date.UTC(2025, 0, 15, 12), toFake: ['Date'] });
});
afterAll(() => {
  vi.useRealTimers();
});

describe.each(libraries())('differential: every exported function of %s', (_name, lib) => {
  const names = Object.keys(lib).filter((key) => typeof lib[key] === 'function');
  const originals = new Map(names.map((key) => [key, lib[key] as Function]));
  /** One name per function: the others are its aliases (`assignIn` and `extend`). */
  const firstNames = names.filter((key) => names.find((k) => lib[k] === lib[key]) === key);

  it('has functions to test', () => {
    expect(names.length).toBeGreaterThan(20);
  });

  /** Every function, wrapped by `wrapAll`, returns and throws what the original does. */
  function compareAll(): number {
    let compared = 0;
    for (const key of names) {
      const original = originals.get(key) as Function;
      const wrapped = lib[key] as Function;
      expect(wrapped).not.toBe(original);
      expect(wrapped.name).toBe(original.name);
      expect(wrapped.length).toBe(original.length);
      // aliases keep their identity: every name of one function holds the same wrapper
      for (const other of names) {
        if (originals.get(other) === original) expect(lib[other], `${other} === ${key}`).toBe(wrapped);
      }
      for (let i = 0; i < inputs().length; i++) {
        const args = () => inputs()[i] as unknown[];
        if (SKIPPED.test(key) || !isDeterministic(original, args)) continue;
        expect(outcome(wrapped, undefined, args()), `${key}(${i})`).toEqual(
          outcome(original, undefined, args()),
        );
        compared++;
      }
    }
    return compared;
  }

  it('wrapped by attach, returns and throws what the original does; ret sees the same value', () => {
    const seen: ProbeCall<any>[] = [];
    const probes = names.map((key) =>
      attach(lib, key, { entry: (c) => void (c.data.key = key), ret: (c) => void seen.push(c) }),
    );
    try {
      expect(compareAll()).toBeGreaterThan(names.length);
      // identity: what ret saw is what the caller got
      seen.length = 0;
      const array = [1, 2, 3];
      for (const key of names) {
        let returned: unknown;
        try {
          returned = (lib[key] as Function)(array);
        } catch {
          continue;
        }
        const call = seen.at(-1);
        // the outermost probe: attached under this name or, through `aliases`, under another
        expect(originals.get(call?.data.key as string)).toBe(originals.get(key));
        if (call?.end === 'return') expect(call.result).toBe(returned);
      }
    } finally {
      for (const probe of probes) probe.detach();
    }
  });

  it('wrapped by tlob.attach, returns and throws what the original does', () => {
    tlob.reactor('nop');
    const probes = firstNames.map((key) => tlob.attach(lib, key, { budget: '60s' }));
    try {
      expect(compareAll()).toBeGreaterThan(names.length);
      // an alias already has the probe of its function
      for (const key of names.filter((k) => !firstNames.includes(k))) {
        expect(() => tlob.attach(lib, key, { budget: '60s' })).toThrow(
          expect.objectContaining({ code: 'ERR_TLOB_ALREADY_ATTACHED' }),
        );
      }
    } finally {
      for (const probe of probes) probe.detach();
      tlob.reactor('log');
    }
  });

  it('detach restores every original', () => {
    for (const key of names) expect(lib[key]).toBe(originals.get(key));
  });

  afterAll(() => {
    for (const [key, fn] of originals) lib[key] = fn;
  });
});
