import { describe, expect, it } from 'vitest';
import { toBudgetNs } from '../../src/engine/duration.js';
import { formatNs, parseBudget, parseDuration, tlob } from '../../src/index.js';

describe('budgets', () => {
  it('parseDuration parses like parseBudget without its range check', () => {
    expect(parseDuration('500ns')).toBe(500);
    expect(parseDuration('7200s')).toBe(7_200_000_000_000);
    expect(parseDuration(0)).toBe(0);
    expect(() => parseDuration(-1)).toThrow(expect.objectContaining({ code: 'ERR_TLOB_INVALID_BUDGET' }));
    expect(() => parseDuration('-1ms')).toThrow(expect.objectContaining({ code: 'ERR_TLOB_INVALID_BUDGET' }));
    expect(() => parseBudget('500ns')).toThrow(expect.objectContaining({ code: 'ERR_TLOB_BUDGET_RANGE' }));
    expect(() => parseDuration('1h')).toThrow(expect.objectContaining({ code: 'ERR_TLOB_INVALID_BUDGET' }));
  });

  it('the exported parsers take one value and name themselves in their errors', () => {
    expect([parseBudget.length, parseDuration.length]).toEqual([1, 1]);
    expect(() => parseBudget('fast')).toThrow(/^parseBudget: expected `budget` like "50ms"/);
    expect(() => parseBudget(0)).toThrow(
      /^parseBudget: expected `budget` between 1us and 3600s \(1 hour\), got 0/,
    );
    expect(() => parseDuration('fast')).toThrow(/^parseDuration: expected `value` like "50ms"/);
    // a second argument does not rename the caller
    expect(() => (parseBudget as (v: unknown, c: string) => number)('fast', 'x')).toThrow(/^parseBudget:/);
  });

  it.each([
    [50, 50_000_000],
    [0.5, 500_000],
    ['50ms', 50_000_000],
    ['250us', 250_000],
    ['250µs', 250_000],
    ['1.5s', 1_500_000_000],
    ['20000ns', 20_000],
    ['1us', 1_000],
    ['3600s', 3_600_000_000_000],
    [' 7 ms ', 7_000_000],
  ])('parses %j as %d ns', (input, ns) => {
    expect(parseBudget(input)).toBe(ns);
  });

  it.each([
    ['fast'],
    ['50'],
    ['50 m'],
    ['ms'],
    [''],
    [null],
    [undefined],
    [{}],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    ['-5ms'],
  ])('rejects %j with a TypeError naming what was expected and given', (input) => {
    let error: unknown;
    try {
      toBudgetNs(input, 'tlob.start');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_TLOB_INVALID_BUDGET' });
    expect((error as Error).message).toMatch(/^tlob\.start: expected `budget` like "50ms"/);
    expect((error as Error).message).toContain('got ');
  });

  it.each([[0], ['999ns'], ['3601s'], [-1], ['0ms']])(
    'rejects %j outside 1us..1h with a RangeError',
    (input) => {
      expect(() => parseBudget(input)).toThrow(RangeError);
      expect(() => parseBudget(input)).toThrow(expect.objectContaining({ code: 'ERR_TLOB_BUDGET_RANGE' }));
    },
  );

  it('the message quotes the bad value and its type', () => {
    expect(() => tlob.start({ budget: 'fast' })).toThrow(
      'tlob.start: expected `budget` like "50ms" (a number of milliseconds or a string with ns, us, ms or s), got "fast" (string)',
    );
  });

  it('rejects bad options early', () => {
    expect(() => tlob.start(undefined as never)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG' }),
    );
    expect(() => tlob.start({ budget: 5, name: 3 as never })).toThrow(/`name`/);
    expect(() => tlob.run('x', { budget: 5 }, 'nope' as never)).toThrow(/`fn`/);
    expect(() => tlob.run('', { budget: 5 }, () => 1)).toThrow(/`name`/);
    expect(() => tlob.reactor('panic' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_REACTOR' }),
    );
  });

  it('formats nanoseconds for humans', () => {
    expect(formatNs(850)).toBe('850ns');
    expect(formatNs(12_300)).toBe('12.3us');
    expect(formatNs(45_670_000)).toBe('45.7ms');
    expect(formatNs(1_500_000_000)).toBe('1.50s');
  });

  it('keeps three digits where rounding reaches the next unit or digit', () => {
    expect(formatNs(999.5)).toBe('1.00us');
    expect(formatNs(999.4)).toBe('999ns');
    expect(formatNs(99_970)).toBe('100us');
    expect(formatNs(9_996_000)).toBe('10.0ms');
    expect(formatNs(999_700_000)).toBe('1.00s');
  });
});

describe('exported error classes', () => {
  it('are the classes of the errors thrown, subclassing the built-ins', async () => {
    const { TlobTypeError, TlobRangeError, parseProbeSpecs, TlobError } = await import('../../src/index.js');
    expect(() => parseBudget('fast')).toThrow(TlobTypeError);
    expect(() => parseBudget('0ms')).toThrow(TlobRangeError);
    expect(new TlobTypeError('ERR_TLOB_INVALID_ARG', 'x')).toBeInstanceOf(TypeError);
    expect(() => parseProbeSpecs('p pg:query threshold=fast')).toThrow(TlobError);
    expect(parseProbeSpecs('p pg:Client.prototype.query threshold=20ms')).toEqual([
      expect.objectContaining({ op: 'add', module: 'pg', path: 'Client.prototype.query' }),
    ]);
  });
});
