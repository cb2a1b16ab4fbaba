import { AsyncResource, createHook, executionAsyncId } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlob, type WindowResult } from '../../src/index.js';
import { descheduledMs } from '../descheduled.js';
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

/**
 * Ground truth for a window whose continuations' readiness the test cannot see (threadpool steps):
 * runs `start` (which opens the window and returns its result), then `meanwhile`, and traces, with a
 * hook of the test's own, every top-level continuation of what `start` set going, reading the loop's idle
 * counter at the edges of each gap between them. In a gap the window slept while the loop waited
 * idle for its completion, and waited the rest (a completion that came while the thread was busy).
 */
async function traceGaps<T>(
  start: () => Promise<T>,
  meanwhile: () => void,
): Promise<{ result: T; sleptMs: number; waitedMs: number }> {
  const idleMs = () => performance.nodeTiming.idleTime;
  const traced = new Set<number>();
  let tracing = true;
  let depth = 0;
  let inTraced = false;
  let sleptMs = 0;
  let waitedMs = 0;
  let gapAt = 0;
  let gapIdle = 0;
  const hook = createHook({
    init(id) {
      if (tracing || traced.has(executionAsyncId())) traced.add(id);
    },
    before(id) {
      if (depth++ > 0 || !traced.has(id)) return;
      const now = performance.now();
      const slept = idleMs() - gapIdle;
      sleptMs += slept;
      waitedMs += now - gapAt - slept;
      inTraced = true;
    },
    after() {
      if (depth === 0) return; // the continuation that enabled the hook
      if (--depth > 0 || !inTraced) return;
      inTraced = false;
      gapAt = performance.now();
      gapIdle = idleMs();
    },
  }).enable();
  try {
    const pending = start();
    tracing = false;
    gapAt = performance.now();
    gapIdle = idleMs();
    meanwhile();
    const result = await pending;
    return { result, sleptMs, waitedMs };
  } finally {
    hook.disable();
  }
}

async function acceptedSocket(accepted: { socket?: Socket }): Promise<Socket> {
  while (accepted.socket === undefined) await new Promise((r) => setTimeout(r, 1));
  return accepted.socket;
}

/**
 * Sleeps `forMs` on a timer; whether the loop waited idle meanwhile. A thread kept from a CPU for the
 * whole of a short sleep never gets to idle: nothing then tells a completion that came meanwhile
 * from one that came before (docs/accounting.md), and a scenario that needs an idle loop repeats.
 */
async function idledAfter(forMs: number): Promise<boolean> {
  const idle = performance.nodeTiming.idleTime;
  const from = performance.now();
  await new Promise<void>((r) =>
    setTimeout(() => {
      // the loop was busy for (now - from) - idle of it, all of which may have followed its last idle wait
      idleEndedBy = from + (performance.nodeTiming.idleTime - idle);
      r();
    }, forMs),
  );
  return performance.nodeTiming.idleTime > idle;
}

/**
 * The earliest moment at which the loop's last idle wait in the last `idledAfter` can have ended:
 * its timer's callback less the time the loop was not idle since `idledAfter` began (what the loop
 * did after the wait, or the thread waiting for a CPU once back from it; the wait for a CPU at the
 * wake-up itself is idle time to the loop).
 */
let idleEndedBy = 0;

/**
 * A window that connects to a loopback server and waits for its reply; once the window sleeps on
 * a loop that waited idle since the window's last transition, `scenario` runs with `reply`, which writes the
 * reply and returns when it was in the client's receive buffer (once `end` returns, on loopback);
 * `scenario` returns that moment. The read is waiting from then until its callback runs, however
 * late a busy machine lets the thread get to it. `waitedBefore`: what the window waited before
 * the reply, from its transitions (the connection's set-up, which is not what is measured).
 * `idleEndedBy`: the earliest end of the loop's last idle wait before the reply. Nothing tells a
 * window whether the reply came at the end of that wait or later (docs/accounting.md): the
 * estimate takes the busy period to begin there, so the read is waiting from at most then.
 */
async function socketRead(scenario: (reply: () => number) => Promise<number>): Promise<{
  r: WindowResult;
  readyAt: number;
  readAt: number;
  waitedBefore: number;
  idleEndedBy: number;
}> {
  const accepted: { socket?: Socket } = {};
  const server: Server = createServer((socket) => {
    accepted.socket = socket;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  let client: Socket | undefined;
  const waits: { from: number; to: number }[] = [];
  let wokeAt = 0;
  let lastTransitionAt = 0;
  const stopEvents = tlob.subscribe('event', (e) => {
    const t = e as { name: string; event: string; state: string; atNs: number };
    if (t.name !== 'socket') return;
    lastTransitionAt = ms(t.atNs);
    if (t.event === 'wakeup') wokeAt = ms(t.atNs);
    else if (t.event === 'switch_in' && t.state === 'waiting') waits.push({ from: wokeAt, to: ms(t.atNs) });
  });
  try {
    let readAt = 0;
    const done = measure(
      'socket',
      () =>
        new Promise<void>((resolve, reject) => {
          const c = connect(port, '127.0.0.1');
          client = c;
          c.on('data', () => {
            readAt = performance.now();
            resolve();
          });
          c.on('error', reject);
        }),
    );
    const serverSide = await acceptedSocket(accepted);
    let since: number;
    do since = performance.now();
    while (!(await idledAfter(2)) || lastTransitionAt > since);
    let idleEnded = 0;
    const readyAt = await scenario(() => {
      serverSide.end('pong');
      idleEnded = idleEndedBy;
      return performance.now();
    });
    const r = await done;
    const waitedBefore = waits.filter((w) => w.to < readyAt).reduce((sum, w) => sum + w.to - w.from, 0);
    return { r, readyAt, readAt, waitedBefore, idleEndedBy: idleEnded };
  } finally {
    stopEvents();
    client?.destroy();
    server.close();
  }
}

describe('readiness of continuations that are not timers', () => {
  it('a setImmediate yield while another call holds the thread for 20 ms: ~20 ms waiting, ~0 sleeping', async () => {
    await retry(5, async () => {
      let ranAt = 0;
      const openedAt = performance.now();
      const done = measure(
        'immediate',
        () =>
          new Promise<void>((r) =>
            setImmediate(() => {
              ranAt = performance.now();
              r();
            }),
          ),
      );
      const yieldedAt = performance.now();
      const held = hold(20);
      const r = await done;
      // ready since the yield: waiting until the callback ran, however late after the hold. The
      // yield is somewhere in the window's opening, between `openedAt` and `yieldedAt` (apart on a
      // thread kept from a CPU meanwhile)
      expect(ranAt - yieldedAt).toBeGreaterThanOrEqual(held);
      expect(ms(r.waitingNs)).toBeGreaterThanOrEqual(ranAt - yieldedAt - 2);
      expect(ms(r.waitingNs)).toBeLessThanOrEqual(ranAt - openedAt + 2);
      expect(ms(r.sleepingNs)).toBeLessThanOrEqual(2);
    });
  });

  it('fs.promises.readFile whose threadpool work completes while the thread is held: that time is waiting', async () => {
    await retry(5, async () => {
      let held = 0;
      let heldPreempted = 0;
      const descheduledFrom = descheduledMs();
      const traced = await traceGaps(
        () => measure('readFile', () => readFile(smallFile)),
        () => {
          const from = descheduledMs();
          held = hold(20);
          heldPreempted = descheduledMs() - from;
        },
      );
      const r = traced.result;
      // The first threadpool step (open) finished during the hold; the later ones ran on a loop
      // that waited idle for them, unless the thread was kept from a CPU meanwhile (which a window
      // counts as running, or as waiting when the loop never got to idle: docs/accounting.md).
      const preempted = descheduledMs() - descheduledFrom - heldPreempted;
      expect(traced.waitedMs).toBeGreaterThanOrEqual(held);
      expect(Math.abs(ms(r.waitingNs) - traced.waitedMs)).toBeLessThanOrEqual(3 + preempted);
      expect(Math.abs(ms(r.sleepingNs) - traced.sleptMs)).toBeLessThanOrEqual(3 + preempted);
    });
  });

  it('a loopback socket read whose data arrived while the thread was held: that time is waiting', async () => {
    await retry(5, async () => {
      const { r, readyAt, readAt, waitedBefore, idleEndedBy } = await socketRead(async (reply) => {
        // The thread is held once the reply is in: the read callback is ready but cannot run.
        const readyAt = reply();
        hold(20);
        return readyAt;
      });
      expect(readAt - readyAt).toBeGreaterThanOrEqual(20);
      // waiting from the reply at the latest, from the end of the loop's last idle wait at the earliest
      const waited = ms(r.waitingNs) - waitedBefore;
      expect(waited).toBeGreaterThanOrEqual(readAt - readyAt - 3);
      expect(waited).toBeLessThanOrEqual(readAt - idleEndedBy + 3);
      expect(ms(r.sleepingNs)).toBeGreaterThanOrEqual(2);
    });
  });

  it('work of no window before the loop waits idle for a socket read is not waiting for the read', async () => {
    await retry(5, async () => {
      let held = 0;
      const { r, readyAt, readAt, waitedBefore, idleEndedBy } = await socketRead(async (reply) => {
        held = hold(10); // outside every window, while the window sleeps
        while (!(await idledAfter(5))); // then the loop waits idle
        return reply();
      });
      // waiting from the reply at the latest, from the end of the loop's last idle wait (after the
      // hold) at the earliest
      const waited = ms(r.waitingNs) - waitedBefore;
      expect(waited).toBeGreaterThanOrEqual(readAt - readyAt - 3);
      expect(waited).toBeLessThanOrEqual(readAt - idleEndedBy + 3);
      expect(ms(r.sleepingNs)).toBeGreaterThanOrEqual(held);
    });
  });

  it('a promise resolved by another call at 5 ms, which then holds the thread until 25 ms: ~20 ms waiting', async () => {
    await retry(5, async () => {
      let resolveIt: () => void = () => {};
      const gate = new Promise<void>((r) => {
        resolveIt = r;
      });
      let resolvedAt = 0;
      let heldUntil = 0;
      let ranAt = 0;
      let spinPreempted = 0;
      const descheduledFrom = descheduledMs();
      const waiter = measure('awaits-gate', async () => {
        await gate;
        ranAt = performance.now();
      });
      const other = measure('resolver', async () => {
        await new Promise((r) => setTimeout(r, 5));
        resolvedAt = performance.now();
        resolveIt();
        const from = descheduledMs();
        spin(20);
        spinPreempted = descheduledMs() - from;
        heldUntil = performance.now();
      });
      const [r] = await Promise.all([waiter, other]);
      // the waiter's own running is next to nothing, but the thread kept from a CPU in it is running
      const preempted = descheduledMs() - descheduledFrom - spinPreempted;
      expect(ranAt).toBeGreaterThanOrEqual(heldUntil);
      expect(Math.abs(ms(r.waitingNs) - (ranAt - resolvedAt))).toBeLessThanOrEqual(2);
      expect(Math.abs(ms(r.sleepingNs) + ms(r.waitingNs) - ms(r.elapsedNs))).toBeLessThanOrEqual(
        1 + preempted,
      );
    });
  });

  it('a promise resolved by the timer callback of a window that broke its budget, behind a 30 ms hold: asleep until then', async () => {
    await retry(5, async () => {
      let resolveIt: () => void = () => {};
      const gate = new Promise<void>((r) => {
        resolveIt = r;
      });
      let resolvedAt = 0;
      let heldTo = 0;
      let ranAt = 0;
      const waiter = measure('awaits-expired', async () => {
        await gate;
        ranAt = performance.now();
      });
      const expired = tlob.run('expires-first', { budget: '2ms' }, async () => {
        await new Promise((r) => setTimeout(r, 8));
        resolvedAt = performance.now();
        resolveIt();
      });
      // a hold of no window from 1 ms to ~31 ms: the 8 ms timer, and the promise it resolves, wait for it
      setTimeout(() => {
        hold(30);
        heldTo = performance.now();
      }, 1);
      const [r] = await Promise.all([waiter, expired]);
      if (resolvedAt < heldTo) throw new Error('the timer ran before the hold (the hold began late)');
      // waiting from the resolution, in the expired window's callback, to the waiter's continuation
      expect(Math.abs(ms(r.waitingNs) - (ranAt - resolvedAt))).toBeLessThanOrEqual(2);
      expect(ms(r.sleepingNs)).toBeGreaterThan(heldTo - (ranAt - ms(r.elapsedNs)) - 2);
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
        const descheduledFrom = descheduledMs();
        const idleFrom = performance.nodeTiming.idleTime;
        const from = performance.now();
        const r = await measure('quiet', async () => {
          await readFile(smallFile);
          await new Promise<void>((resolve, reject) => {
            const c = connect(port, '127.0.0.1');
            c.on('data', () => {});
            c.on('end', () => resolve());
            c.on('error', reject);
          });
        });
        // ground truth of the sleep: the loop's idle time while the window was open (nothing else
        // is in flight; ~10 ms and more, unless the thread was kept from a CPU while the server's
        // 10 ms ran, in the window's code or the server's: that time is not idle)
        const idle = performance.nodeTiming.idleTime - idleFrom;
        // a thread kept from a CPU is not a free loop: a completion that came meanwhile waited
        const preempted = descheduledMs() - descheduledFrom;
        // nor is a loop that did work of its own beside the window's (the test runner's messages,
        // a collection, the server's side): the loop's busy time, less the window's running. A
        // run whose waiting past the tolerance that work can explain is retried with that reason.
        const busy = performance.now() - from - idle;
        const besides = busy - ms(r.runningNs) - preempted;
        const excess = ms(r.waitingNs) - 2 - preempted;
        if (excess > 0 && besides >= excess)
          throw new Error(`the loop was busy ${besides} ms beside the window: not a free loop`);
        expect(ms(r.sleepingNs), `idle ${idle} ms`).toBeGreaterThanOrEqual(idle - 1);
        expect(ms(r.waitingNs)).toBeLessThanOrEqual(2 + preempted);
      });
    } finally {
      server.close();
    }
  });

  it('a window that streams a file alone: the idle waits between its chunks are sleeping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlob-stream-'));
    const file = join(dir, 'data.bin');
    writeFileSync(file, randomBytes(8 << 20));
    const read = async () => {
      let n = 0;
      for await (const chunk of createReadStream(file)) n += (chunk as Buffer).length;
      return n;
    };
    try {
      await read(); // the file in the page cache, the code compiled
      await retry(3, async () => {
        // ground truth: the loop's idle time while the window was open (nothing else is
        // scheduled, so every moment the loop waited idle, the window was waiting on its file)
        const idleFrom = performance.nodeTiming.idleTime;
        const r = await measure('stream-alone', read);
        const idle = performance.nodeTiming.idleTime - idleFrom;
        // what of the idle time was not counted as sleeping (each chunk's idle wait of tens of µs)
        expect(idle - ms(r.sleepingNs), `idle ${idle} ms, sleeping ${ms(r.sleepingNs)} ms`).toBeLessThan(0.2);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('windows queued behind each other in one checkpoint (await of a settled promise, setImmediate) wait, and never run for each other', async () => {
    for (const yieldOnce of [() => null, () => new Promise((r) => setImmediate(r))]) {
      await retry(5, async () => {
        const spun: number[] = [];
        const waited: number[] = [];
        // each window's first piece, from before it opens to after it yielded: running too, and
        // apart from its yield by what a thread kept from a CPU meanwhile stretches
        const first: number[] = [];
        const yieldedAt: number[] = [];
        const returnedAt: number[] = [];
        const results = await Promise.all(
          [0, 1, 2].map((i) => {
            const openedAt = performance.now();
            const result = measure(`queued-${i}`, async () => {
              yieldedAt[i] = performance.now();
              await yieldOnce();
              const t = performance.now();
              waited[i] = t - (yieldedAt[i] as number);
              spin(5);
              spun[i] = performance.now() - t;
            });
            returnedAt[i] = performance.now();
            first[i] = (returnedAt[i] as number) - openedAt;
            return result;
          }),
        );
        results.forEach((r, i) => {
          expect(ms(r.runningNs)).toBeGreaterThanOrEqual((spun[i] as number) - 1);
          expect(ms(r.runningNs)).toBeLessThanOrEqual((spun[i] as number) + (first[i] as number) + 1);
          expect(ms(r.sleepingNs)).toBeLessThanOrEqual(1);
        });
        // each waits for the ones queued before it (and for whatever else kept the thread meanwhile),
        // from its yield, which is in its first piece between `yieldedAt` and the return
        const third = waited[2] as number;
        expect(third).toBeGreaterThanOrEqual((spun[0] as number) + (spun[1] as number));
        const waiting = ms((results[2] as WindowResult).waitingNs);
        expect(waiting).toBeLessThanOrEqual(third + 2);
        expect(waiting).toBeGreaterThanOrEqual(
          third - ((returnedAt[2] as number) - (yieldedAt[2] as number)) - 2,
        );
      });
    }
  });
});

describe('a continuation run inside another (AsyncResource scopes)', () => {
  it('a callback bound to a window, run by a timer of no window: its own time is running, the timer’s other work is not, and the nextTick it queued waits behind that work', async () => {
    await retry(5, async () => {
      let fire: () => void = () => {};
      const at = { start: 0, fired: 0, boundEnd: 0, timerEnd: 0, tick: 0 };
      let preempted = 0;
      // created before the window opens: a timer of no window, like a stream's `close` callback
      setTimeout(() => {
        at.fired = performance.now();
        const from = descheduledMs();
        fire();
        spin(10);
        preempted = descheduledMs() - from;
        at.timerEnd = performance.now();
      }, 20);
      at.start = performance.now();
      const r = await measure('bound', () => {
        return new Promise<void>((resolve) => {
          fire = AsyncResource.bind(() => {
            spin(10);
            at.boundEnd = performance.now();
            process.nextTick(() => {
              at.tick = performance.now();
              resolve();
            });
          });
        });
      });
      expect(at.tick).toBeGreaterThanOrEqual(at.timerEnd);
      expect(Math.abs(ms(r.sleepingNs) - (at.fired - at.start))).toBeLessThanOrEqual(2);
      expect(Math.abs(ms(r.runningNs) - (at.boundEnd - at.fired))).toBeLessThanOrEqual(2 + preempted);
      expect(Math.abs(ms(r.waitingNs) - (at.tick - at.boundEnd))).toBeLessThanOrEqual(2 + preempted);
    });
  });

  /**
   * Window `inner` awaits a callback bound to it that spins `innerMs` (recording when it ended in
   * `at.innerEnd`); window `outer` runs `outerBody(fireInner)` in a timer of its own at 10 ms.
   */
  function boundInOuter(
    innerMs: number,
    at: { innerEnd: number },
    outerBody: (fireInner: () => void) => void,
  ): Promise<WindowResult[]> {
    let fireInner: () => void = () => {};
    const inner = measure('inner', () => {
      return new Promise<void>((resolve) => {
        fireInner = AsyncResource.bind(() => {
          spin(innerMs);
          at.innerEnd = performance.now();
          resolve();
        });
      });
    });
    const outer = measure('outer', () => {
      return new Promise<void>((resolve) => {
        setTimeout(() => {
          outerBody(fireInner);
          resolve();
        }, 10);
      });
    });
    return Promise.all([inner, outer]);
  }

  it('a callback bound to one window, run inside another window’s callback: each runs its own part, the outer one waits meanwhile', async () => {
    await retry(5, async () => {
      const at = { fired: 0, innerEnd: 0, outerEnd: 0 };
      const from = descheduledMs();
      const [i, o] = (await boundInOuter(5, at, (fireInner) => {
        at.fired = performance.now();
        fireInner();
        spin(5);
        at.outerEnd = performance.now();
      })) as [WindowResult, WindowResult];
      // a thread kept from a CPU meanwhile is running to the window on it: allowed for
      const slack = 1.5 + descheduledMs() - from;
      const innerMs = at.innerEnd - at.fired;
      const outerMs = at.outerEnd - at.innerEnd;
      expect(Math.abs(ms(i.runningNs) - innerMs)).toBeLessThanOrEqual(slack);
      expect(Math.abs(ms(o.runningNs) - outerMs)).toBeLessThanOrEqual(slack);
      expect(Math.abs(ms(o.waitingNs) - innerMs)).toBeLessThanOrEqual(slack);
    });
  });

  it('a callback bound to one window, run after `tlob.start()` in another window’s callback: the started window and its parent wait meanwhile', async () => {
    await retry(5, async () => {
      const at = { started: 0, fired: 0, innerEnd: 0, stopped: 0 };
      let started: WindowResult | undefined;
      const from = descheduledMs();
      const [i, o] = (await boundInOuter(20, at, (fireInner) => {
        at.started = performance.now();
        const window = tlob.start({ budget: '10s', name: 'started' });
        spin(5);
        at.fired = performance.now();
        fireInner();
        spin(5);
        started = window.stop();
        at.stopped = performance.now();
      })) as [WindowResult, WindowResult];
      const slack = 1.5 + descheduledMs() - from;
      const innerMs = at.innerEnd - at.fired;
      const ownMs = at.stopped - at.started - innerMs;
      expect(Math.abs(ms(i.runningNs) - innerMs)).toBeLessThanOrEqual(slack);
      for (const r of [started as WindowResult, o]) {
        expect(Math.abs(ms(r.waitingNs) - innerMs)).toBeLessThanOrEqual(slack);
        expect(ms(r.runningNs)).toBeLessThanOrEqual(ownMs + slack + (r === o ? 1 : 0));
      }
    });
  });
});
