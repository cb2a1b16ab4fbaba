import { describe, expect, it } from 'vitest';
import { toBenchmarkAction } from '../../src/bench/benchmark-action.js';
import { Bench, nodeBenchSample } from '../../src/bench/index.js';
import { quantile } from '../../src/bench/statistics.js';
import { tlob } from '../../src/index.js';
import { descheduledMs } from '../descheduled.js';
import { ms, retry, spin } from '../helpers.js';

// Ground truth is measured inside each task: how long the spin really ran, when the timer really
// fired. Timing scenarios are retried, since the machine is shared.

const median = (values: number[]): number => quantile(Float64Array.from(values).sort(), 0.5);
const fast = { time: 150, iterations: 20, warmupTime: 20, warmupIterations: 4, progress: false };

describe('Bench: the split of each iteration against ground truth', () => {
  it('a 2 ms spin reports running p50 ≈ 2 ms and sleeping ≈ 0', async () => {
    await retry(3, async () => {
      // per iteration: what its body really took (the spin, and the readings around it), and the
      // thread's wait for a CPU around the body (from the end of one call to the start of the
      // next: the harness's own part of both)
      const bodies: number[] = [];
      const descheduled: { from: number; to: number }[] = [];
      const bench = new Bench(fast).add('spin', () => {
        const t0 = performance.now();
        const from = descheduledMs();
        spin(2);
        const to = descheduledMs();
        bodies.push(performance.now() - t0);
        descheduled.push({ from, to });
      });
      const [task] = (await bench.run()).tasks;
      if (task === undefined) throw new Error('no task');
      const n = task.samples;
      const truth = median(bodies.slice(-n));
      expect(task.state).toBe('completed');
      expect(task.samples).toBeGreaterThanOrEqual(20);
      // An iteration is its body and a little of the harness around it; a loaded machine stretches
      // the bodies (so their spread), and the harness's part of the iterations it preempted there.
      // Each such iteration can move the p50 up by one rank of the bodies: the bound allows as many.
      const last = descheduled.slice(-n - 1);
      let disturbed = 0;
      for (let i = 1; i < last.length; i++) {
        const before = (last[i] as { from: number }).from - (last[i - 1] as { to: number }).to;
        const after =
          i + 1 < last.length ? (last[i + 1] as { from: number }).from - (last[i] as { to: number }).to : 0;
        if (before > 0.01 || after > 0.01) disturbed++;
      }
      const upTo = quantile(
        Float64Array.from(bodies.slice(-n)).sort(),
        Math.min(1, 0.5 + disturbed / (n - 1)),
      );
      for (const p50 of [ms(task.running.p50), ms(task.elapsed.p50)]) {
        expect(p50).toBeGreaterThan(truth - 0.3);
        expect(p50).toBeLessThan(upTo + 0.3);
      }
      expect(ms(task.sleeping.p99)).toBeLessThan(0.2);
      expect(ms(task.waiting.p99)).toBeLessThan(0.2);
    });
  });

  it('a 3 ms timer sleep reports sleeping p50 ≈ 3 ms and running small', async () => {
    await retry(3, async () => {
      const slept: number[] = [];
      const bench = new Bench(fast).add('sleep', async () => {
        const t0 = performance.now();
        await new Promise<void>((resolve) =>
          setTimeout(() => {
            slept.push(performance.now() - t0);
            resolve();
          }, 3),
        );
      });
      const [task] = (await bench.run()).tasks;
      if (task === undefined) throw new Error('no task');
      const truth = median(slept.slice(-task.samples));
      expect(truth).toBeGreaterThanOrEqual(3);
      // asleep until the timer was due (known to ~1 ms: Node keeps it on libuv's millisecond loop
      // clock); the callback's lateness after that counts as waiting
      expect(Math.abs(ms(task.sleeping.p50) - 3)).toBeLessThan(1);
      expect(ms(task.sleeping.p50 + task.waiting.p50)).toBeGreaterThan(truth - 0.5);
      expect(Math.abs(ms(task.elapsed.p50) - truth)).toBeLessThan(0.5);
      expect(ms(task.running.p50)).toBeLessThan(0.3);
      expect(task.violations).toBe(0);
      expect(task.budgetNs).toBeNull();
    });
  });

  it('a 2 ms budget on the 3 ms sleep flags nearly every iteration, with the worst one recorded', async () => {
    const bench = new Bench({ ...fast, budget: '2ms' }).add(
      'sleep',
      () => new Promise((r) => setTimeout(r, 3)),
    );
    const [task] = (await bench.run()).tasks;
    if (task === undefined) throw new Error('no task');
    expect(task.budgetNs).toBe(2_000_000);
    expect(task.violationRate).toBeGreaterThan(0.9);
    expect(task.violations).toBe(Math.round(task.violationRate * task.samples));
    const worst = task.worstViolation;
    expect(worst).not.toBeNull();
    expect(worst?.elapsedNs).toBe(task.elapsed.max);
    expect(worst?.overByNs).toBe((worst?.elapsedNs ?? 0) - 2_000_000);
    // the split of the worst iteration is complete, not cut at the budget
    const sum = (worst?.runningNs ?? 0) + (worst?.waitingNs ?? 0) + (worst?.sleepingNs ?? 0);
    expect(Math.abs(sum - (worst?.elapsedNs ?? 0))).toBeLessThan(1000);
  });

  it('a task budget overrides the bench budget', async () => {
    const bench = new Bench({ ...fast, time: 20, budget: '1ms' }).add(
      'sleep',
      () => new Promise((r) => setTimeout(r, 3)),
      {
        budget: '1s',
      },
    );
    const [task] = (await bench.run()).tasks;
    expect(task?.budgetNs).toBe(1e9);
    expect(task?.violations).toBe(0);
  });

  it('concurrency 8 on spin 1 ms + sleep 5 ms shows waiting, and Σ running stays within the wall time', async () => {
    await retry(3, async () => {
      const bench = new Bench({ ...fast, concurrency: 8, time: 200, iterations: 40 }).add(
        'mixed',
        async () => {
          spin(1);
          await new Promise((r) => setTimeout(r, 5));
        },
      );
      const [task] = (await bench.run()).tasks;
      if (task === undefined) throw new Error('no task');
      expect(task.concurrency).toBe(8);
      expect(task.waiting.mean).toBeGreaterThan(0);
      // 8 in flight and 1 ms of CPU each: an iteration queues behind several others' spins
      expect(ms(task.waiting.p50)).toBeGreaterThan(0.5);
      expect(task.running.mean * task.samples).toBeLessThanOrEqual(task.wallNs);
      expect(ms(task.running.p50)).toBeGreaterThan(0.8);
      // several iterations in flight at once: more iterations per second than one at a time allows
      expect(task.throughput.opsPerSecond).toBeGreaterThan(1000 / 6);
    });
  });
});

describe('Bench: running a function', () => {
  it('calls a synchronous function synchronously: no microtask turn between iterations', async () => {
    let turns = 0;
    let calls = 0;
    let pending = false;
    // many iterations, by count: a thread kept from a CPU for the 10 ms makes fewer by time
    const bench = new Bench({ ...fast, time: 10, iterations: 200, warmup: false }).add('sync', () => {
      calls++;
      if (!pending) {
        pending = true;
        queueMicrotask(() => {
          turns++;
          pending = false;
        });
      }
    });
    await bench.run();
    expect(calls).toBeGreaterThan(100);
    // the microtask queued by the first call ran only once the whole loop had finished
    expect(turns).toBe(1);
  });

  it('discards warm-up iterations and runs the hooks around each iteration, outside its window', async () => {
    const order: string[] = [];
    // from the end of each beforeEach (after its 2 ms sleep) to the start of its afterEach: what
    // holds the iteration's window, however long a loaded machine stretches it
    let hooksDone = 0;
    const between: number[] = [];
    const bench = new Bench({
      time: 0,
      iterations: 5,
      warmupTime: 0,
      warmupIterations: 3,
      progress: false,
    }).add(
      'hooks',
      () => {
        order.push('fn');
      },
      {
        beforeAll: () => {
          order.push('beforeAll');
        },
        beforeEach: async () => {
          order.push('beforeEach');
          await new Promise((r) => setTimeout(r, 2));
          hooksDone = performance.now();
        },
        afterEach: () => {
          between.push(performance.now() - hooksDone);
          order.push('afterEach');
        },
        afterAll: () => {
          order.push('afterAll');
        },
      },
    );
    const [task] = (await bench.run()).tasks;
    expect(task?.samples).toBe(5);
    expect(order.filter((x) => x === 'fn')).toHaveLength(8);
    expect(order[0]).toBe('beforeAll');
    expect(order.slice(1, 4)).toEqual(['beforeEach', 'fn', 'afterEach']);
    expect(order.at(-1)).toBe('afterAll');
    // the 2 ms sleep of beforeEach is not in the samples: each lies after it, before afterEach
    expect(between).toHaveLength(8);
    expect(ms(task?.elapsed.max ?? 0)).toBeLessThanOrEqual(Math.max(...between));
  });

  it('ends a task whose function throws as errored, with the error, and goes on to the next', async () => {
    const bench = new Bench({ ...fast, time: 10 })
      .add('bad', () => {
        throw new Error('boom');
      })
      .add('rejects', async () => {
        throw new Error('async boom');
      })
      .add('good', () => 1);
    const { tasks } = await bench.run();
    expect(tasks.map((t) => t.state)).toEqual(['errored', 'errored', 'completed']);
    expect(tasks[0]?.error).toContain('boom');
    expect(tasks[1]?.error).toContain('async boom');
  });

  it('with concurrency, the first error ends the task once the iterations in flight are done', async () => {
    let calls = 0;
    const bench = new Bench({ ...fast, concurrency: 4, warmup: false }).add('flaky', async () => {
      const call = ++calls;
      await new Promise((r) => setTimeout(r, 1));
      if (call === 1) throw new Error('the first call failed');
    });
    const [task] = (await bench.run()).tasks;
    expect(task?.state).toBe('errored');
    expect(task?.error).toMatch(/the first call failed/);
    // the other three in flight finished; none started after the failure
    expect(calls).toBe(4);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(4);
  });

  it('with concurrency, a synchronous function that throws stops at that call: no loop starts another', async () => {
    let calls = 0;
    const bench = new Bench({ ...fast, time: 2000, concurrency: 4, warmup: false }).add('sync', () => {
      if (++calls === 10) throw new Error('call 10 failed');
    });
    const [task] = (await bench.run()).tasks;
    expect(task?.state).toBe('errored');
    expect(task?.error).toMatch(/call 10 failed/);
    expect(calls).toBe(10);
    expect(task?.samples).toBe(9); // the calls that returned, not the one that threw
  });

  it('with concurrency, a rejection ends the task only once the iterations in flight are done', async () => {
    const order: string[] = [];
    let calls = 0;
    const bench = new Bench({ ...fast, concurrency: 4, warmup: false })
      .add(
        'rejects',
        async () => {
          const call = ++calls;
          await new Promise((r) => setTimeout(r, call === 1 ? 1 : 20));
          if (call === 1) throw new Error('the first call failed');
          order.push(`end ${call}`);
        },
        { afterAll: () => order.push('afterAll') },
      )
      .add('next', () => 1, { beforeAll: () => order.push('next beforeAll') });
    const [task, next] = (await bench.run()).tasks;
    expect(task?.state).toBe('errored');
    expect(order).toEqual(['end 2', 'end 3', 'end 4', 'afterAll', 'next beforeAll']);
    expect(task?.samples).toBe(3);
    expect(next?.state).toBe('completed');
  });

  it("an errored task's samples are its measured iterations that completed: none when warm-up failed", async () => {
    const failOn = (n: number) => {
      let calls = 0;
      return () => {
        if (++calls === n) throw new Error(`call ${n} failed`);
      };
    };
    const bench = new Bench({ ...fast, warmupIterations: 16 }).add('in warm-up', failOn(5));
    const [warm] = (await bench.run()).tasks;
    expect(warm).toMatchObject({ state: 'errored', samples: 0, wallNs: 0 });
    expect(warm?.elapsed).toMatchObject({ p50: 0, p99: 0, rme: 0 });
    const cold = new Bench({ ...fast, warmup: false }).add('measured', failOn(5));
    const [measured] = (await cold.run()).tasks;
    expect(measured).toMatchObject({ state: 'errored', samples: 4 });
    expect(measured?.wallNs).toBeGreaterThan(0);
    expect(measured?.elapsed.max).toBeGreaterThan(0);
  });

  it('stops early when the margin of error is small enough (rme)', async () => {
    await retry(3, async () => {
      const bench = new Bench({ ...fast, time: 5000, iterations: 30, rme: 20 }).add('spin', () => spin(0.5));
      const [task] = (await bench.run()).tasks;
      expect(task?.wallNs).toBeLessThan(2e9);
      expect(task?.samples).toBeGreaterThanOrEqual(30);
      expect(task?.elapsed.rme).toBeLessThanOrEqual(20);
    });
  });

  it('stops at the abort signal', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const bench = new Bench({ ...fast, time: 10_000, signal: controller.signal })
      .add('sleep', () => new Promise((r) => setTimeout(r, 1)))
      .add('never', () => 1);
    const { tasks } = await bench.run();
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.state).toBe('aborted');
  });

  it('an abort during warm-up starts no measured iteration', async () => {
    const controller = new AbortController();
    let afterAbort = 0;
    const bench = new Bench({ ...fast, warmupTime: 10_000, signal: controller.signal }).add('sleep', () => {
      if (controller.signal.aborted) afterAbort++;
      return new Promise((r) => setTimeout(r, 20));
    });
    setTimeout(() => controller.abort(), 30);
    const results = await bench.run();
    expect(results.tasks[0]).toMatchObject({ state: 'aborted', samples: 0 });
    expect(afterAbort).toBe(0);
    // nothing measured: nothing for github-action-benchmark to chart (it would chart zeros)
    expect(toBenchmarkAction(results)).toEqual([]);
  });

  it('runs afterAll also when beforeAll threw, and ends the task as errored', async () => {
    const order: string[] = [];
    const bench = new Bench(fast).add('x', () => order.push('fn'), {
      beforeAll: () => {
        order.push('beforeAll');
        throw new Error('no fixture');
      },
      afterAll: () => order.push('afterAll'),
    });
    const [task] = (await bench.run()).tasks;
    expect(order).toEqual(['beforeAll', 'afterAll']);
    expect(task).toMatchObject({ state: 'errored', samples: 0 });
    expect(task?.error).toMatch(/^Error: no fixture/);
  });

  it('warns when the clock dominates the samples, and counts GC during the measurement', async () => {
    let keep: unknown[] = [];
    const bench = new Bench({ ...fast, time: 100 })
      .add('tiny', () => 1)
      .add('alloc', () => {
        keep = Array.from({ length: 100_000 }, (_, i) => ({ i }));
      });
    const [tiny, alloc] = (await bench.run()).tasks;
    expect(keep.length).toBe(100_000);
    expect(tiny?.warnings.map((w) => w.code)).toContain('clock-resolution');
    expect(tiny?.warnings.find((w) => w.code === 'clock-resolution')?.message).toMatch(/batch/);
    expect(alloc?.gc.count).toBeGreaterThan(0);
    expect(alloc?.gc.durationNs).toBeGreaterThan(0);
    expect(alloc?.warnings.map((w) => w.code)).toContain('gc');
  });

  it("measures the clock's resolution as its smallest step: no clock warning for an 8 µs spin", async () => {
    // the test's own measurement: the smallest step between two reads in a warm loop, many times over
    let step = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 100_000; i++) {
      const a = performance.now();
      let b = performance.now();
      while (b === a) b = performance.now();
      if (b - a < step) step = b - a;
    }
    const stepNs = step * 1e6;
    const bench = new Bench({ ...fast, time: 50 }).add('8 µs', () => spin(0.008));
    const results = await bench.run();
    expect(results.clockResolutionNs).toBeGreaterThan(0);
    expect(results.clockResolutionNs).toBeLessThanOrEqual(2 * stepNs);
    // where 100 steps of the clock fit in half of 8 µs, an 8 µs task is not dominated by it
    if (100 * stepNs < 4000) {
      expect(results.tasks[0]?.warnings.map((w) => w.code)).not.toContain('clock-resolution');
    }
  });
});

/** What `block` writes to stderr (kept from the terminal meanwhile). */
async function stderrOf(block: () => Promise<unknown>): Promise<string[]> {
  const writes: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    writes.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await block();
  } finally {
    process.stderr.write = write;
  }
  return writes;
}

describe('Bench: the progress line', () => {
  it('redraws one line on stderr while a long task runs, naming it `bench › task`, and clears it at the end', async () => {
    const writes = await stderrOf(() =>
      new Bench({ ...fast, name: 'cpu', time: 600, progress: true }).add('spin', () => spin(1)).run(),
    );
    const lines = writes.filter((w) => w.includes('tlob bench: cpu › spin (run)'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]?.startsWith('\r\x1b[2K')).toBe(true);
    expect(lines[0]?.slice(5)).toMatch(/^tlob bench: cpu › spin \(run\) \d+ samples, mean [\d.]+(us|ms)$/);
    expect(writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('draws nothing with progress off (the default when stderr is not a TTY)', async () => {
    const writes = await stderrOf(() => new Bench({ ...fast, time: 400 }).add('spin', () => spin(1)).run());
    expect(writes.filter((w) => w.includes('tlob bench'))).toEqual([]);
  });
});

describe('Bench: results and errors', () => {
  it('results are plain JSON with the environment and every statistic', async () => {
    const bench = new Bench({ ...fast, time: 20, budget: '1s', name: 'set' }).add('spin', () => spin(0.1));
    await bench.run();
    const results = JSON.parse(JSON.stringify(bench.results));
    expect(results).toMatchObject({ schemaVersion: 1, node: process.version, v8: process.versions.v8 });
    expect(results.cpu).toEqual({
      model: expect.any(String),
      cores: expect.any(Number),
      speedMHz: expect.any(Number),
    });
    expect(results.clockResolutionNs).toBeGreaterThan(0);
    expect(Date.parse(results.date)).not.toBeNaN();
    const [task] = results.tasks;
    expect(task).toMatchObject({
      bench: 'set',
      name: 'spin',
      state: 'completed',
      concurrency: 1,
      budgetNs: 1e9,
    });
    for (const key of ['samples', 'wallNs', 'violations', 'violationRate'])
      expect(task[key]).toEqual(expect.any(Number));
    expect(task.throughput.opsPerSecond).toBeGreaterThan(0);
    expect(task.gc).toEqual({ count: expect.any(Number), durationNs: expect.any(Number) });
    expect(task.worstViolation).toBeNull();
    for (const state of ['elapsed', 'running', 'waiting', 'sleeping']) {
      expect(Object.keys(task[state]).sort()).toEqual(
        ['mad', 'max', 'mean', 'min', 'moe', 'p50', 'p75', 'p90', 'p99', 'p999', 'rme', 'sd', 'sem'].sort(),
      );
    }
    expect(task.elapsed.min).toBeLessThanOrEqual(task.elapsed.p50);
    expect(task.elapsed.p50).toBeLessThanOrEqual(task.elapsed.p99);
    expect(task.elapsed.p99).toBeLessThanOrEqual(task.elapsed.max);
    const [row] = bench.table();
    expect(row).toMatchObject({ task: 'set › spin', violations: expect.stringMatching(/^0 \(0\.0%\)$/) });
  });

  it('rejects bad options with a stable code and "expected X, got Y"', () => {
    expect(() => new Bench({ time: -1 })).toThrow(expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG' }));
    expect(() => new Bench({ concurrency: 1.5 })).toThrow(
      /expected `concurrency` to be an integer, got 1.5 \(number\)/,
    );
    expect(() => new Bench({ budget: 'fast' })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_BUDGET' }),
    );
    const bench = new Bench();
    expect(() => bench.add('x', 42 as never)).toThrow(/expected `fn` function, got 42 \(number\)/);
    expect(() => bench.add('x', () => 1, { beforeEach: 'no' as never })).toThrow(TypeError);
    bench.add('x', () => 1);
    expect(() => bench.add('x', () => 1)).toThrow(/twice/);
  });

  it('rejects, at once and with ERR_TLOB_INVALID_ARG, infinite times, non-booleans and misspelt options', () => {
    const invalid = (message: RegExp) =>
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG', message: expect.stringMatching(message) });
    expect(() => new Bench({ time: Number.POSITIVE_INFINITY })).toThrow(
      invalid(/^new Bench: expected `time` to be a finite number, got Infinity \(number\)$/),
    );
    expect(() => new Bench({ warmupTime: Number.POSITIVE_INFINITY })).toThrow(invalid(/finite/));
    expect(() => new Bench({ time: -1 })).toThrow(invalid(/expected `time` >= 0, got -1$/));
    expect(() => new Bench({ warmup: 'no' as never })).toThrow(
      invalid(/^new Bench: expected `warmup` to be a boolean, got "no" \(string\)$/),
    );
    expect(() => new Bench({ progress: 'yes' as never })).toThrow(
      invalid(/expected `progress` to be a boolean/),
    );
    expect(() => new Bench({ tme: 5 } as never)).toThrow(
      invalid(/^new Bench: unknown option `tme` \(did you mean `time`\?\); expected `name`, `time`, /),
    );
    expect(() => new Bench().add('x', () => 1, { bugdet: '1ms' } as never)).toThrow(
      invalid(/^bench\.add: unknown option `bugdet` \(did you mean `budget`\?\)/),
    );
    expect(() => new Bench({ zzzzzz: 1 } as never)).toThrow(invalid(/unknown option `zzzzzz`; expected/));
    expect(() => new Bench({ name: null as never })).toThrow(
      invalid(/^new Bench: expected `name` string, got null$/),
    );
    expect(() => new Bench({ iterations: 1e300 })).toThrow(
      invalid(/^new Bench: expected `iterations` <= 1e8, got 1e\+300$/),
    );
    expect(() => new Bench({ warmupIterations: 1e8 + 1 })).toThrow(invalid(/`warmupIterations` <= 1e8/));
    expect(new Bench({ iterations: 1e8 }).name).toBe('');
    expect(() => new Bench([] as never)).toThrow(
      invalid(/^new Bench: expected options object, got an array$/),
    );
    expect(() => new Bench().add('x', () => 1, [] as never)).toThrow(
      invalid(/expected options object, got an array$/),
    );
    expect(() => nodeBenchSample('x', () => 1, null as never)).toThrow(
      invalid(/^nodeBenchSample: expected options object, got null$/),
    );
    expect(() => nodeBenchSample('x', () => 1, { bugdet: '1ms' } as never)).toThrow(
      invalid(/did you mean `budget`/),
    );
    expect(() => nodeBenchSample(123 as never, () => 1)).toThrow(
      invalid(/^nodeBenchSample: expected `name` to be a non-empty string, got 123 \(number\)$/),
    );
  });
});

describe('Bench while tlob is disabled', () => {
  it('rejects with ERR_TLOB_DISABLED instead of failing every task inside', async () => {
    const bench = new Bench({ ...fast, warmup: false }).add('noop', () => {});
    tlob.disable();
    try {
      await expect(bench.run()).rejects.toMatchObject({
        code: 'ERR_TLOB_DISABLED',
        message: expect.stringContaining('call tlob.enable() first'),
      });
    } finally {
      tlob.enable();
    }
    const { tasks } = await bench.run();
    expect(tasks[0]?.state).toBe('completed');
  });
});
