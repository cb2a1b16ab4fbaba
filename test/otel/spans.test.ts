import { DiagLogLevel, diag, type Span, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { tlob, type Violation, type WindowResult } from '../../src/index.js';
import { type OtelOptions, otel, type SpanMode } from '../../src/otel/index.js';
import { retry, sleep, spin } from '../helpers.js';
import { durationPoint, sumValue, useSdk } from './sdk.js';

const t = useSdk();

function start(options: OtelOptions): void {
  t.exporter = otel({
    meterProvider: t.sdk.meterProvider,
    tracerProvider: t.sdk.tracerProvider,
    metrics: false,
    ...options,
  });
}

/** Runs `body` inside an active span `request` of the SDK, ends the span, returns what `body` returned. */
async function inRequest<T>(body: (span: Span) => Promise<T> | T): Promise<T> {
  return t.sdk.tracer.startActiveSpan('request', async (span) => {
    try {
      return await body(span);
    } finally {
      span.end();
    }
  });
}

const finished = (name: string): ReadableSpan[] =>
  t.sdk.spanExporter.getFinishedSpans().filter((s) => s.name === name);

/** A window of `name` with budget `budget` that spins `spinMs` then sleeps `sleepMs`; resolves to its result. */
function window(name: string, budget: string, spinMs: number, sleepMs: number): Promise<WindowResult> {
  return new Promise((resolve) => {
    tlob.run(name, { budget, onStop: resolve }, async () => {
      spin(spinMs);
      await sleep(sleepMs);
    });
  });
}

describe('tlob/otel spans through a real TracerProvider', () => {
  it("'attributes': the result becomes attributes of the active span, in seconds", async () => {
    start({ spans: 'attributes' });
    const result = await inRequest(() => window('spans.attrs', '1s', 2, 5));
    const [request] = finished('request');
    expect(request?.attributes).toEqual({
      'tlob.window.name': 'spans.attrs',
      'tlob.window.id': result.id,
      'tlob.window.budget': 1,
      'tlob.window.elapsed': result.elapsedNs / 1e9,
      'tlob.window.running': result.runningNs / 1e9,
      'tlob.window.waiting': result.waitingNs / 1e9,
      'tlob.window.sleeping': result.sleepingNs / 1e9,
      'tlob.window.over_budget': false,
    });
    expect(t.sdk.spanExporter.getFinishedSpans()).toHaveLength(1);
  });

  it("'child': a child span per window, from the window's start to its stop, on tlob's clock", async () => {
    start({ spans: 'child' });
    await retry(3, async () => {
      t.sdk.spanExporter.reset();
      // OpenTelemetry places a time given on the performance clock, as tlob's are, on Date.now()
      // as read when the span is created (a whole millisecond: up to 1 ms early). The bounds are
      // read on that clock too: `performance.timeOrigin` is another anchor, off Date.now() by a
      // constant of the process that can reach a millisecond or more.
      let opened = 0;
      let closed = 0;
      const result = await inRequest(async () => {
        opened = Date.now();
        const r = await window('spans.child', '1s', 2, 10);
        closed = Date.now();
        return r;
      });
      const [child] = finished('spans.child');
      const [request] = finished('request');
      expect(child?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
      expect(child?.spanContext().traceId).toBe(request?.spanContext().traceId);
      const ms = ([s, ns]: [number, number]) => s * 1e3 + ns / 1e6;
      expect(ms(child?.duration as [number, number])).toBeCloseTo(result.elapsedNs / 1e6, 2);
      // the span's start is up to 1 ms before the window's on the wall clock, `closed` up to 1 ms
      // before the moment it was read
      const startMs = ms(child?.startTime as [number, number]);
      expect(startMs).toBeGreaterThanOrEqual(opened - 1);
      expect(startMs + result.elapsedNs / 1e6).toBeLessThanOrEqual(closed + 1);
      expect(child?.attributes['tlob.window.elapsed']).toBe(result.elapsedNs / 1e9);
      expect(request?.attributes['tlob.window.elapsed']).toBeUndefined();
    });
  });

  it("'over-budget': a child span only for the windows over budget, the violation on the span they ran in", async () => {
    start({ spans: 'over-budget' });
    await inRequest(async () => {
      await window('spans.ok', '1s', 0, 1);
      await window('spans.late', '3ms', 0, 15);
    });
    expect(finished('spans.ok')).toHaveLength(0);
    const [late] = finished('spans.late');
    expect(late?.attributes['tlob.window.over_budget']).toBe(true);
    expect(late?.events).toEqual([]);
    const [request] = finished('request');
    expect(request?.events.map((e) => [e.name, e.attributes?.['tlob.window.id']])).toEqual([
      ['tlob.budget.violation', late?.attributes['tlob.window.id']],
    ]);
  });

  it.each<SpanMode>(['attributes', 'child', 'over-budget'])(
    "'%s': the violation of a window that never stops is exported with the span it ran in",
    async (mode) => {
      start({ spans: mode });
      await inRequest(async () => {
        // a call that hangs: the request gives up on it and ends
        tlob.run('spans.hung', { budget: '5ms' }, () => new Promise(() => {}));
        await sleep(30);
      });
      const [request] = finished('request');
      expect(request?.events.map((e) => [e.name, e.attributes?.['tlob.window.name']])).toEqual([
        ['tlob.budget.violation', 'spans.hung'],
      ]);
      expect(finished('spans.hung')).toEqual([]);
    },
  );

  it('disable() leaves no span open: a violation found before it is exported, though the window stops after', async () => {
    start({ spans: 'over-budget' });
    await inRequest(() =>
      tlob.run('spans.disabled', { budget: '5ms' }, async () => {
        await sleep(20);
        t.exporter?.disable();
        await sleep(5);
      }),
    );
    const exported = t.sdk.spanExporter.getFinishedSpans();
    expect(exported.map((s) => [s.name, s.events.map((e) => e.name)])).toEqual([
      ['request', ['tlob.budget.violation']],
    ]);
  });

  /**
   * Runs `body` with OpenTelemetry's diagnostic logger recording what is said at WARN and above (the
   * SDK's complaints: "Cannot execute the operation on ended Span"); returns those messages.
   */
  async function sdkWarnings(body: () => Promise<void>): Promise<string[]> {
    const said: string[] = [];
    const record = (message: string) => said.push(message);
    diag.setLogger({ error: record, warn: record, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
    try {
      await body();
    } finally {
      diag.disable();
    }
    return said;
  }

  /**
   * A window of 10 ms budget opened in a span `request` that ends at once, long before the window
   * breaks its budget (found by the budget timer) and stops 30 ms in. Resolves to its result.
   */
  async function outlivingWindow(name: string): Promise<WindowResult> {
    let stopped: Promise<WindowResult> | undefined;
    await inRequest(() => {
      stopped = window(name, '10ms', 0, 30);
    });
    expect(finished('request')).toHaveLength(1); // ended before the window broke its budget
    return stopped as Promise<WindowResult>;
  }

  it.each<SpanMode>(['attributes', 'child', 'over-budget'])(
    "'%s': a window that outlives its span writes nothing onto it once ended, and the metrics still count it",
    async (mode) => {
      start({ spans: mode, metrics: true });
      let result: WindowResult | undefined;
      const warnings = await sdkWarnings(async () => {
        result = await outlivingWindow('spans.outlived');
      });
      expect(warnings).toEqual([]);
      const [request] = finished('request');
      expect(request?.attributes).toEqual({});
      expect(request?.events).toEqual([]);
      expect(result?.overBudget).toBe(true);
      // the result and the violation are in the metrics all the same
      const metrics = await t.sdk.metrics();
      const name = { 'tlob.window.name': 'spans.outlived' };
      expect(sumValue(metrics.get('tlob.window.violations'), name)).toBe(1);
      expect(durationPoint(metrics.get('tlob.window.duration'), 'spans.outlived', 'elapsed')?.value.sum).toBe(
        (result?.elapsedNs ?? 0) / 1e9,
      );
      // in 'child' and 'over-budget', the window's own span is made all the same, under the ended one
      const children = finished('spans.outlived');
      expect(children.map((c) => c.parentSpanContext?.spanId)).toEqual(
        mode === 'attributes' ? [] : [request?.spanContext().spanId],
      );
    },
  );

  it('a window that outlives its span: with a Logs API provider, the violation is still a log record correlated with it', async () => {
    start({ spans: 'attributes', loggerProvider: t.sdk.loggerProvider });
    const warnings = await sdkWarnings(async () => {
      await outlivingWindow('spans.outlived-logged');
    });
    expect(warnings).toEqual([]);
    const [request] = finished('request');
    const records = t.sdk.logExporter.getFinishedLogRecords();
    expect(
      records.map((r) => [r.eventName, r.attributes['tlob.window.name'], r.spanContext?.spanId]),
    ).toEqual([['tlob.budget.violation', 'spans.outlived-logged', request?.spanContext().spanId]]);
    expect(request?.attributes).toEqual({});
  });

  it('without a tracerProvider, child spans follow the global TracerProvider as it is replaced', async () => {
    const first = new InMemorySpanExporter();
    const second = new InMemorySpanExporter();
    const provider = (exporter: InMemorySpanExporter) =>
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    try {
      trace.setGlobalTracerProvider(provider(first));
      t.exporter = otel({ spans: 'child', metrics: false });
      await inRequest(() => window('spans.global', '1s', 0, 1));
      trace.disable();
      trace.setGlobalTracerProvider(provider(second));
      await inRequest(() => window('spans.global', '1s', 0, 1));
      const names = (exporter: InMemorySpanExporter) => exporter.getFinishedSpans().map((s) => s.name);
      expect(names(first)).toEqual(['spans.global']);
      expect(names(second)).toEqual(['spans.global']);
      expect(finished('request')).toHaveLength(2);
    } finally {
      trace.disable();
    }
  });

  it("'none', and windows outside any span, touch no span", async () => {
    start({ spans: 'none' });
    await inRequest(() => window('spans.none', '2ms', 0, 10));
    expect(finished('request')[0]?.attributes).toEqual({});
    expect(finished('request')[0]?.events).toEqual([]);
    t.exporter?.disable();
    start({ spans: 'child' });
    await window('spans.outside', '2ms', 0, 10);
    expect(finished('spans.outside')).toHaveLength(0);
  });

  it('a violation is a span event recorded when it happens, with the split and state at that moment', async () => {
    start({ spans: 'attributes' });
    await retry(3, async () => {
      t.sdk.spanExporter.reset();
      let budgetEnd = 0;
      let eventsAtExpiry: unknown[] = [];
      await inRequest((span) =>
        tlob.run('spans.violation', { budget: '10ms' }, async () => {
          budgetEnd = performance.timeOrigin + performance.now() + 10;
          await sleep(40);
          // the window has not stopped yet: the event is already on the live span
          eventsAtExpiry = [...(span as unknown as ReadableSpan).events];
        }),
      );
      expect(eventsAtExpiry).toHaveLength(1);
      const [request] = finished('request');
      const [event] = request?.events ?? [];
      expect(event?.name).toBe('tlob.budget.violation');
      const at = (event?.time[0] ?? 0) * 1e3 + (event?.time[1] ?? 0) / 1e6;
      expect(Math.abs(at - budgetEnd)).toBeLessThan(5);
      expect(event?.attributes).toMatchObject({
        'tlob.window.name': 'spans.violation',
        'tlob.window.state': 'sleeping',
        'tlob.violation.event': 'budget_expired',
        'tlob.window.budget': 0.01,
      });
      const a = (key: string) => (event?.attributes?.[key] as number | undefined) ?? Number.NaN;
      expect(a('tlob.window.elapsed')).toBeGreaterThanOrEqual(0.01);
      const split = a('tlob.window.running') + a('tlob.window.waiting') + a('tlob.window.sleeping');
      expect(split).toBeCloseTo(a('tlob.window.elapsed'), 5);
      expect(request?.attributes['tlob.window.over_budget']).toBe(true);
    });
  });

  it('a violation found late carries how late, and what found it', async () => {
    start({ spans: 'attributes' });
    const violations: Violation[] = [];
    const off = tlob.subscribe('error', (v) => violations.push(v as Violation));
    try {
      // the budget timer is due at 5 ms and runs after the 30 ms spin: found about 25 ms late
      await inRequest(() =>
        tlob.run('spans.late-found', { budget: '5ms' }, async () => {
          await sleep(1);
          spin(30);
          await sleep(1);
        }),
      );
    } finally {
      off();
    }
    const [violation] = violations;
    expect(violation?.reportedLateNs).toBeGreaterThan(0);
    const [event] = finished('request')[0]?.events ?? [];
    expect(event?.attributes?.['tlob.violation.reported_late']).toBe((violation?.reportedLateNs ?? 0) / 1e9);
    expect(event?.attributes?.['tlob.violation.detected_by']).toBeUndefined();
  });

  it('a violation the watchdog caught in a blocked thread says so', () =>
    retry(3, async () => {
      t.sdk.spanExporter.reset();
      start({ spans: 'attributes' });
      tlob.watchdog({ stacks: false });
      try {
        await tlob.run('spans.warmup', { budget: '1s' }, () => sleep(1));
        while (!tlob.watchdog().running) await sleep(5);
        await inRequest(() => tlob.run('spans.blocked', { budget: '20ms' }, () => spin(200)));
      } finally {
        tlob.watchdog(false);
      }
      const [event] = finished('request')[0]?.events ?? [];
      expect(event?.attributes).toMatchObject({
        'tlob.window.name': 'spans.blocked',
        'tlob.violation.detected_by': 'watchdog',
      });
      expect(event?.attributes?.['tlob.violation.reported_late']).toBeGreaterThan(0);
    }));

  it('with a Logs API provider, a violation is a log-based event correlated with the span instead', async () => {
    start({ spans: 'attributes', loggerProvider: t.sdk.loggerProvider });
    await retry(3, async () => {
      t.sdk.spanExporter.reset();
      t.sdk.logExporter.reset();
      let spanId = '';
      // from before the window opens to after it yielded on its 15 ms timer: the window sleeps at its
      // 3 ms deadline only if this was shorter (a loop late past both timers still finds it asleep
      // at the deadline; a thread kept from a CPU for 3 ms before the yield finds it running)
      let setUp = 0;
      await inRequest(async (span) => {
        spanId = span.spanContext().spanId;
        const before = performance.now();
        const done = window('spans.logged', '3ms', 0, 15);
        setUp = performance.now() - before;
        await done;
      });
      if (setUp >= 3) throw new Error(`the window yielded ${setUp} ms after it opened, past its 3 ms budget`);
      const [request] = finished('request');
      expect(request?.events).toEqual([]);
      const records = t.sdk.logExporter.getFinishedLogRecords();
      expect(records).toHaveLength(1);
      expect(records[0]?.eventName).toBe('tlob.budget.violation');
      expect(records[0]?.spanContext?.spanId).toBe(spanId);
      expect(records[0]?.severityText).toBe('WARN');
      expect(records[0]?.attributes['tlob.window.state']).toBe('sleeping');
      expect(records[0]?.instrumentationScope.name).toBe('tlob');
    });
  });

  it("'none' with a Logs API provider: violations are still log-based events, with no span", async () => {
    start({ spans: 'none', loggerProvider: t.sdk.loggerProvider });
    await inRequest(() => window('spans.none-logged', '3ms', 0, 15));
    const records = t.sdk.logExporter.getFinishedLogRecords();
    expect(records.map((r) => [r.eventName, r.attributes['tlob.window.name']])).toEqual([
      ['tlob.budget.violation', 'spans.none-logged'],
    ]);
    expect(records[0]?.spanContext).toBeUndefined();
    expect(finished('request')[0]?.attributes).toEqual({});
  });

  it.each([
    ['a window opened outside any span', 'attributes', false],
    ["'none', a window opened inside the span", 'none', true],
  ] as const)(
    'a violation found while a span is active that the window has no tie to is logged with no span: %s',
    async (_, spans, openInside) => {
      start({ spans, loggerProvider: t.sdk.loggerProvider });
      let w = openInside ? undefined : tlob.start({ budget: '1ms', name: 'spans.untied' });
      // the stop finds the violation (no timer runs during the spin) in the request's context
      await inRequest(() => {
        w ??= tlob.start({ budget: '1ms', name: 'spans.untied' });
        spin(3);
        w.stop();
      });
      const records = t.sdk.logExporter.getFinishedLogRecords();
      expect(records.map((r) => [r.eventName, r.attributes['tlob.violation.event']])).toEqual([
        ['tlob.budget.violation', 'stop'],
      ]);
      expect(records[0]?.spanContext).toBeUndefined();
    },
  );

  it('the active span comes from the caller of tlob.start too, and nested windows each get their own child', async () => {
    start({ spans: 'child' });
    await inRequest(async () => {
      const outer = tlob.start({ budget: '1s', name: 'spans.outer' });
      await tlob.run('spans.inner', { budget: '1s' }, () => sleep(2));
      outer.stop();
    });
    const [request] = finished('request');
    expect(finished('spans.outer')[0]?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(finished('spans.inner')[0]?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
