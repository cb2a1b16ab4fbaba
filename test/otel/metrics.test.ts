import { channel } from 'node:diagnostics_channel';
import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { tlob, type WindowResult } from '../../src/index.js';
import { requirePeer } from '../../src/otel/api.js';
import { DEFAULT_BUCKETS, otel, otelFromEnvironment } from '../../src/otel/index.js';
import { descheduledMs } from '../descheduled.js';
import { retry, sleep, spin } from '../helpers.js';
import { createSdk, durationPoint, type Sdk, sumValue, useSdk } from './sdk.js';

const t = useSdk();

describe('tlob/otel metrics through a real MeterProvider', () => {
  it('records each window as one point per state, in seconds, equal to its result and to the measured truth', async () => {
    await retry(3, async () => {
      t.sdk = await freshSdk();
      t.exporter = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' });
      let spun = 0;
      let slept = 0;
      let spunDescheduled = 0;
      const d0 = descheduledMs();
      const t0 = performance.now();
      const result = await new Promise<WindowResult>((resolve) => {
        tlob.run('metrics.split', { budget: '1s', onStop: resolve }, async () => {
          const s0 = performance.now();
          const sd0 = descheduledMs();
          spin(20);
          spunDescheduled = descheduledMs() - sd0;
          spun = performance.now() - s0;
          const z0 = performance.now();
          await sleep(30);
          slept = performance.now() - z0;
        });
      });
      const wall = performance.now() - t0;
      // the thread preempted outside the timed spin (in the window's own machinery, or around the
      // window): time the test could not split, the only slack beyond the quiet-machine 5 ms
      const untimed = descheduledMs() - d0 - spunDescheduled;
      const duration = (await t.sdk.metrics()).get('tlob.window.duration');
      expect(duration?.descriptor.unit).toBe('s');
      const point = (state: string) => durationPoint(duration, 'metrics.split', state)?.value;
      // what the SDK got is the window's result, in seconds
      expect(point('elapsed')?.sum).toBeCloseTo(result.elapsedNs / 1e9, 9);
      expect(point('running')?.sum).toBeCloseTo(result.runningNs / 1e9, 9);
      expect(point('waiting')?.sum).toBeCloseTo(result.waitingNs / 1e9, 9);
      expect(point('sleeping')?.sum).toBeCloseTo(result.sleepingNs / 1e9, 9);
      for (const state of ['elapsed', 'running', 'waiting', 'sleeping']) expect(point(state)?.count).toBe(1);
      // and the result matches what really happened (ms); the measured sleep also holds the time
      // the timer's continuation waited for the thread, which tlob counts as waiting
      const ms = (state: string) => (point(state)?.sum ?? 0) * 1e3;
      expect(Math.abs(ms('elapsed') - wall)).toBeLessThan(5 + untimed);
      expect(Math.abs(ms('running') - spun)).toBeLessThan(5 + untimed);
      expect(Math.abs(ms('sleeping') + ms('waiting') - slept)).toBeLessThan(5 + untimed);
    });
  });

  it('uses the bucket boundaries from 1 µs to 10 s, or the given ones', async () => {
    t.exporter = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' });
    tlob.run('metrics.buckets', { budget: '1s' }, () => spin(1));
    let point = await t.sdk.duration('metrics.buckets', 'elapsed');
    expect(point?.value.buckets.boundaries).toEqual([...DEFAULT_BUCKETS]);
    expect(DEFAULT_BUCKETS[0]).toBe(0.000001);
    expect(DEFAULT_BUCKETS.at(-1)).toBe(10);

    await retry(3, async () => {
      // a 1 ms spin lands in (1 ms, 10 ms], unless the machine deschedules it for 9 ms: retried
      t.sdk = await freshSdk();
      t.exporter = otel({ meterProvider: t.sdk.meterProvider, spans: 'none', buckets: [0.001, 0.01, 0.1] });
      tlob.run('metrics.buckets', { budget: '1s' }, () => spin(1));
      point = await t.sdk.duration('metrics.buckets', 'elapsed');
      expect(point?.value.buckets.boundaries).toEqual([0.001, 0.01, 0.1]);
      expect(point?.value.buckets.counts).toEqual([0, 1, 0, 0]);
    });
  });

  it('counts violations by name and by the state the window was in', async () => {
    await retry(3, async () => {
      t.sdk = await freshSdk();
      t.exporter = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' });
      // the first window sleeps at its 5 ms deadline only if it yielded before it: from before it
      // opened to after it yielded is measured (a thread kept from a CPU meanwhile finds it running)
      const before = performance.now();
      const asleep = tlob.run('metrics.late', { budget: '5ms' }, () => sleep(25));
      const setUp = performance.now() - before;
      await asleep;
      if (setUp >= 5) throw new Error(`the window yielded ${setUp} ms after it opened, past its 5 ms budget`);
      tlob.run('metrics.late', { budget: '2ms' }, () => spin(6));
      tlob.run('metrics.late', { budget: '1s' }, () => spin(1));
      const violations = (await t.sdk.metrics()).get('tlob.window.violations');
      expect(violations?.descriptor.unit).toBe('{violation}');
      expect(
        sumValue(violations, { 'tlob.window.name': 'metrics.late', 'tlob.window.state': 'sleeping' }),
      ).toBe(1);
      expect(
        sumValue(violations, { 'tlob.window.name': 'metrics.late', 'tlob.window.state': 'running' }),
      ).toBe(1);
      expect(violations?.dataPoints).toHaveLength(2);
    });
  });

  it('carries the first 1000 window names and records the windows of further names under (other), as tlob.stats() does', async () => {
    // the SDK's own limit (2000 attribute sets per instrument) below the 4 × 1001 sets of the duration
    t.sdk = await freshSdk([{ instrumentName: 'tlob.window.duration', aggregationCardinalityLimit: 10_000 }]);
    t.exporter = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' });
    const open = tlob.start({ budget: '1s', name: 'metrics.names-open' }); // one name in flight from the start
    for (let i = 0; i < 1200; i++) tlob.run(`metrics.names/${i}`, { budget: '1s' }, () => i);
    const late = tlob.start({ budget: '1s', name: 'metrics.names/late' });
    const collected = await t.sdk.metrics();
    const duration = collected.get('tlob.window.duration');
    const names = new Set(duration?.dataPoints.map((p) => p.attributes['tlob.window.name']));
    // at most 1000 names of their own (some taken by the tests before), and (other) beside them
    expect(names.size).toBeLessThanOrEqual(1001);
    expect(names.has('(other)')).toBe(true);
    expect(names.has('metrics.names/1199')).toBe(false);
    const other = durationPoint(duration, '(other)', 'elapsed');
    expect(other?.value.count).toBeGreaterThanOrEqual(200);
    // a window of a further name is counted in flight under (other)
    expect(sumValue(collected.get('tlob.window.active'), { 'tlob.window.name': '(other)' })).toBe(1);
    late.stop();
    open.stop();
  });

  it('counts the windows in flight', async () => {
    const before = tlob.start({ budget: '1s', name: 'metrics.old' });
    t.exporter = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' });
    const a = tlob.start({ budget: '1s', name: 'metrics.active' });
    const b = tlob.start({ budget: '1s', name: 'metrics.active' });
    const active = async () =>
      sumValue((await t.sdk.metrics()).get('tlob.window.active'), { 'tlob.window.name': 'metrics.active' });
    expect(await active()).toBe(2);
    b.stop();
    expect(await active()).toBe(1);
    a.stop();
    expect(await active()).toBe(0);
    before.stop(); // opened before this export: not counted, so not uncounted either
    const old = sumValue((await t.sdk.metrics()).get('tlob.window.active'), {
      'tlob.window.name': 'metrics.old',
    });
    expect(old ?? 0).toBe(0);
  });

  it('the preload counts a window in flight at the first collection of a MeterProvider registered after it, before any window stopped', async () => {
    t.exporter = otelFromEnvironment({ TLOB_OTEL: '1', TLOB_OTEL_SPANS: 'none' }); // only the no-op API yet
    metrics.setGlobalMeterProvider(t.sdk.meterProvider); // the application's SDK
    const hanging = tlob.start({ budget: '1s', name: 'metrics.preload' });
    const active = sumValue((await t.sdk.metrics()).get('tlob.window.active'), {
      'tlob.window.name': 'metrics.preload',
    });
    hanging.stop();
    expect(active).toBe(1);
  });

  it('a disabled or replaced export no longer observes its windows in flight', async () => {
    const active = async (name: string) =>
      sumValue((await t.sdk.metrics()).get('tlob.window.active'), { 'tlob.window.name': name });
    const first = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' });
    const replaced = tlob.start({ budget: '1s', name: 'metrics.replaced' });
    t.exporter = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' }); // replaces `first`
    expect(await active('metrics.replaced')).toBeUndefined(); // opened before it: not counted
    first.disable();
    const disabled = tlob.start({ budget: '1s', name: 'metrics.disabled' });
    t.exporter.disable();
    expect(await active('metrics.disabled')).toBeUndefined();
    replaced.stop();
    disabled.stop();
  });

  it('with only the no-op API subscribes to nothing, then follows a global MeterProvider registered after otel()', async () => {
    const stop = channel('tlob:stop');
    const start = channel('tlob:start');
    expect(stop.hasSubscribers).toBe(false);
    t.exporter = otel({ spans: 'none' });
    expect(stop.hasSubscribers).toBe(false); // no provider yet: a window costs nothing more
    expect(start.hasSubscribers).toBe(false);
    tlob.run('metrics.global', { budget: '1s' }, () => spin(1));
    metrics.setGlobalMeterProvider(t.sdk.meterProvider);
    while (!stop.hasSubscribers) await sleep(10); // seen within ~100 ms
    tlob.run('metrics.global', { budget: '1s' }, () => spin(1));
    const point = await t.sdk.duration('metrics.global', 'elapsed');
    expect(point?.value.count).toBe(1);
    t.exporter.disable();
    expect(stop.hasSubscribers).toBe(false);
  });

  it('disable() before any provider was registered stops looking for one', async () => {
    t.exporter = otel({ spans: 'none' });
    t.exporter.disable();
    metrics.setGlobalMeterProvider(t.sdk.meterProvider);
    await sleep(250);
    expect(channel('tlob:stop').hasSubscribers).toBe(false);
  });

  it('stops at disable(), and a second otel() replaces the first instead of counting twice', async () => {
    const first = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' });
    t.exporter = otel({ meterProvider: t.sdk.meterProvider, spans: 'none' });
    tlob.run('metrics.once', { budget: '1s' }, () => spin(1));
    t.exporter.disable();
    t.exporter.disable();
    first.disable();
    tlob.run('metrics.once', { budget: '1s' }, () => spin(1));
    const point = await t.sdk.duration('metrics.once', 'elapsed');
    expect(point?.value.count).toBe(1);
  });

  it('rejects bad options with ERR_TLOB_INVALID_ARG, saying what it expected and got', () => {
    expect(() => otel({ spans: 'all' as never })).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message:
          'tlob otel: expected `spans` to be "attributes", "child", "over-budget" or "none", got "all" (string)',
      }),
    );
    expect(() => otel({ meterProvider: {} as never })).toThrow(
      /expected `meterProvider` to have a getMeter\(\) method/,
    );
    expect(() => otel({ metrics: 'yes' as never })).toThrow(/expected `metrics` to be a boolean, got "yes"/);
    expect(() => otel(42 as never)).toThrow(/expected an options object, got 42 \(number\)/);
  });

  it.each<[unknown, string]>([
    [[], 'expected an options object, got an array'],
    [
      { buckets: [] },
      'expected `buckets` to be a non-empty array of increasing finite numbers (seconds), got an array',
    ],
    [
      { buckets: 0.1 },
      'expected `buckets` to be a non-empty array of increasing finite numbers (seconds), got 0.1 (number)',
    ],
    [
      { buckets: [-1, 0, 1] },
      'expected `buckets[0]` to be a finite number of seconds, 0 or more, got -1 (number)',
    ],
    [
      { buckets: [0, 0.1, Number.POSITIVE_INFINITY] },
      'expected `buckets[2]` to be a finite number of seconds, 0 or more, got Infinity (number)',
    ],
    [
      { buckets: [0.001, '0.01'] },
      'expected `buckets[1]` to be a finite number of seconds, 0 or more, got "0.01" (string)',
    ],
    [
      { buckets: [0.001, 0.1, 0.01] },
      'expected `buckets[2]` to be greater than `buckets[1]` (0.1), got 0.01 (number)',
    ],
    [
      { buckets: [0.1, 0.1] },
      'expected `buckets[1]` to be greater than `buckets[0]` (0.1), got 0.1 (number)',
    ],
  ])('otel(%j) throws ERR_TLOB_INVALID_ARG: %s', (options, message) => {
    expect(() => otel(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_TLOB_INVALID_ARG', message: `tlob otel: ${message}` }),
    );
  });

  // biome-ignore-start lint/suspicious/noSparseArray: the holes are the input under test
  it.each<[string, unknown[], number]>([
    ['in the middle', [0.001, , 0.1], 1],
    ['first', [, 0.001, 0.1], 0],
    ['last (a trailing elision)', [0.001, 0.01, ,], 2],
  ])('refuses a sparse `buckets` array, naming the index of the hole: %s', (_, buckets, hole) => {
    expect(buckets).toHaveLength(3);
    expect(hole in buckets).toBe(false);
    expect(() => otel({ meterProvider: t.sdk.meterProvider, buckets: buckets as number[] })).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_INVALID_ARG',
        message: `tlob otel: expected \`buckets[${hole}]\` to be a finite number of seconds, 0 or more, got an empty slot (a hole in a sparse array)`,
      }),
    );
  });
  // biome-ignore-end lint/suspicious/noSparseArray: the holes are the input under test

  it('takes 0 as a bucket boundary (windows that spent no time in a state)', () => {
    t.exporter = otel({ meterProvider: t.sdk.meterProvider, buckets: [0, 0.001] });
    expect(t.exporter.options.buckets).toEqual([0, 0.001]);
  });

  it('names a missing peer package in one clear error', () => {
    expect(() => requirePeer('@opentelemetry/not-installed', 'tlob/otel')).toThrow(
      expect.objectContaining({
        code: 'ERR_TLOB_MISSING_PEER',
        message:
          'tlob/otel: expected the package "@opentelemetry/not-installed" to be installed (npm install @opentelemetry/not-installed), got none',
      }),
    );
  });
});

/** A fresh SDK, the export of the old one disabled (a retried timing scenario starts from empty metrics). */
async function freshSdk(views: Parameters<typeof createSdk>[0] = []): Promise<Sdk> {
  t.exporter?.disable();
  t.exporter = undefined;
  await t.sdk.shutdown();
  return createSdk(views);
}
