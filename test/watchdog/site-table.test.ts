import { channel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import type { WatchedSite } from '../../src/monitors/tlob/watchdog-hooks.js';
import { ThreadBoard } from '../../src/watchdog/board.js';
import { SITES_INITIAL, SITES_MAX } from '../../src/watchdog/board-layout.js';

/** A site as `CallSite` is one to the board. */
const site = (): WatchedSite => ({ watchBoard: undefined, watchKey: 0 });

describe("the board's table of sites", () => {
  it('gives each distinct name and budget a key, grows past its first entries, and says once when it is full', () => {
    const board = new ThreadBoard(
      () => {},
      { reactor: 'nop' },
      () => {},
    );
    const warnings: { code: string; message: string }[] = [];
    const onWarning = (message: unknown) => warnings.push(message as { code: string; message: string });
    channel('tlob:warning').subscribe(onWarning);
    try {
      const first = site();
      board.learn(first, 'a', 5e7);
      const again = site();
      board.learn(again, 'a', 5e7);
      const otherBudget = site();
      board.learn(otherBudget, 'a', 6e7);
      expect(again.watchKey).toBe(first.watchKey);
      expect(otherBudget.watchKey).not.toBe(first.watchKey);
      const initialBytes = board.sites.byteLength;
      for (let i = 2; i < SITES_MAX; i++) board.learn(site(), `s${i}`, 5e7);
      expect(board.sites.byteLength).toBeGreaterThan(initialBytes * 2);
      expect(SITES_MAX).toBeGreaterThan(SITES_INITIAL);
      expect(warnings.filter((w) => w.code === 'TLOB_WATCHDOG')).toEqual([]);
      const past = site();
      board.learn(past, 'one too many', 5e7);
      board.learn(site(), 'and another', 5e7);
      expect(past.watchKey).toBe(-1);
      const full = warnings.filter((w) => w.code === 'TLOB_WATCHDOG');
      expect(full).toHaveLength(1);
      expect(full[0]?.message).toMatch(/at most 65536 distinct names and budgets.*"one too many"/);
    } finally {
      channel('tlob:warning').unsubscribe(onWarning);
    }
  });
});
