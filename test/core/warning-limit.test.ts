import { afterEach, describe, expect, it } from 'vitest';
import { attach, tlob } from '../../src/index.js';
import { sleep, spin } from '../helpers.js';

afterEach(() => {
  tlob.reactor('nop');
  tlob.enable();
});

interface Warning extends Error {
  code?: string;
}

/** The TlobWarnings emitted during `block` and the following `settleMs` (the limit's interval). */
async function tlobWarningsDuring(block: () => void, settleMs: number): Promise<Warning[]> {
  const warnings: Warning[] = [];
  const onWarning = (w: Warning) => {
    if (w.name === 'TlobWarning') warnings.push(w);
  };
  process.on('warning', onWarning);
  try {
    block();
    await sleep(settleMs);
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

/** How many warnings the suppression notices stand for. */
const suppressedCount = (warnings: Warning[]) =>
  warnings
    .filter((w) => w.code === 'TLOB_WARNINGS_SUPPRESSED')
    .reduce((sum, w) => sum + Number(/(\d+) warning/.exec(w.message)?.[1]), 0);

describe('warnings are rate-limited', () => {
  it('a reactor that throws on every violation gives at most 10 warnings a second, then one with the count', async () => {
    tlob.reactor(() => {
      throw new Error('reactor broke');
    });
    const violations = 40;
    let startedAt = 0;
    let endedAt = 0;
    const warnings = await tlobWarningsDuring(() => {
      startedAt = Date.now();
      for (let i = 0; i < violations; i++) {
        tlob.run('limited', { budget: '1ms' }, () => spin(1.5));
      }
      endedAt = Date.now();
    }, 1100);
    const shown = warnings.filter((w) => w.message.includes('reactor broke'));
    const intervals = Math.floor((endedAt - startedAt) / 1000) + 1;
    expect(shown.length).toBeLessThanOrEqual(10 * intervals);
    expect(shown.length).toBeGreaterThanOrEqual(10);
    // nothing is lost: what was not shown is counted in a notice once the interval ended
    expect(shown.length + suppressedCount(warnings)).toBe(violations);
  });

  it('a throwing entry handler is limited the same way; the call goes on', async () => {
    const target = { f: (x: number) => x + 1 };
    const probe = attach(target, 'f', {
      entry: () => {
        throw new Error('entry broke');
      },
    });
    const calls = 500;
    let sum = 0;
    const warnings = await tlobWarningsDuring(() => {
      for (let i = 0; i < calls; i++) sum += target.f(i);
    }, 1100);
    probe.detach();
    expect(sum).toBe((calls * (calls + 1)) / 2);
    const shown = warnings.filter((w) => w.message.includes('entry broke'));
    expect(shown.length).toBeLessThanOrEqual(20);
    expect(shown.length + suppressedCount(warnings)).toBe(calls);
  });
});
