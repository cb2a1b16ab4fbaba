import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// node:bench exists from Node 26.9 on, behind --experimental-bench: a real run in a child process.

const root = fileURLToPath(new URL('../..', import.meta.url));
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const hasNodeBench = major > 26 || (major === 26 && minor >= 9);

it.skipIf(!hasNodeBench)(
  "nodeBenchSample records each node:bench sample with tlob's split as its detail",
  () => {
    const out = spawnSync(
      process.execPath,
      ['--experimental-bench', join(root, 'test/fixtures/bench/node-bench.mjs')],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(out.status, out.stderr).toBe(0);
    const samples: {
      name: string;
      durationNs: number;
      detail: Record<string, number | boolean>;
      descheduledNs: number;
    }[] = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '[]');
    const sleep = samples.filter((s) => s.name === 'sleep');
    const spin = samples.filter((s) => s.name === 'spin');
    expect(sleep.length).toBeGreaterThanOrEqual(8);
    expect(spin.length).toBeGreaterThanOrEqual(8);
    expect(sleep.filter((s) => s.detail.overBudget).length).toBeGreaterThanOrEqual(6);
    for (const s of sleep) {
      expect(s.durationNs).toBeGreaterThan(1.9e6);
      expect(s.detail.overBudget).toBe(s.durationNs >= 2e6);
      // a 3 ms timer: asleep for nearly all of it, less only by the time the thread waited for a
      // CPU before the window went to sleep (running, as it was inside the call); the fixture
      // measures the wait over the whole window, a bound on that part
      expect(s.detail.sleepingNs).toBeGreaterThan(1.5e6 - s.descheduledNs);
      const split = Number(s.detail.runningNs) + Number(s.detail.waitingNs) + Number(s.detail.sleepingNs);
      expect(Math.abs(split - s.durationNs)).toBeLessThan(1000);
    }
    for (const s of spin) {
      expect(s.detail.overBudget).toBe(false);
      expect(Number(s.detail.runningNs)).toBeGreaterThan(0.95e6);
      expect(s.detail.sleepingNs).toBe(0);
    }
  },
);
