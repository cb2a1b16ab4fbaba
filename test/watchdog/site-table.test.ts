import { channel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import type { WatchedSite } from '../../src/monitors/tlob/watchdog-hooks.js';
import { MAX_NAMES } from '../../src/report/stats.js';
import { ThreadBoard } from '../../src/watchdog/board.js';
import { I_NAME, SITE_FIELDS, SITES_INITIAL, SITES_MAX } from '../../src/watchdog/board-layout.js';

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

describe("the board's names", () => {
  /** A board, and its names as the watchdog learns them (by index, each new one sent once). */
  function watched() {
    const seen: string[] = [];
    const board = new ThreadBoard(
      (index, name) => {
        seen[index] = name;
      },
      { reactor: 'nop' },
      () => {},
    );
    let id = 0;
    const publish = (name: string) => {
      board.publishEarliest(
        {
          id: ++id,
          name,
          deadlineNs: 1e12,
          startNs: 0,
          budgetNs: 1e9,
          state: 0,
          lastNs: 0,
          waitingNs: 0,
          sleepingNs: 0,
          readyNs: Number.NaN,
        },
        'nop',
      );
      return seen[board.i32[I_NAME] as number];
    };
    return { board, seen, publish };
  }

  it('stay bounded when every window has a name of its own, and the published one is always named right', () => {
    const { board, seen, publish } = watched();
    const site = (): WatchedSite => ({ watchBoard: undefined, watchKey: 0 });
    const first = site();
    board.learn(first, 'a site', 5e7);
    for (let i = 0; i < 20_000; i++) expect(publish(`/users/${i}`)).toBe(`/users/${i}`);
    expect(board.names.length).toBeLessThanOrEqual(MAX_NAMES + 64 + 1);
    expect(seen.length).toBe(board.names.length);
    // names seen before are found again, kept or shared
    expect(publish('/users/5')).toBe('/users/5');
    expect(publish('/users/19999')).toBe('/users/19999');
    expect(publish('a site')).toBe('a site');
    // a site's name keeps its slot for good, even one that had a shared slot when it was learnt
    const late = site();
    board.learn(late, '/users/19998', 5e7);
    for (let i = 0; i < 1000; i++) publish(`/items/${i}`);
    const sites = new Float64Array(board.sites);
    expect(seen[sites[SITE_FIELDS * first.watchKey] as number]).toBe('a site');
    expect(seen[sites[SITE_FIELDS * late.watchKey] as number]).toBe('/users/19998');
    expect(publish('/users/19998')).toBe('/users/19998');
  });
});
