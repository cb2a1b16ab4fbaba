import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const dist = new URL('../../dist/index.js', import.meta.url).href;

/**
 * Runs windows back to back in a fresh process with the watchdog on, each awaiting a 3 ms timer,
 * for `forMs`, then lets the loop idle until the watchdog thread is up. Returns, for the moment the
 * thread was created (Node's `'worker'` event fires inside `new Worker`), whether one of those
 * windows was open and how long after the first window opened; and each window's waiting.
 */
function startAround(forMs: number): { whileOpen: boolean; afterMs: number; waitingMs: number[] } {
  const script = `
    const { tlob } = await import(${JSON.stringify(dist)});
    tlob.watchdog(true);
    let open = false;
    let first = 0;
    let created;
    process.on('worker', () => { created ??= { whileOpen: open, afterMs: performance.now() - first }; });
    const waitingMs = [];
    first = performance.now();
    while (performance.now() - first < ${forMs}) {
      open = true;
      const r = await new Promise((resolve) =>
        tlob.run('w', { budget: '1s', onStop: resolve }, () => new Promise((done) => setTimeout(done, 3))));
      open = false;
      waitingMs.push(r.waitingNs / 1e6);
    }
    while (!tlob.watchdog().running) await new Promise((resolve) => setTimeout(resolve, 5));
    console.log(JSON.stringify({ ...created, waitingMs }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out);
}

describe('the watchdog thread is created', () => {
  it('in a turn with no window open: no window is charged the 5–14 ms that new Worker holds the thread', () => {
    // windows back to back for 40 ms leave no turn free: the thread comes once they stop
    const seen = startAround(40);
    expect(seen.whileOpen, JSON.stringify(seen)).toBe(false);
    expect(seen.afterMs).toBeGreaterThanOrEqual(40);
  });

  it('while windows are open when none has left a turn free for 100 ms', () => {
    const seen = startAround(300);
    expect(seen.whileOpen, JSON.stringify(seen)).toBe(true);
    expect(seen.afterMs).toBeGreaterThanOrEqual(100);
    expect(seen.afterMs).toBeLessThan(300);
  });
});
