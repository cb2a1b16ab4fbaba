import { Bench, type Task } from 'tinybench';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { TlobTaskStats } from '../../src/bench/task-stats.js';
import { type TlobTask, withTlob } from '../../src/bench/tinybench.js';
import { createProvider } from '../../src/bench/vitest-provider.js';
import { ms, retry, spin } from '../helpers.js';

// The adapter on a real tinybench Bench: each iteration in a tlob window, the task carrying tlob's
// statistics; in 'running' mode the sample is the running time and the time budget stays wall time.

const options = { time: 100, iterations: 20, warmupTime: 20, warmupIterations: 4 };
const sleep3 = () => new Promise((resolve) => setTimeout(resolve, 3));

describe('withTlob (tinybench)', () => {
  it("gives every task tlob's split and budget checks, tinybench's own statistics unchanged", async () => {
    await retry(3, async () => {
      const bench = withTlob(new Bench(options), { budget: '2ms' });
      bench
        .add('spin', () => spin(1))
        .add('sleep', async () => {
          await sleep3();
        });
      await bench.run();
      const spinTask = bench.getTask('spin') as TlobTask;
      const sleepTask = bench.getTask('sleep') as TlobTask;
      expect(spinTask.result.state).toBe('completed');
      const latency = (spinTask.result as { latency: { samplesCount: number; p50: number } }).latency;
      // measured iterations only: tinybench's sample count, without warm-up or async detection
      expect(spinTask.tlob.samples).toBe(latency.samplesCount);
      expect(Math.abs(ms(spinTask.tlob.running.p50) - 1)).toBeLessThan(0.3);
      expect(Math.abs(ms(spinTask.tlob.elapsed.p50) - latency.p50)).toBeLessThan(0.3);
      expect(ms(spinTask.tlob.sleeping.p99)).toBeLessThan(0.2);
      expect(spinTask.tlob.violationRate).toBeLessThan(0.5);
      expect(Math.abs(ms(sleepTask.tlob.sleeping.p50) - 3)).toBeLessThan(1);
      expect(sleepTask.tlob.violationRate).toBeGreaterThan(0.9);
      expect(sleepTask.tlob.worstViolation?.elapsedNs).toBeGreaterThan(2e6);
    });
  });

  it("'running' mode: the samples are the running time, the time budget stays wall time", async () => {
    await retry(3, async () => {
      const bench = withTlob(new Bench({ ...options, time: 150 }), { mode: 'running' });
      bench.add('mixed', async () => {
        spin(0.5);
        await sleep3();
      });
      const t0 = performance.now();
      await bench.run();
      const wall = performance.now() - t0;
      const task = bench.getTask('mixed') as TlobTask;
      const latency = (task.result as { latency: { p50: number; samplesCount: number } }).latency;
      expect(Math.abs(latency.p50 - ms(task.tlob.running.p50))).toBeLessThan(0.05);
      expect(latency.p50).toBeLessThan(1);
      expect(ms(task.tlob.elapsed.p50)).toBeGreaterThan(3);
      // the 150 ms budget is spent on whole iterations (~3.5 ms each), not on 0.5 ms samples
      expect(wall).toBeLessThan(1500);
      expect(latency.samplesCount).toBeLessThan(100);
    });
  });

  it("'running' mode waits for a thenable whose then returns nothing, and records its running time", async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const timer = () => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      return {
        // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test needs
        then(resolve: () => void) {
          setTimeout(() => {
            inFlight--;
            resolve();
          }, 3);
        }, // returns undefined: nothing to chain on
      };
    };
    const bench = withTlob(new Bench({ ...options, time: 0, iterations: 10 }), { mode: 'running' });
    bench.add('timer', timer, { async: true }); // known asynchronous: what is checked is the wait
    await bench.run();
    const task = bench.getTask('timer') as TlobTask;
    const latency = (task.result as { latency: { samplesCount: number; p50: number } }).latency;
    // one iteration after the other, each sample its window's running time, not the call's wall time
    expect(mostInFlight).toBe(1);
    expect(latency.samplesCount).toBe(task.tlob.samples);
    expect(Math.abs(latency.p50 - ms(task.tlob.running.p50))).toBeLessThan(1e-6);
    expect(ms(task.tlob.elapsed.p50)).toBeGreaterThan(2);
  });

  it("counts tinybench's samples only, also without warm-up: its async detection call is not one", async () => {
    for (const warmup of [false, true]) {
      let calls = 0;
      const bench = withTlob(new Bench({ ...options, time: 0, iterations: 10, warmupTime: 0, warmup }));
      bench.add('promise', () => {
        calls++;
        return new Promise((resolve) => setTimeout(resolve, 1)); // not an async function: detected by a call
      });
      bench.add('sync', () => 1);
      await bench.run();
      for (const name of ['promise', 'sync']) {
        const task = bench.getTask(name) as TlobTask;
        const latency = (task.result as { latency: { samplesCount: number } }).latency;
        expect(task.tlob.samples, `${name}, warm-up ${warmup}`).toBe(latency.samplesCount);
      }
      // the measured calls, the warm-up ones, and one call that found the function asynchronous
      expect(calls).toBe((bench.getTask('promise') as TlobTask).tlob.samples + (warmup ? 4 : 0) + 1);
    }
  });

  it('takes a task returning a minimal thenable for asynchronous, as tinybench does, and awaits it', async () => {
    // a minimal thenable: `setTimeout` throws for a callback that is not a function
    const timer = () => ({
      // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test needs
      then: (resolve: () => void) => void setTimeout(resolve, 3),
    });
    const bench = withTlob(new Bench({ ...options, time: 0, iterations: 10 }));
    bench.add('timer', timer);
    await bench.run();
    const task = bench.getTask('timer') as TlobTask;
    expect(task.result.state).toBe('completed');
    const latency = (task.result as { latency: { samplesCount: number; p50: number } }).latency;
    // each sample is a whole 3 ms wait, as tinybench measures an asynchronous task, not the call alone
    expect(latency.p50).toBeGreaterThan(2);
    expect(ms(task.tlob.elapsed.p50)).toBeGreaterThan(2);
    expect(task.tlob.samples).toBe(latency.samplesCount);
  });

  it('a task whose warm-up threw has no tlob samples: its warm-up iterations are not measured ones', async () => {
    let calls = 0;
    const phases: (string | undefined)[] = [];
    const bench = withTlob(new Bench(options));
    bench.add(
      'breaks',
      () => {
        if (++calls === 3) throw new Error('call 3 failed');
      },
      { afterAll: (phase) => void phases.push(phase) },
    );
    await bench.run();
    const task = bench.getTask('breaks') as TlobTask;
    // tinybench stops the task at the warm-up's error and never measures it
    expect(task.result.state).toBe('errored');
    expect(calls).toBe(3);
    expect(phases).toEqual(['warmup']); // the task's own afterAll still runs
    expect(task.tlob).toMatchObject({ samples: 0, violations: 0 });
    expect(task.tlob.elapsed.max).toBe(0);
  });

  it('types the tasks of the bench it returns as TlobTasks, so that task.tlob needs no cast', () => {
    const bench = withTlob(new Bench(options)).add('parse', () => JSON.parse('{}'));
    expectTypeOf(bench.getTask('parse')).toEqualTypeOf<TlobTask | undefined>();
    expectTypeOf(bench.tasks).toEqualTypeOf<TlobTask[] & Task[]>();
    const stats: TlobTaskStats | undefined = bench.getTask('parse')?.tlob; // checked by tsc
    expect(stats?.samples).toBe(0);
    expect(bench).toBeInstanceOf(Bench);
  });

  it('keeps a synchronous task synchronous and rejects misuse', () => {
    const bench = withTlob(new Bench(options));
    bench.add('sync', () => 42);
    expect(bench.getTask('sync')).toBeDefined();
    const used = new Bench(options).add('x', () => 1);
    expect(() => withTlob(used)).toThrow(
      /expected a Bench without tasks \(call withTlob before add\), got one with 1/,
    );
    expect(() => withTlob(new Bench(), { mode: 'cpu' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG' }),
    );
    expect(() => withTlob({} as never)).toThrow(/expected a tinybench Bench, got an object/);
    const invalid = (message: RegExp) =>
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG', message: expect.stringMatching(message) });
    expect(() => withTlob(new Bench(), null as never)).toThrow(
      invalid(/^withTlob: expected options object, got null$/),
    );
    expect(() => withTlob(new Bench(), { bugdet: '1ms' } as never)).toThrow(
      invalid(/^withTlob: unknown option `bugdet` \(did you mean `budget`\?\); expected `budget`, `mode`$/),
    );
    expect(() => createProvider({ mdoe: 'running' } as never)).toThrow(
      invalid(/^createProvider: unknown option `mdoe` \(did you mean `mode`\?\)/),
    );
  });
});
