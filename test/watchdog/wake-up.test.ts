import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { tlobModel } from '../../src/monitors/tlob/model.js';
import { SYNC_DEPTH, SYNC_IDLE } from '../../src/monitors/tlob/watchdog-hooks.js';
import { type BoardWindow, ThreadBoard } from '../../src/watchdog/board.js';
import * as layout from '../../src/watchdog/board-layout.js';
import { deadlineSplit } from '../../src/watchdog/deadline-split.js';
import { type WatchdogWorkerData, watchdogMain } from '../../src/watchdog/worker.js';
import { noteRetry, retry, sleep } from '../helpers.js';

/**
 * The thread checks whether the watchdog sleeps (`I_WAKE_AT`, `I_SYNC_IDLE`) with a plain load
 * after plain stores, so it may read the word as it was before the watchdog went to sleep and not
 * ring. These tests drive a board by hand against a real watchdog thread and publish a window
 * right after the watchdog went to sleep without ringing (the thread that read the old word): the
 * window must be reported all the same. A report is the watchdog's claim on the window's id (the
 * board's reactor is `nop`: no line is written). A real thread's stores are in flight for well
 * under a microsecond; this one publishes as soon as it sees the word change, and a window it
 * publishes before the watchdog's next look at the board must be found by that look. Whether it
 * did is read from the board's count of looks (`I_LOOKS`), not guessed from a clock: a machine that
 * kept this thread from its CPU past that look makes a trial that says nothing, run again.
 */

const nowNs = () => performance.now() * 1e6;

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
});

/** A board, and a watchdog thread reading it (no stacks, grace 5 ms), once that thread runs. */
async function watched(): Promise<{ board: ThreadBoard; i32: Int32Array }> {
  await worker?.terminate();
  const board = new ThreadBoard(
    () => {},
    { reactor: 'nop' },
    () => {},
  );
  const { port2 } = new MessageChannel();
  const workerData: WatchdogWorkerData = {
    channel: `tlob:watchdog:test:${Math.random()}`,
    graceMs: 5,
    stacks: false,
    abortAfterMs: 250,
    states: tlobModel.states.slice(),
    layout: { ...layout },
    boards: [
      {
        type: 'join',
        key: 'test',
        buffer: board.buffer,
        sites: board.sites,
        threadId: 0,
        osThreadId: 0,
        capture: '',
        names: board.names,
      },
    ],
    port: port2,
    runSignals: undefined,
    sessions: { buffer: new SharedArrayBuffer(8), count: 0, closing: 1 },
  };
  worker = new Worker(`(${watchdogMain.toString()})(${deadlineSplit.toString()})`, {
    eval: true,
    workerData,
    transferList: [port2],
  });
  const failed = new Promise((_, reject) => worker?.on('error', reject));
  // the watchdog thread reads the board once it has set the board's `I_JOINED`
  const { waitAsync } = Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number): { value: Promise<string> | string };
  };
  await Promise.race([waitAsync(board.i32, layout.I_JOINED, 0).value, failed]);
  return { board, i32: board.i32 };
}

/** A window that opened now and has been running since, as the deadline queue hands it to the board. */
function window(id: number, budgetMs: number): BoardWindow {
  const start = nowNs();
  return {
    id,
    name: 'late',
    budgetNs: budgetMs * 1e6,
    startNs: start,
    deadlineNs: start + budgetMs * 1e6,
    state: tlobModel.states.indexOf('running'),
    lastNs: start,
    waitingNs: 0,
    sleepingNs: 0,
    readyNs: Number.NaN,
  };
}

/** Writes a synchronous window as `CallSite.invoke` opens one: its slot, then the depth (no ring). */
function openSync(board: ThreadBoard, id: number, watchKey: number, start = nowNs()): void {
  board.slots[0] = id;
  board.slots[1] = watchKey;
  board.slots[2] = start;
  board.header[SYNC_DEPTH] = 1;
}

/**
 * A word of the board as a spin saw it change: the value that passed the test, and the watchdog's
 * count of looks at the board (`I_LOOKS`) read just before the last load that saw the word fail the
 * test (`looksBefore`: the change came after it, made by the look under way then or a later one)
 * and just before the load that saw it pass (`looksAtPass`: where a spin for the word's next
 * change starts from).
 */
interface Change {
  value: number;
  looksBefore: number;
  looksAtPass: number;
}

/**
 * Waits (spinning, to act within microseconds of the change) until `word` of the board passes
 * `test`. `looksBefore`: the count of looks read before the caller last saw the word fail the test
 * (an earlier spin's `looksAtPass`); by default the count at the call, which says nothing of when
 * a word that passes at once changed.
 */
async function until(
  i32: Int32Array,
  word: number,
  test: (value: number) => boolean,
  looksBefore?: number,
): Promise<Change> {
  const change = await seen(i32, word, test, 2000, looksBefore);
  if (change === undefined) throw new Error(`word ${word} stayed ${Atomics.load(i32, word)}`);
  return change;
}

/** `until` that gives up after `ms` (a passing value may come and go unseen): undefined then. */
async function seen(
  i32: Int32Array,
  word: number,
  test: (value: number) => boolean,
  ms: number,
  looksBefore = Atomics.load(i32, layout.I_LOOKS),
): Promise<Change | undefined> {
  const end = performance.now() + ms;
  for (;;) {
    const spinEnd = performance.now() + 50;
    do {
      const looks = Atomics.load(i32, layout.I_LOOKS);
      const value = Atomics.load(i32, word);
      if (test(value)) return { value, looksBefore, looksAtPass: looks };
      looksBefore = looks;
    } while (performance.now() < spinEnd);
    if (performance.now() > end) return undefined;
    await sleep(1); // let the test's own timers run between spins
  }
}

/**
 * Whether the watchdog's next look finds what this thread wrote since it saw `change`: no look at
 * the board began after the one that made the change, which is the look under way at `looksBefore`
 * (odd) or the next (even: it ends at the next even count). A later one counts against it too: the
 * answer errs on the side of a trial run again. The count is read by an atomic add (of 0), which
 * orders this thread's plain stores before the watchdog's next add, and the reads of its next look.
 */
function beforeNextLook(i32: Int32Array, change: Change): boolean {
  return Atomics.add(i32, layout.I_LOOKS, 0) <= (change.looksBefore | 1) + 1;
}

/** Waits until the watchdog claimed window `id` (reported it), or `ms` passed; returns the claim. */
async function claimOf(i32: Int32Array, ms: number): Promise<number> {
  const end = performance.now() + ms;
  while (Atomics.load(i32, layout.I_CLAIM) === 0 && performance.now() < end) await sleep(2);
  return Atomics.load(i32, layout.I_CLAIM);
}

/** Lets the thread's next publication skip its ring, as if it had read `I_WAKE_AT` before the watchdog wrote it. */
function muteNextRing(board: ThreadBoard): void {
  board.ring = () => {
    board.ring = ThreadBoard.prototype.ring;
  };
}

/**
 * Ends a trial as the thread does once it reported the violation: no window published, the claim
 * released, a ring (a ring still muted, the window having needed none, is let go).
 */
function release(board: ThreadBoard, i32: Int32Array): void {
  board.publishEarliest(undefined, 'nop');
  Atomics.store(i32, layout.I_CLAIM, 0);
  board.ring = ThreadBoard.prototype.ring;
  board.ring();
}

/**
 * Waits until the watchdog sleeps on the bell alone: nothing published, its looks after the last
 * windows (the board found empty although windows came and went, then the confirming one) are past.
 */
async function quiet(board: ThreadBoard, i32: Int32Array): Promise<void> {
  board.publishEarliest(undefined, 'nop');
  await until(i32, layout.I_WAKE_AT, (v) => v === layout.NO_WAKE);
  await until(i32, layout.I_SYNC_IDLE, (v) => v === 1);
  await sleep(60);
}

/**
 * Runs `trial` (numbered from 1) until five acted in time. A trial returns undefined when it acted
 * in time (it has checked its outcome), or why it did not: this thread was kept from its CPU past
 * the watchdog's moment, so the trial says nothing and is run again (at most 20 trials in all).
 */
async function fiveInTime(trial: (n: number) => Promise<string | undefined>): Promise<void> {
  let inTime = 0;
  for (let n = 1; inTime < 5; n++) {
    if (n > 20) throw new Error(`${n - 1 - inTime} of ${n - 1} trials came too late`);
    const late = await trial(n);
    if (late === undefined) inTime++;
    else noteRetry(`trial ${n} ${late}`);
  }
}

describe('watchdog: a window published just as the watchdog goes to sleep', () => {
  it('a queued deadline published without a ring right after the watchdog stopped watching the board is reported', () =>
    retry(3, async () => {
      const { board, i32 } = await watched();
      // a trial that missed the watchdog's planned look, or published past its confirming look, is run again
      await fiveInTime(async (trial) => {
        // windows came and went: the watchdog looks again soon, finds nothing new and goes to sleep
        board.publishEarliest(window(100 + trial, 10_000), 'nop');
        board.publishEarliest(undefined, 'nop');
        board.ring();
        const planned = await seen(i32, layout.I_WAKE_AT, (v) => v !== layout.NO_WAKE, 500); // it plans a look
        const slept = await until(i32, layout.I_WAKE_AT, (v) => v === layout.NO_WAKE, planned?.looksAtPass); // and after it, sleeps
        const id = trial;
        muteNextRing(board);
        board.publishEarliest(window(id, 20), 'nop');
        const inTime = beforeNextLook(i32, slept);
        // the thread holds the window past its deadline (it never publishes again): reported once
        const claim = await claimOf(i32, 500);
        release(board, i32);
        if (planned === undefined) return 'missed the planned look';
        if (!inTime) return 'published after the watchdog looked at the board again';
        expect(claim).toBe(id);
        return undefined;
      });
    }));

  it('a queued deadline published without a ring right after the watchdog raised its wake word to a later deadline is reported', () =>
    retry(3, async () => {
      const { board, i32 } = await watched();
      // a trial that published past the watchdog's next look is run again
      await fiveInTime(async (trial) => {
        await quiet(board, i32);
        // a window with a near deadline: the watchdog plans its look by it
        board.publishEarliest(window(200 + trial, 30), 'nop');
        const id = trial;
        let inTime = false;
        const planned = await seen(i32, layout.I_WAKE_AT, (v) => v !== layout.NO_WAKE, 500);
        if (planned !== undefined) {
          // it ends and one with a far deadline is the earliest: no ring; the watchdog's look raises the word
          board.publishEarliest(window(300 + trial, 10_000), 'nop');
          // spin until the raise shows and publish at once
          const raise = (v: number) => v > planned.value && v !== layout.NO_WAKE;
          const raised = await seen(i32, layout.I_WAKE_AT, raise, 500, planned.looksAtPass);
          if (raised !== undefined) {
            muteNextRing(board);
            board.publishEarliest(window(id, 20), 'nop');
            inTime = beforeNextLook(i32, raised);
          }
        }
        // the thread holds the window past its deadline (it never publishes again): reported once
        const claim = await claimOf(i32, 500);
        release(board, i32);
        // a thread kept from its CPU past the near deadline misses the plan and the raise
        if (!inTime) return 'published after the watchdog looked at the board again';
        expect(claim).toBe(id);
        return undefined;
      });
    }));

  it('the first synchronous window of a site with a smaller budget than any before, and the ones after it, ring the sleeping watchdog', async () => {
    const { board, i32 } = await watched();
    const wide = { watchBoard: undefined as unknown, watchKey: 0 };
    board.learn(wide, 'wide', 100e6);
    // synchronous windows came and went: the watchdog sets the idle flag and sleeps on the bell
    board.slots[0] = 100;
    board.wake();
    await until(i32, layout.I_SYNC_IDLE, (v) => v === 1);
    await sleep(30); // past its second look
    const narrow = { watchBoard: undefined as unknown, watchKey: 0 };
    board.learn(narrow, 'narrow', 20e6); // rings: the watchdog finds nothing open yet
    await sleep(30);
    for (let id = 1; id <= 3; id++) {
      // as `CallSite.invoke` opens a window: its slot, the depth, then the idle flag
      openSync(board, id, narrow.watchKey);
      if (board.header[SYNC_IDLE] !== 0) board.wake();
      expect(await claimOf(i32, 500)).toBe(id);
      board.header[SYNC_DEPTH] = 0;
      Atomics.store(i32, layout.I_CLAIM, 0);
      board.ring();
      // the watchdog goes back to sleep on the bell before the next window
      await until(i32, layout.I_SYNC_IDLE, (v) => v === 1);
      await sleep(30);
    }
  });

  it('a synchronous window opened without a ring right after the watchdog set the idle flag is reported', () =>
    retry(3, async () => {
      const { board, i32 } = await watched();
      const site = { watchBoard: undefined as unknown, watchKey: 0 };
      board.learn(site, 'late', 20e6);
      // a trial that opened past the watchdog's next look is run again
      await fiveInTime(async (trial) => {
        // synchronous windows came and went: the watchdog finds none open and sets the idle flag
        board.slots[0] = 100 + trial;
        const looks = Atomics.load(i32, layout.I_LOOKS);
        board.wake(); // the flag is 0 from here on until the watchdog sets it
        const idle = await until(i32, layout.I_SYNC_IDLE, (v) => v === 1, looks);
        // a window opens as `CallSite.invoke` writes it, but reads the flag as it was before (0): no wake
        const id = trial;
        openSync(board, id, site.watchKey);
        const inTime = beforeNextLook(i32, idle);
        const claim = await claimOf(i32, 500);
        board.header[SYNC_DEPTH] = 0;
        Atomics.store(i32, layout.I_CLAIM, 0);
        board.ring();
        if (!inTime) return 'opened after the watchdog looked at the board again';
        expect(claim).toBe(id);
        return undefined;
      });
    }));
});

describe('watchdog: a look at a synchronous window that comes due between two plans', () => {
  it('a synchronous window whose due look passed while bells kept the watchdog replanning is reported at once, not a polling period later', () =>
    retry(3, async () => {
      const { board, i32 } = await watched();
      // one site, with a budget far above the shortest polling period: the watchdog polls every 200 ms
      const site = { watchBoard: undefined as unknown, watchKey: 0 };
      board.learn(site, 'held', 200e6);
      for (let id = 1; id <= 3; id++) {
        await until(i32, layout.I_SYNC_IDLE, (v) => v === 1);
        await sleep(30); // past its confirming look: it sleeps on the bell
        const start = nowNs();
        openSync(board, id, site.watchKey, start);
        if (board.header[SYNC_IDLE] !== 0) board.wake();
        const deadline = start / 1e6 + 200;
        await sleep(Math.max(0, deadline - 5 - performance.now()));
        // bells (another thread's board, a name sent) keep the watchdog planning again: a look it
        // planned by the window's deadline may come due before its timer fires, in such a plan
        while (performance.now() < deadline + 20) {
          board.ring();
          const next = performance.now() + 0.1;
          while (performance.now() < next) {
            // between two bells
          }
        }
        // reported by the next look, not by the next poll 200 ms on
        expect(await claimOf(i32, 150)).toBe(id);
        board.header[SYNC_DEPTH] = 0;
        Atomics.store(i32, layout.I_CLAIM, 0);
        board.ring();
      }
    }));
});
