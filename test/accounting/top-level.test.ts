import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { descheduledSource } from '../descheduled.js';
import { retry } from '../helpers.js';

const esm = new URL('../../dist/index.js', import.meta.url).href;
const cjs = new URL('../../dist/index.cjs', import.meta.url).pathname;

interface TopLevelSplit {
  runningMs: number;
  sleepingMs: number;
  /** The child's wait for a CPU while the window was open. */
  descheduledMs: number;
  /** What the window's code held the thread, as the script measured it: from the start to the end
   * of the synchronous run (a microtask queued after the start runs after the window's switch-out),
   * and from the continuation's start to the stop. */
  heldMs: number;
  /** From the start to the end of the synchronous run, when the window was switched out at the latest. */
  yieldMs: number;
}

function run(args: string[]): TopLevelSplit {
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
}

/** The split of the top-level window, with what its code measured and the child's wait for a CPU as the slack. */
function expectTopLevelSplit(r: TopLevelSplit): void {
  expect(r.runningMs).toBeLessThan(Math.max(3, r.heldMs + 1) + r.descheduledMs);
  // asleep from the end of the synchronous run until the 30 ms timer is due
  expect(r.sleepingMs).toBeGreaterThanOrEqual(27 - r.yieldMs - r.descheduledMs);
  expect(r.sleepingMs).toBeLessThanOrEqual(33);
}

/**
 * The script's part before its wait (after `tlob` is imported): it opens the top-level window, and
 * defines `stopAndPrint(resumedAt)`, which stops the window in the continuation that began at
 * `resumedAt` and prints its split with what the script measured (`TopLevelSplit`).
 */
const openWindow = `${descheduledSource}
         const d0 = descheduled();
         const startedAt = performance.now();
         const w = tlob.start({ budget: '1s', name: 'top' });
         let switchedOutBy = 0;
         queueMicrotask(() => { switchedOutBy = performance.now(); });
         const stopAndPrint = (resumedAt) => {
           const r = w.stop();
           const yieldMs = switchedOutBy - startedAt;
           const heldMs = yieldMs + performance.now() - resumedAt;
           const descheduledMs = descheduled() - d0;
           console.log(JSON.stringify({ runningMs: r.runningNs / 1e6, sleepingMs: r.sleepingNs / 1e6, descheduledMs, heldMs, yieldMs }));
         };`;

describe('a window started at the top level of a script', () => {
  it('ESM: the time the script then awaits counts as sleeping, not running', async () => {
    await retry(3, async () => {
      const r = run([
        '--input-type=module',
        '-e',
        `import { tlob } from ${JSON.stringify(esm)};
         ${openWindow}
         await new Promise((r) => setTimeout(r, 30));
         stopAndPrint(performance.now());`,
      ]);
      expectTopLevelSplit(r);
    });
  });

  it('CommonJS: the time until a timer callback stops it counts as sleeping', async () => {
    await retry(3, async () => {
      const r = run([
        '-e',
        `const { tlob } = require(${JSON.stringify(cjs)});
         ${openWindow}
         setTimeout(() => stopAndPrint(performance.now()), 30);`,
      ]);
      expectTopLevelSplit(r);
    });
  });
});
