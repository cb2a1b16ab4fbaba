import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { retry } from '../helpers.js';

const esm = new URL('../../dist/index.js', import.meta.url).href;
const cjs = new URL('../../dist/index.cjs', import.meta.url).pathname;

function run(args: string[]): { runningMs: number; sleepingMs: number } {
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
}

describe('a window started at the top level of a script', () => {
  it('ESM: the time the script then awaits counts as sleeping, not running', async () => {
    await retry(3, async () => {
      const r = run([
        '--input-type=module',
        '-e',
        `import { tlob } from ${JSON.stringify(esm)};
         const w = tlob.start({ budget: '1s', name: 'top' });
         await new Promise((r) => setTimeout(r, 30));
         const r = w.stop();
         console.log(JSON.stringify({ runningMs: r.runningNs / 1e6, sleepingMs: r.sleepingNs / 1e6 }));`,
      ]);
      expect(r.runningMs).toBeLessThan(3);
      expect(Math.abs(r.sleepingMs - 30)).toBeLessThanOrEqual(3);
    });
  });

  it('CommonJS: the time until a timer callback stops it counts as sleeping', async () => {
    await retry(3, async () => {
      const r = run([
        '-e',
        `const { tlob } = require(${JSON.stringify(cjs)});
         const w = tlob.start({ budget: '1s', name: 'top' });
         setTimeout(() => {
           const r = w.stop();
           console.log(JSON.stringify({ runningMs: r.runningNs / 1e6, sleepingMs: r.sleepingNs / 1e6 }));
         }, 30);`,
      ]);
      expect(r.runningMs).toBeLessThan(3);
      expect(Math.abs(r.sleepingMs - 30)).toBeLessThanOrEqual(3);
    });
  });
});
