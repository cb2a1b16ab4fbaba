import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlob, type WindowResult } from '../../src/index.js';
import { ms, retry, spin } from '../helpers.js';

beforeAll(() => {
  tlob.reactor('nop');
});
afterAll(() => {
  tlob.reactor('log');
});

/** Opens a window around `fn`; resolves with its result. */
function measure(name: string, fn: () => Promise<unknown>): Promise<WindowResult> {
  return new Promise((resolve, reject) => {
    tlob.run(name, { budget: '10s', onStop: resolve }, fn).catch(reject);
  });
}

/** Holds the thread for ~`target` ms outside every window; returns how long it really held it. */
function hold(target: number): number {
  const t0 = performance.now();
  spin(target);
  return performance.now() - t0;
}

const smallFile = fileURLToPath(import.meta.url);

async function acceptedSocket(accepted: { socket?: Socket }): Promise<Socket> {
  while (accepted.socket === undefined) await new Promise((r) => setTimeout(r, 1));
  return accepted.socket;
}

describe('readiness of continuations that are not timers', () => {
  it('a setImmediate yield while another call holds the thread for 20 ms: ~20 ms waiting, ~0 sleeping', async () => {
    await retry(5, async () => {
      const done = measure('immediate', () => new Promise((r) => setImmediate(r)));
      const held = hold(20);
      const r = await done;
      expect(Math.abs(ms(r.waitingNs) - held)).toBeLessThanOrEqual(2);
      expect(ms(r.sleepingNs)).toBeLessThanOrEqual(2);
    });
  });

  it('fs.promises.readFile whose threadpool work completes while the thread is held: that time is waiting', async () => {
    await retry(5, async () => {
      const done = measure('readFile', () => readFile(smallFile));
      const held = hold(20);
      const r = await done;
      // the first threadpool step (open) finished during the hold; the later ones ran on a free loop
      expect(Math.abs(ms(r.waitingNs) - held)).toBeLessThanOrEqual(3);
      expect(ms(r.sleepingNs)).toBeLessThanOrEqual(3);
    });
  });

  it('a loopback socket read whose data arrived while the thread was held: that time is waiting', async () => {
    const accepted: { socket?: Socket } = {};
    const server: Server = createServer((socket) => {
      accepted.socket = socket;
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      await retry(5, async () => {
        accepted.socket = undefined;
        const done = measure(
          'socket',
          () =>
            new Promise<void>((resolve, reject) => {
              const c = connect(port, '127.0.0.1');
              c.on('data', () => c.destroy());
              c.on('close', () => resolve());
              c.on('error', reject);
            }),
        );
        const serverSide = await acceptedSocket(accepted);
        await new Promise((r) => setTimeout(r, 2)); // the window sleeps on a quiet loop
        // The reply reaches the client's socket at once; the thread is then held, so the client's
        // read callback is ready but cannot run.
        serverSide.end('pong');
        const held = hold(20);
        const r = await done;
        expect(Math.abs(ms(r.waitingNs) - held)).toBeLessThanOrEqual(3);
        expect(ms(r.sleepingNs)).toBeGreaterThanOrEqual(2);
      });
    } finally {
      server.close();
    }
  });

  it('a promise resolved by another call at 5 ms, which then holds the thread until 25 ms: ~20 ms waiting', async () => {
    await retry(5, async () => {
      let resolveIt: () => void = () => {};
      const gate = new Promise<void>((r) => {
        resolveIt = r;
      });
      let resolvedAt = 0;
      let heldUntil = 0;
      const waiter = measure('awaits-gate', async () => {
        await gate;
      });
      const other = measure('resolver', async () => {
        await new Promise((r) => setTimeout(r, 5));
        resolvedAt = performance.now();
        resolveIt();
        spin(20);
        heldUntil = performance.now();
      });
      const [r] = await Promise.all([waiter, other]);
      expect(Math.abs(ms(r.waitingNs) - (heldUntil - resolvedAt))).toBeLessThanOrEqual(2);
      expect(Math.abs(ms(r.sleepingNs) + ms(r.waitingNs) - ms(r.elapsedNs))).toBeLessThanOrEqual(1);
    });
  });

  it('an I/O wait on a free loop stays sleeping', async () => {
    // a server outside the window that answers 10 ms after it is asked
    const server = createServer((s) => {
      setTimeout(() => s.end('x'), 10);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      await retry(5, async () => {
        const r = await measure('quiet', async () => {
          await readFile(smallFile);
          await new Promise<void>((resolve, reject) => {
            const c = connect(port, '127.0.0.1');
            c.on('data', () => {});
            c.on('end', () => resolve());
            c.on('error', reject);
          });
        });
        expect(ms(r.sleepingNs)).toBeGreaterThanOrEqual(9);
        expect(ms(r.waitingNs)).toBeLessThanOrEqual(2);
      });
    } finally {
      server.close();
    }
  });

  it('windows queued behind each other in one checkpoint (await of a settled promise, setImmediate) wait, and never run for each other', async () => {
    for (const yieldOnce of [() => null, () => new Promise((r) => setImmediate(r))]) {
      await retry(5, async () => {
        const spun: number[] = [];
        const results = await Promise.all(
          [0, 1, 2].map((i) =>
            measure(`queued-${i}`, async () => {
              await yieldOnce();
              const t = performance.now();
              spin(5);
              spun[i] = performance.now() - t;
            }),
          ),
        );
        results.forEach((r, i) => {
          expect(Math.abs(ms(r.runningNs) - (spun[i] as number))).toBeLessThanOrEqual(1);
          expect(ms(r.sleepingNs)).toBeLessThanOrEqual(1);
        });
        // each waits for the ones queued before it
        expect(
          Math.abs(ms((results[2] as WindowResult).waitingNs) - ((spun[0] as number) + (spun[1] as number))),
        ).toBeLessThanOrEqual(2);
      });
    }
  });
});
