import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { tlob, type WindowResult, type WindowStart } from '../../src/index.js';

describe('tlob:start', () => {
  it('carries each window as it opens, in the context of the code that opened it', async () => {
    const marker = new AsyncLocalStorage<string>();
    const seen: { start: WindowStart; context: string | undefined }[] = [];
    const off = tlob.subscribe('start', (message) =>
      seen.push({ start: message as WindowStart, context: marker.getStore() }),
    );
    try {
      const before = performance.now() * 1e6;
      await marker.run('caller', () => tlob.run('start.channel', { budget: '20ms' }, async () => 1));
      const w = marker.run('other', () => tlob.start({ budget: '1s', name: 'start.manual' }));
      const stopped: WindowResult = w.stop();
      expect(seen.map((s) => [s.start.name, s.start.budgetNs, s.context])).toEqual([
        ['start.channel', 20_000_000, 'caller'],
        ['start.manual', 1_000_000_000, 'other'],
      ]);
      expect(seen[1]?.start.id).toBe(stopped.id);
      expect(seen[0]?.start.startNs).toBeGreaterThanOrEqual(before);
      expect(seen[0]?.start.startNs).toBeLessThanOrEqual(performance.now() * 1e6);
    } finally {
      off();
    }
  });

  it('publishes nothing for the inert windows of a disabled monitor', () => {
    const seen: unknown[] = [];
    const off = tlob.subscribe('start', (message) => seen.push(message));
    tlob.disable();
    try {
      tlob.start({ budget: '1s', name: 'start.off' }).stop();
      tlob.run('start.off', { budget: '1s' }, () => 1);
    } finally {
      tlob.enable();
      off();
    }
    expect(seen).toEqual([]);
  });
});
