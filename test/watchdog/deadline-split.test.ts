import { describe, expect, it } from 'vitest';
import { tlob } from '../../src/index.js';
import { deadlineSplit } from '../../src/watchdog/deadline-split.js';

describe('the split at the deadline, from the accounting at the last transition', () => {
  // window started at 0 with a 50 ms deadline; last transition at 2 ms after 2 ms running
  const cases: [string, string, number, [string, number, number, number]][] = [
    [
      'running since its last transition: the rest is running',
      'running',
      Number.POSITIVE_INFINITY,
      ['running', 50, 0, 0],
    ],
    ['waiting: the rest is waiting', 'waiting', Number.POSITIVE_INFINITY, ['waiting', 2, 48, 0]],
    [
      'sleeping on nothing known: the rest is sleeping',
      'sleeping',
      Number.POSITIVE_INFINITY,
      ['sleeping', 2, 0, 48],
    ],
    [
      'sleeping on a timer due at 10 ms: sleeping to 10, waiting after',
      'sleeping',
      10,
      ['waiting', 2, 40, 8],
    ],
    ['sleeping on a timer due after the deadline: sleeping', 'sleeping', 60, ['sleeping', 2, 0, 48]],
    ['a timer due before the last transition: waiting all along', 'sleeping', 1, ['waiting', 2, 48, 0]],
  ];
  it.each(cases)('%s', (_, state, ready, [s, running, waiting, sleeping]) => {
    const at = deadlineSplit(state, 2, 2, 0, 0, ready, 50);
    expect(at).toEqual({ state: s, runningMs: running, waitingMs: waiting, sleepingMs: sleeping });
    expect(at.runningMs + at.waitingMs + at.sleepingMs).toBe(50);
  });
});

describe('tlob.watchdog()', () => {
  it('rejects bad options with ERR_TLOB_INVALID_ARG and a bad grace with the duration error', () => {
    expect(() => tlob.watchdog('yes' as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message: expect.stringMatching(/got "yes" \(string\)/),
      }),
    );
    expect(() => tlob.watchdog({ stacks: 1 } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message: expect.stringMatching(/`stacks`.*got 1/),
      }),
    );
    expect(() => tlob.watchdog({ timers: 'no' } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message: 'tlob.watchdog: expected `timers` to be a boolean, got "no" (string)',
      }),
    );
    expect(() => tlob.watchdog({ grace: 'soon' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_BUDGET' }),
    );
  });

  it('rejects a negative, NaN, infinite or over-an-hour grace as it rejects "-20ms", and changes nothing', () => {
    const before = tlob.watchdog();
    for (const grace of [-20, -0.001, Number.NaN, Number.POSITIVE_INFINITY, '-20ms', 3_600_001, '7200s']) {
      expect(() => tlob.watchdog({ grace }), String(grace)).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          code: 'ERR_TLOB_INVALID_BUDGET',
          message: expect.stringMatching(/^tlob\.watchdog: expected `grace` /),
        }),
      );
    }
    expect(tlob.watchdog()).toEqual(before);
    expect(tlob.watchdog({ enabled: false, grace: 0 })).toMatchObject({ graceNs: 0 });
    expect(tlob.watchdog({ enabled: false, grace: '3600s' })).toMatchObject({ graceNs: 3.6e12 });
    tlob.watchdog({ enabled: false, grace: before.graceNs / 1e6 });
  });

  it('rejects an unknown option (a typo) with ERR_TLOB_INVALID_ARG naming it, and changes nothing', () => {
    const before = tlob.watchdog();
    for (const [options, key] of [
      [{ grece: '1ms' }, 'grece'],
      [{ enabled: false, stack: false }, 'stack'],
      [{ timers: true, enable: true }, 'enable'],
    ] as const) {
      expect(() => tlob.watchdog(options as never)).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          code: 'ERR_TLOB_INVALID_ARG',
          message: expect.stringContaining(`tlob.watchdog: unknown option \`${key}\``),
        }),
      );
    }
    expect(() => tlob.watchdog([] as never)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG' }),
    );
    expect(tlob.watchdog()).toEqual(before);
  });

  it('reports its settings; off by default in code', () => {
    expect(tlob.watchdog()).toMatchObject({ enabled: false, running: false, timers: false });
    expect(tlob.watchdog({ enabled: false, grace: '3ms' })).toMatchObject({ enabled: false, graceNs: 3e6 });
  });
});
