import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { descheduledSource } from '../descheduled.js';
import { retry } from '../helpers.js';

const esm = new URL('../../dist/index.js', import.meta.url).href;
const cjs = new URL('../../dist/index.cjs', import.meta.url).pathname;

function run(args: string[]): { runningMs: number; sleepingMs: number; descheduledMs: number } {
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
}

/** The split of the top-level window, with the child's wait for a CPU while it ran as the slack. */
function expectTopLevelSplit(r: { runningMs: number; sleepingMs: number; descheduledMs: number }): void {
  expect(r.runningMs).toBeLessThan(3 + r.descheduledMs);
  expect(r.sleepingMs).toBeGreaterThanOrEqual(27 - r.descheduledMs);
  expect(r.sleepingMs).toBeLessThanOrEqual(33);
}

describe('a window started at the top level of a script', () => {
  it('ESM: the time the script then awaits counts as sleeping, not running', async () => {
    await retry(3, async () => {
      const r = run([
        '--input-type=module',
        '-e',
        `import { tlob } from ${JSON.stringify(esm)};
         import { createRequire } from 'node:module';
         const require = createRequire(import.meta.url);
         ${descheduledSource}
         const d0 = descheduled();
         const w = tlob.start({ budget: '1s', name: 'top' });
         await new Promise((r) => setTimeout(r, 30));
         const r = w.stop();
         const descheduledMs = descheduled() - d0;
         console.log(JSON.stringify({ runningMs: r.runningNs / 1e6, sleepingMs: r.sleepingNs / 1e6, descheduledMs }));`,
      ]);
      expectTopLevelSplit(r);
    });
  });

  it('CommonJS: the time until a timer callback stops it counts as sleeping', async () => {
    await retry(3, async () => {
      const r = run([
        '-e',
        `const { tlob } = require(${JSON.stringify(cjs)});
         ${descheduledSource}
         const d0 = descheduled();
         const w = tlob.start({ budget: '1s', name: 'top' });
         setTimeout(() => {
           const r = w.stop();
           const descheduledMs = descheduled() - d0;
           console.log(JSON.stringify({ runningMs: r.runningNs / 1e6, sleepingMs: r.sleepingNs / 1e6, descheduledMs }));
         }, 30);`,
      ]);
      expectTopLevelSplit(r);
    });
  });
});
