import { readdirSync, readFileSync } from 'node:fs';
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

describe('one helper for every warning', () => {
  it('every warning is also published on tlob:warning, with its code and message, even those the rate limit keeps from printing', async () => {
    tlob.reactor(() => {
      throw new Error('reactor broke again');
    });
    const published: { code: string; message: string; where?: string; error?: unknown }[] = [];
    const stop = tlob.subscribe('warning', (m) => published.push(m as (typeof published)[number]));
    let warnings: Warning[] = [];
    try {
      warnings = await tlobWarningsDuring(() => {
        for (let i = 0; i < 15; i++) tlob.run('published', { budget: '1ms' }, () => spin(1.5));
      }, 1100);
    } finally {
      stop();
    }
    const hookErrors = published.filter((m) => m.code === 'TLOB_HOOK_ERROR');
    expect(hookErrors).toHaveLength(15);
    expect(hookErrors[0]).toEqual({
      code: 'TLOB_HOOK_ERROR',
      message: 'tlob: tlob reactor threw: reactor broke again',
      where: 'tlob reactor',
      error: expect.objectContaining({ message: 'reactor broke again' }),
    });
    // the notice of what the limit suppressed goes to the channel too
    const notices = published.filter((m) => m.code === 'TLOB_WARNINGS_SUPPRESSED');
    expect(notices.map((m) => m.message)).toEqual(
      warnings.filter((w) => w.code === 'TLOB_WARNINGS_SUPPRESSED').map((w) => w.message),
    );
    expect(notices.length).toBeGreaterThanOrEqual(1);
  });

  it('no module of src/ emits a process warning but the helper, and every code is documented in docs/channels.md', () => {
    const src = new URL('../../src/', import.meta.url);
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const emitting = files.filter((f) =>
      /process\.emitWarning\(/.test(readFileSync(new URL(f, src), 'utf8')),
    );
    expect(emitting).toEqual(['report/tlob-warning.ts']);
    const helper = readFileSync(new URL('report/tlob-warning.ts', src), 'utf8');
    const union = /export type TlobWarningCode =([^;]+);/.exec(helper)?.[1] ?? '';
    const codes = [...union.matchAll(/'(TLOB_[A-Z_]+)'/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThanOrEqual(7);
    const docs = readFileSync(new URL('../../docs/channels.md', import.meta.url), 'utf8');
    for (const code of codes) expect(docs, code).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, 'm'));
  });
});
