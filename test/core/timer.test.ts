import { createHook } from 'node:async_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TlobWindow, tlob } from '../../src/index.js';
import { collectViolations, sleep } from '../helpers.js';

beforeEach(() => {
  tlob.reactor('nop');
});
afterEach(() => {
  tlob.reactor('nop');
});

/** Counts `Timeout` resources created while `block` runs (unref'd timers are not in getActiveResourcesInfo). */
async function countTimeouts(block: () => Promise<void> | void): Promise<number> {
  let timeouts = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout') timeouts++;
    },
  });
  hook.enable();
  try {
    await block();
  } finally {
    hook.disable();
  }
  return timeouts;
}

describe('budget timer', () => {
  it('10,000 windows in flight hold one timer', async () => {
    const windows: TlobWindow[] = [];
    const created = await countTimeouts(() => {
      for (let i = 0; i < 10_000; i++) windows.push(tlob.start({ budget: '10s', name: 'many' }));
    });
    for (const w of windows.reverse()) w.stop();
    expect(created).toBe(1);
  });

  it('10,000 concurrent async runs hold one timer and report no violation', async () => {
    const seen = collectViolations();
    const created = await countTimeouts(async () => {
      await Promise.all(
        Array.from({ length: 10_000 }, () =>
          tlob.run('many-async', { budget: '10s' }, async () => {
            await null;
          }),
        ),
      );
    });
    seen.stop();
    expect(created).toBeLessThanOrEqual(1); // 0 when the timer armed by the previous test still covers these deadlines
    expect(seen.list).toHaveLength(0);
  });

  it('a shorter budget re-arms the timer for the earlier deadline', async () => {
    const seen = collectViolations();
    const long = tlob.run('long', { budget: '10s' }, () => tlob.start({ budget: '10s', name: 'long' }));
    const t0 = performance.now();
    tlob.run('short-holder', { budget: '10s' }, () => {
      tlob.start({ budget: '15ms', name: 'short' });
    });
    while (seen.list.length === 0 && performance.now() - t0 < 1000) await sleep(1);
    seen.stop();
    long.stop();
    expect(seen.list.map((v) => v.name)).toEqual(['short']);
    expect(performance.now() - t0).toBeLessThan(60);
  });

  it('the expiry is reported outside every window (it is not charged as running)', async () => {
    const results = await Promise.all([
      tlob.run('bystander', { budget: '10s' }, async () => {
        await sleep(40);
        return tlob.current()?.name;
      }),
      tlob.run('expirer-holder', { budget: '10s' }, async () => {
        tlob.start({ budget: '5ms', name: 'expirer' });
        await sleep(1);
      }),
    ]);
    expect(results[0]).toBe('bystander');
  });
});
