import { beforeAll, describe, expect, it } from 'vitest';
import { installFixture, runNode } from './preload-apps.js';

interface DualOutput {
  same: boolean;
  heard: number;
  stats: [string, number][];
}

const lastLine = (stdout: string) => stdout.trim().split('\n').at(-1) as string;

describe('a probe that meets itself through a second module path', () => {
  let dir = '';
  beforeAll(() => {
    dir = installFixture('dual-app');
  });

  for (const order of ['import-first', 'require-first']) {
    it(`a dual package whose ES entry wraps its CommonJS entry: no warning, each call counted once (${order})`, () => {
      const plain = runNode(dir, ['app.mjs', order]);
      expect(plain.status).toBe(0);
      const run = runNode(dir, ['--import', 'tlob/register', 'app.mjs', order], {
        TLOB_PROBES: 'p eventemitter3:EventEmitter.prototype.emit threshold=1s name=emit',
      });
      expect(run.stderr).not.toMatch(/Warning|Error/);
      expect(run.status).toBe(0);
      const output = JSON.parse(lastLine(run.stdout)) as DualOutput;
      expect(output.same).toBe(true);
      expect(output.heard).toBe(3);
      expect(output.stats).toEqual([['emit', 3]]);
    });
  }
});
